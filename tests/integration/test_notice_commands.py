"""`crieur notices` and `crieur broadcast`, called as the command line does."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.messages import Address
from bot.store import Store
from bot.subscriptions import Subscriptions

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRIEUR_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "crieur.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "crieur.db"}"\n', encoding="utf-8")

    async def residents() -> None:
        store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
        subscriptions = Subscriptions(store)
        now = datetime.now(PARIS)
        for number in range(3):
            address = Address("inprocess", str(number))
            await subscriptions.subscribe(address, "alertes", now, "/abonner alertes")
        await subscriptions.subscribe(Address("inprocess", "0"), "collecte", now, "t", "vallee")
        await store.close()

    asyncio.run(residents())
    return path


def test_notices_json_for_the_christmas_week(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["notices", "--from", "2026-12-21", "--to", "2026-12-27", "--json"])
    assert status == 0
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert items and all({"at", "topic", "zone", "text"} <= item.keys() for item in items)
    shift = [i for i in items if i["zone"] == "vallee" and "décalée" in i["text"]]
    assert shift and shift[0]["at"] == "2026-12-23T19:00:00+01:00"
    assert any(item["zone"] is None for item in items)  # the agenda concerns every zone


def test_notices_filters_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notices", "--from", "2026-12-21", "--to", "2026-12-27", "--json",
                 "--zone", "bourg", "--topic", "collecte"]) == 0  # fmt: skip
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert items and {item["zone"] for item in items} == {"bourg"}
    assert main(["notices", "--from", "2026-12-21", "--to", "2026-12-27", "--zone", "x"]) == 2
    assert "secteur inconnu" in capsys.readouterr().err
    assert main(["notices", "--from", "2026-12-27", "--to", "2026-12-21"]) == 2
    assert main(["notices", "--from", "demain", "--to", "2026-12-21"]) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--topic", "alertes", "   "], "vide"),
        (["--topic", "piscine", "Fermée"], "thème inconnu"),
        (["--topic", "alertes", "--zone", "atlantide", "Coupure"], "secteur inconnu"),
        (["--topic", "alertes", "--at", "2020-01-01T10:00", "Coupure"], "passée"),
        (["--topic", "alertes", "--at", "mardi", "Coupure"], "--at invalide"),
        (["Coupure"], "--topic"),
    ],
)
def test_bad_broadcasts_are_refused(
    config: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["broadcast", "--config", str(config), "--yes", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_broadcast_now_goes_to_the_outbox(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["broadcast", "--config", str(config), "--topic", "alertes", "--yes",
                   "--no-wait", "--author", "agent-test", "Coupure rue des Halles"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and "3 abonné(s)" in out and "n° 1" in out
    assert main(["broadcast", "--config", str(config), "--list"]) == 0
    log = capsys.readouterr().out
    assert "agent-test" in log and "published" in log and "Coupure rue" in log


def test_broadcast_to_a_zone_reaches_only_its_residents(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["broadcast", "--config", str(config), "--topic", "alertes", "--zone",
                   "vallee", "--yes", "--no-wait", "Travaux quai de l'Arvelle"])  # fmt: skip
    assert status == 0 and "1 abonné(s)" in capsys.readouterr().out


def test_scheduled_broadcast_can_be_cancelled(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = (datetime.now(PARIS) + timedelta(days=2)).replace(microsecond=0).isoformat()
    status = main(["broadcast", "--config", str(config), "--topic", "alertes", "--at", later,
                   "--yes", "Réunion publique"])  # fmt: skip
    assert status == 0 and "programmée" in capsys.readouterr().out
    assert main(["broadcast", "--config", str(config), "--cancel", "1"]) == 0
    assert main(["broadcast", "--config", str(config), "--cancel", "1"]) == 2
    assert "aucune annonce programmée" in capsys.readouterr().err


def test_without_a_terminal_confirmation_is_required(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    status = main(["broadcast", "--config", str(config), "--topic", "alertes", "Coupure"])
    assert status == 1
    assert "--yes" in capsys.readouterr().err
