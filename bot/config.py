"""Configuration: one TOML file, every key overridable by `CRIEUR_<SECTION>_<KEY>`.

Secrets come from the environment. An unknown or malformed key is an error that names it;
without any file, Crieur serves its example pack on 127.0.0.1:8080 with a SQLite store.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import time
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ENV_PREFIX = "CRIEUR_"
ENV_CONFIG = "CRIEUR_CONFIG"
ENV_DATA_DIR = "CRIEUR_DATA_DIR"
ENV_TENANT_PREFIX = "CRIEUR_TENANT_"  # CRIEUR_TENANT_<COMMUNE>_<SECTION>_<KEY>: see bot.tenants


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackSection(_Section):
    """Which knowledge pack to serve."""

    path: Path | None = None


class StorageSection(_Section):
    """Where the store lives, as an SQLAlchemy URL (and, on PostgreSQL, which schema)."""

    url: str | None = None
    # PostgreSQL schema holding the tables (default: the server's search_path, "public")
    schema_name: str | None = Field(
        default=None, alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$"
    )


class WebSection(_Section):
    """The HTTP server: web chat, API and (later) webhooks."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=16_384, ge=1_024, le=10_000_000)
    # sites allowed to embed the widget and call /api/chat from their pages (CORS)
    allowed_origins: tuple[str, ...] = ()
    # /api/chat requests per minute: per chat session and per client IP (then 429)
    session_rate_per_minute: int = Field(default=30, ge=1, le=100_000)
    ip_rate_per_minute: int = Field(default=120, ge=1, le=1_000_000)
    # the public URL of this server (for links in notices and the widget tag shown to agents)
    public_url: str | None = None
    # with several communes ([tenants] dir): this commune's address is /t/<widget_key>/
    widget_key: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """From the environment, a list is written "https://a.fr,https://b.fr"."""
        if isinstance(value, str):
            return tuple(item.strip().rstrip("/") for item in value.split(",") if item.strip())
        return value


class TelegramSection(_Section):
    """The Telegram bot: enabled when a token is given (from the environment)."""

    token: str | None = None
    base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_path: str = Field(default="/webhooks/telegram", pattern=r"^/[A-Za-z0-9/_-]*$")
    secret_token: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    rate_per_second: float = Field(default=30.0, gt=0, le=1000)

    @model_validator(mode="after")
    def _webhook_needs_its_url_and_secret(self) -> TelegramSection:
        if self.token and self.mode == "webhook" and not (self.webhook_url and self.secret_token):
            raise ValueError("le mode webhook demande webhook_url et secret_token")
        return self


class WhatsappSection(_Section):
    """The WhatsApp Business number: enabled when `phone_number_id` and the secrets are set."""

    phone_number_id: str | None = None
    access_token: str | None = None  # from the environment
    app_secret: str | None = None  # from the environment
    verify_token: str | None = None  # from the environment
    graph_url: str = "https://graph.facebook.com/v21.0"
    webhook_path: str = Field(default="/webhooks/whatsapp", pattern=r"^/[A-Za-z0-9/_-]*$")
    templates: dict[str, str] = Field(default_factory=dict)  # notice kind → template name
    template_language: str = "fr"
    rate_per_second: float = Field(default=80.0, gt=0, le=1000)

    @model_validator(mode="after")
    def _secrets_with_the_number(self) -> WhatsappSection:
        missing = [
            name
            for name in ("access_token", "app_secret", "verify_token")
            if self.phone_number_id and not getattr(self, name)
        ]
        if missing:
            raise ValueError("il manque " + ", ".join(missing) + " (variables d'environnement)")
        return self


