"""GDPR tools and SQLite backups: export, erase, purge, registre, backup and restore."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.messages import Address
from bot.privacy import purge
from bot.question_recorder import QuestionRecorder
from bot.store import Store
from bot.store.schema import questions
from bot.subscriptions import Subscriptions

RESIDENT = Address("telegram", "4242")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRIEUR_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "crieur.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "crieur.db"}"\n', encoding="utf-8")

    async def resident() -> None:
        store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
        subscriptions = Subscriptions(store)
        now = datetime.now(UTC)
        await subscriptions.subscribe(RESIDENT, "collecte", now, "/abonner collecte rue X",
                                      "hauts", "rue des Genêts")  # fmt: skip
        await subscriptions.subscribe(Address("telegram", "7"), "alertes", now, "/abonner")
        await store.close()

    asyncio.run(resident())
    return path


def test_export_then_erase_an_address(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gdpr", "export", "telegram:4242", "--config", str(config)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["abonnements"][0]["rue"] == "rue des Genêts"
    assert exported["consentements"][0]["mots"] == "/abonner collecte rue X"
    assert main(["gdpr", "erase", "telegram:4242", "--config", str(config)]) == 0
    assert main(["gdpr", "export", "telegram:4242", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out.split("effacée.\n")[-1])["abonne"] is None
    assert main(["gdpr", "erase", "telegram:4242", "--config", str(config)]) == 1
    assert main(["gdpr", "erase", "pas-une-adresse", "--config", str(config)]) == 2


def test_the_registre_names_purposes_data_and_retention(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gdpr", "registre", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "Morvelay" in text and "Finalités" in text and "30 jours" in text


async def test_old_questions_are_purged(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    recorder = QuestionRecorder(store)
    now = datetime.now(UTC)
    recorder.record(now - timedelta(days=40), "web", "vieille question", False, None, 0.1)
    recorder.record(now - timedelta(days=2), "web", "question récente", True, "mairie", 0.9)
    await recorder.flush()
    deleted = await purge(store, now, 30)
    assert deleted["questions"] == 1
    async with store.connect() as connection:
        kept = (await connection.execute(select(questions.c.text))).scalars().all()
        assert kept == ["question récente"]
        assert await connection.scalar(select(func.count()).select_from(questions)) == 1
    await store.close()


def test_backup_and_restore(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sauvegarde.db"
    assert main(["backup", str(target), "--config", str(config)]) == 0
    assert main(["backup", str(target), "--config", str(config)]) == 2  # never overwritten
    assert main(["gdpr", "erase", "telegram:4242", "--config", str(config)]) == 0
    assert main(["restore", str(target), "--config", str(config)]) == 0
    with sqlite3.connect(tmp_path / "crieur.db") as connection:
        count = connection.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    assert count == 2
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"pas une base")
    assert main(["restore", str(junk), "--config", str(config)]) == 2
    assert "n'est pas une sauvegarde" in capsys.readouterr().err
