"""`crieur admin create-user` and `reset-password`: accounts made from the command line."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.agents import Agents
from bot.cli import main
from bot.store import Store


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "crieur.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "crieur.db"}"\n', encoding="utf-8")
    return path


def _login(config: Path, username: str, password: str) -> str:
    url = config.read_text(encoding="utf-8").split('"')[1]

    async def check() -> str:
        store = await Store.open(url)
        try:
            agent = await Agents(store).authenticate(username, password)
            return agent.role
        finally:
            await store.close()

    return asyncio.run(check())


def test_create_user_from_stdin(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("un-mot-de-passe-solide\n"))
    code = main(["admin", "create-user", "Marie.Dupont", "--role", "admin", "--config",
                 str(config), "--password-stdin"])  # fmt: skip
    assert code == 0
    assert "Compte « marie.dupont » créé (rôle : administrateur)." in capsys.readouterr().out
    assert _login(config, "marie.dupont", "un-mot-de-passe-solide") == "admin"

    monkeypatch.setattr("sys.stdin", io.StringIO("un-autre-mot-de-passe\n"))
    code = main(["admin", "create-user", "marie.dupont", "--config", str(config),
                 "--password-stdin"])  # fmt: skip
    assert code == 1
    assert "l'identifiant « marie.dupont » existe déjà" in capsys.readouterr().err


def test_create_user_reads_the_password_twice_from_the_terminal(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["mot-de-passe-agent", "mot-de-passe-agent"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(["admin", "create-user", "paul", "--config", str(config)]) == 0
    assert prompts == ["Mot de passe : ", "Mot de passe (confirmation) : "]
    assert _login(config, "paul", "mot-de-passe-agent") == "agent"

    different = iter(["mot-de-passe-un", "mot-de-passe-deux"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(different))
    assert main(["admin", "create-user", "jean", "--config", str(config)]) == 1
    assert "pas identiques" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("lea", "court", "mot de passe trop court : 10 caractères au moins"),
        ("Léa Dupont", "assez-long-pour-passer", "identifiant invalide"),
        ("x", "assez-long-pour-passer", "identifiant invalide"),
    ],
)
def test_create_user_refuses_weak_passwords_and_bad_names(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    username: str,
    password: str,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code = main(["admin", "create-user", username, "--config", str(config), "--password-stdin"])
    assert code == 1
    assert message in capsys.readouterr().err


def test_reset_password_unlocks_the_account(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("premier-mot-de-passe\n"))
    main(["admin", "create-user", "anne", "--config", str(config), "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("second-mot-de-passe\n"))
    code = main(["admin", "reset-password", "anne", "--config", str(config), "--password-stdin"])
    assert code == 0
    assert _login(config, "anne", "second-mot-de-passe") == "agent"
    monkeypatch.setattr("sys.stdin", io.StringIO("second-mot-de-passe\n"))
    code = main(
        ["admin", "reset-password", "personne", "--config", str(config), "--password-stdin"]
    )
    assert code == 1 and "aucun compte « personne »" in capsys.readouterr().err