class MatrixSection(_Section):
    """The Matrix bot account: enabled when homeserver, user_id and a secret are set."""

    homeserver: str | None = None
    user_id: str | None = None
    access_token: str | None = None  # from the environment
    password: str | None = None  # from the environment (its token is then kept in the store)
    device_id: str | None = None
    device_name: str = "Crieur"
    store_path: Path | None = None  # end-to-end keys; default: <data dir>/matrix
    allowed_servers: tuple[str, ...] = ()  # whose invites are accepted; () = the bot's own
    rate_per_second: float = Field(default=5.0, gt=0, le=1000)

    @field_validator("allowed_servers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @model_validator(mode="after")
    def _account_complete(self) -> MatrixSection:
        if self.homeserver and not (self.user_id and (self.access_token or self.password)):
            raise ValueError("il faut user_id et access_token ou password (environnement)")
        return self


class WebpushSection(_Section):
    """Browser notifications (Web Push): the VAPID key is created in the data directory."""

    enabled: bool = True
    key_path: Path | None = None  # default: <data dir>/webpush-vapid.pem
    contact: str | None = None  # default: the pack's contact e-mail
    click_url: str | None = None  # default: [web] public_url, else "/"
    ttl_seconds: int = Field(default=43_200, ge=0, le=2_419_200)
    rate_per_second: float = Field(default=50.0, gt=0, le=10_000)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    push_hosts: tuple[str, ...] | None = None  # default: the browsers' push services
    allow_insecure_endpoints: bool = False  # tests only: http://127.0.0.1 endpoints

    @field_validator("push_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value


class LogSection(_Section):
    """Log lines of `crieur run`: text for people, json for log collectors."""

    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class PrivacySection(_Section):
    """How long questions and delivery traces are kept before they are purged."""

    retention_days: int = Field(default=30, ge=1, le=3650)


class NoticesSection(_Section):
    """When scheduled notices go out (the commune's local time) and the quiet hours."""

    collection: time = time(19, 0)
    shift: time = time(19, 0)
    shift_days_before: int = Field(default=2, ge=0, le=14)
    menu: time = time(7, 30)
    event: time = time(18, 0)
    event_days_before: int = Field(default=1, ge=0, le=14)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    horizon_days: int = Field(default=2, ge=1, le=31)


class OutboxSection(_Section):
    """Delivery: batch size, retries, and a rate limit overriding the channel's own."""

    rate_per_second: float | None = Field(default=None, gt=0, le=10_000)
    batch: int = Field(default=200, ge=1, le=10_000)
    max_attempts: int = Field(default=8, ge=1, le=100)
    lease_seconds: float = Field(default=120.0, ge=5, le=3600)


class TenantsSection(_Section):
    """Several communes in one process: one `<commune>.toml` file per commune in `dir`."""

    dir: Path | None = None
    poll_seconds: float = Field(default=10.0, ge=1, le=3600)  # how often `dir` is re-read


class Settings(_Section):
    """The whole configuration."""

    pack: PackSection = PackSection()
    storage: StorageSection = StorageSection()
    web: WebSection = WebSection()
    telegram: TelegramSection = TelegramSection()
    webpush: WebpushSection = WebpushSection()
    whatsapp: WhatsappSection = WhatsappSection()
    matrix: MatrixSection = MatrixSection()
    notices: NoticesSection = NoticesSection()
    privacy: PrivacySection = PrivacySection()
    log: LogSection = LogSection()
    outbox: OutboxSection = OutboxSection()
    tenants: TenantsSection = TenantsSection()
    data_dir: Path | None = None

    def pack_path(self) -> Path:
        if self.pack.path is not None:
            return self.pack.path
        return example_pack_path()

    def data_path(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(xdg) / "crieur"

    def storage_url(self) -> str:
        return self.storage.url or f"sqlite:///{self.data_path() / 'crieur.db'}"


def example_pack_path() -> Path:
    """The example pack shipped inside the package."""
    return Path(str(files("knowledge").joinpath("example")))


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    sections = {name for name in Settings.model_fields if name != "data_dir"}
    result: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in (ENV_CONFIG, ENV_DATA_DIR):
            continue
        if name.startswith(ENV_TENANT_PREFIX):
            continue
        rest = name.removeprefix(ENV_PREFIX).lower()
        section, _, key = rest.partition("_")
        if section not in sections or not key:
            raise ConfigError(f"variable d'environnement inconnue : {name}")
        result.setdefault(section, {})[key] = value
    return result


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate."""
    env = os.environ if env is None else env
    source = str(path or env.get(ENV_CONFIG) or "")
    data = read_toml(source) if source else {}
    merge_sections(data, _env_overrides(env))
    if env.get(ENV_DATA_DIR):
        data["data_dir"] = env[ENV_DATA_DIR]
    settings = validate_settings(data, source or "configuration")
    base = Path(source).parent if source else None
    if base is not None and settings.tenants.dir is not None:
        tenants = settings.tenants.model_copy(update={"dir": base / settings.tenants.dir})
        settings = settings.model_copy(update={"tenants": tenants})
    return with_relative_pack(settings, base)


def read_toml(source: str | Path) -> dict[str, Any]:
    """A TOML file's tables; ConfigError naming the file if it cannot be read."""
    try:
        return tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source} : lecture impossible ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} : TOML invalide ({exc})") from exc


def merge_sections(data: dict[str, Any], sections: Mapping[str, Mapping[str, Any]]) -> None:
    """Lay `sections` over `data`, key by key within each section."""
    for section, values in sections.items():
        target = data.setdefault(section, {})
        if isinstance(target, dict):
            target.update(values)


def validate_settings(
    data: Mapping[str, Any], where: str, env_prefix: str = ENV_PREFIX
) -> Settings:
    """The settings `data` describes; ConfigError naming `where` and every bad key."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(_describe(error, env_prefix) for error in exc.errors())
        raise ConfigError(f"{where} : {details}") from exc


def with_relative_pack(settings: Settings, base: Path | None) -> Settings:
    """A relative `[pack] path` is read from the configuration file's folder."""
    if settings.pack.path is not None and not settings.pack.path.is_absolute() and base:
        return settings.model_copy(update={"pack": PackSection(path=base / settings.pack.path)})
    return settings


def env_sections(env: Mapping[str, str], prefix: str) -> dict[str, dict[str, str]]:
    """`<prefix><SECTION>_<KEY>` variables as {section: {key: value}} (unchecked)."""
    result: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if name.startswith(prefix):
            section, _, key = name.removeprefix(prefix).lower().partition("_")
            if section and key:
                result.setdefault(section, {})[key] = value
    return result


def _describe(error: Any, env_prefix: str = ENV_PREFIX) -> str:
    key = ".".join(str(part) for part in error["loc"])
    env_name = env_prefix + "_".join(str(part) for part in error["loc"]).upper()
    if error["type"] == "extra_forbidden":
        return f"clé inconnue [{key}] (ou {env_name})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"clé [{key}] (ou {env_name}) : {message}"
