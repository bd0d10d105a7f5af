"""Configuration: defaults, TOML file, environment overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, example_pack_path, load_settings
from bot.tenants import read_tenant


def test_defaults_serve_the_example_pack_on_loopback(tmp_path: Path) -> None:
    settings = load_settings(env={"CRIEUR_DATA_DIR": str(tmp_path)})
    assert settings.pack_path() == example_pack_path()
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8080)
    assert settings.storage_url() == f"sqlite:///{tmp_path / 'crieur.db'}"


def test_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "crieur.toml"
    config.write_text('[pack]\npath = "mon-pack"\n[web]\nport = 9000\n', encoding="utf-8")
    settings = load_settings(config, env={"CRIEUR_WEB_HOST": "0.0.0.0", "CRIEUR_WEB_PORT": "9001"})
    assert settings.pack_path() == tmp_path / "mon-pack"
    assert (settings.web.host, settings.web.port) == ("0.0.0.0", 9001)
    settings = load_settings(env={"CRIEUR_CONFIG": str(config)})
    assert settings.web.port == 9000


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("[web]\nprot = 8080\n", {}, "[web.prot]"),
        ("[webb]\nport = 8080\n", {}, "[webb]"),
        ("[web]\nport = 'huit'\n", {}, "[web.port]"),
        ("", {"CRIEUR_WEB_PORTE": "1"}, "[web.porte]"),
        ("", {"CRIEUR_TELEGRAMME_TOKEN": "x"}, "CRIEUR_TELEGRAMME_TOKEN"),
        ("[web\n", {}, "TOML invalide"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], named: str) -> None:
    config = tmp_path / "crieur.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env=env)
    assert named in str(raised.value)


def test_the_documented_example_configuration_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "deploy" / "crieur.example.toml", env={})
    assert settings.web.port == 8080 and settings.storage.url


def test_the_documented_commune_file_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    base = load_settings(root / "deploy" / "crieur.example.toml", env={})
    env = {"CRIEUR_TENANT_MORVELAY_TELEGRAM_TOKEN": "123:abc"}
    tenant = read_tenant(base, root / "deploy" / "communes" / "morvelay.toml", env)
    assert tenant.key == "morvelay" and tenant.settings.telegram.token == "123:abc"
    assert tenant.settings.web.allowed_origins == ("https://www.morvelay.fr",)
    assert tenant.settings.web.port == base.web.port  # the server's own, shared
    assert tenant.settings.web.public_url is None  # the example sets no public_url
    with_url = base.model_copy(
        update={"web": base.web.model_copy(update={"public_url": "https://bot.example/"})}
    )
    tenant = read_tenant(with_url, root / "deploy" / "communes" / "morvelay.toml", env)
    assert tenant.settings.web.public_url == "https://bot.example/t/morvelay"
