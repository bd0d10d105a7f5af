"""Several communes in one process: each `<commune>.toml` file in `[tenants] dir` is a tenant.

A commune's file holds what is its own: `[pack]`, `[web]` (its widget key, the sites that
embed its widget), its channels' accounts (`[telegram]`, `[whatsapp]`, `[matrix]`,
`[webpush]`), `[notices]`, `[privacy]` and `[outbox]`. The process's file gives the defaults
and what is shared: the storage server, the address served, the logs. Secrets come from
`CRIEUR_TENANT_<COMMUNE>_<SECTION>_<KEY>` variables (the commune's id in capitals, "-" as "_").

Each commune gets its own data folder and its own store (a SQLite file in that folder, or
its own schema in the shared PostgreSQL database), so that nothing one commune's agents can
reach belongs to another. A broken file is refused with the commune and the key named; the
other communes are served regardless.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import (
    ENV_TENANT_PREFIX,
    ConfigError,
    Settings,
    env_sections,
    load_settings,
    merge_sections,
    read_toml,
    validate_settings,
    with_relative_pack,
)

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
OWN_SECTIONS = frozenset(
    {"pack", "web", "telegram", "whatsapp", "matrix", "webpush", "notices", "privacy", "outbox"}
)
NOT_INHERITED = frozenset({"pack", "telegram", "whatsapp", "matrix"})  # never another's account
SHARED_WEB_KEYS = frozenset({"host", "port", "max_body_bytes"})  # one server for all
OWN_WEB_KEYS = frozenset({"widget_key", "allowed_origins", "public_url"})


@dataclass(frozen=True, slots=True)
class Tenant:
    """One commune served by the process, as its file describes it."""

    id: str
    key: str  # its widget key: the commune is served under /t/<key>/
    settings: Settings
    source: Path
    stamp: tuple[int, int]  # the file's mtime and size, to notice edits


@dataclass(frozen=True, slots=True)
class RefusedTenant:
    """A commune whose file cannot be used; the others are served regardless."""

    id: str
    source: Path
    reason: str


def tenant_files(base: Settings) -> list[Path]:
    """The communes' files, in name order; none without `[tenants] dir`."""
    folder = base.tenants.dir
    if folder is None:
        return []
    if not folder.is_dir():
        raise ConfigError(f"[tenants] dir : dossier introuvable : {folder}")
    return sorted(folder.glob("*.toml"))


def read_tenants(
    base: Settings, env: Mapping[str, str] | None = None, serving: Mapping[str, str] | None = None
) -> tuple[list[Tenant], list[RefusedTenant]]:
    """Every commune of `[tenants] dir`: those to serve, and those refused with the reason.

    Two communes claiming one widget key: the one `serving` it already (commune id → key)
    keeps it, otherwise the first by name; the other is refused.
    """
    env = os.environ if env is None else env
    serving = serving or {}
    valid: list[Tenant] = []
    refused: list[RefusedTenant] = []
    for path in tenant_files(base):
        try:
            valid.append(read_tenant(base, path, env))
        except ConfigError as exc:
            refused.append(RefusedTenant(path.stem, path, str(exc)))
    owners: dict[str, str] = {}
    tenants: list[Tenant] = []
    for tenant in sorted(valid, key=lambda t: (serving.get(t.id) != t.key, t.id)):
        if tenant.key in owners:
            reason = (
                f"{tenant.source} : clé [web.widget_key] « {tenant.key} » déjà prise par la "
                f"commune « {owners[tenant.key]} »"
            )
            refused.append(RefusedTenant(tenant.id, tenant.source, reason))
            continue
        owners[tenant.key] = tenant.id
        tenants.append(tenant)
    return sorted(tenants, key=lambda t: t.id), sorted(refused, key=lambda r: r.id)


def command_settings(config: str | Path | None, tenant_id: str | None) -> Settings:
    """The settings a command acts on: the process's, or with `--tenant` one commune's."""
    base = load_settings(config)
    return tenant_settings(base, tenant_id) if tenant_id else base


def tenant_settings(
    base: Settings, tenant_id: str, env: Mapping[str, str] | None = None
) -> Settings:
    """One commune's settings, for the commands that act on one commune (`--tenant`)."""
    folder = base.tenants.dir
    if folder is None:
        raise ConfigError("--tenant demande [tenants] dir dans la configuration")
    path = folder / f"{tenant_id}.toml"
    if not TENANT_ID.match(tenant_id) or not path.is_file():
        raise ConfigError(f"commune inconnue : {tenant_id} (pas de fichier {path})")
    return read_tenant(base, path, os.environ if env is None else env).settings


def read_tenant(base: Settings, path: Path, env: Mapping[str, str]) -> Tenant:
    """The commune `path` describes, laid over the process's settings; ConfigError if bad."""
    tenant_id = path.stem
    if not TENANT_ID.match(tenant_id):
        raise ConfigError(
            f"{path} : nom de commune invalide « {tenant_id} » (minuscules, chiffres et tirets)"
        )
    own = read_toml(path)
    for section, values in own.items():
        if section not in OWN_SECTIONS:
            raise ConfigError(
                f"{path} : [{section}] se règle pour tout le serveur, pas par commune"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{path} : [{section}] doit être une table")
    shared = SHARED_WEB_KEYS & own.get("web", {}).keys()
    if shared:
        raise ConfigError(
            f"{path} : [web] {', '.join(sorted(shared))} se règle pour tout le serveur"
        )
    env_prefix = f"{ENV_TENANT_PREFIX}{tenant_id.upper().replace('-', '_')}_"
    from_env = env_sections(env, env_prefix)
    unknown = from_env.keys() - OWN_SECTIONS
    if unknown:
        names = ", ".join(f"{env_prefix}{section.upper()}_…" for section in sorted(unknown))
        raise ConfigError(f"variable d'environnement inconnue : {names}")

    data = _defaults_from(base, tenant_id)
    merge_sections(data, own)
    merge_sections(data, from_env)
    if "pack" not in own or "path" not in own["pack"]:
        raise ConfigError(f"{path} : clé [pack] path manquante (le dossier de la commune)")
    settings = with_relative_pack(validate_settings(data, str(path), env_prefix), path.parent)
    key = settings.web.widget_key or tenant_id
    if settings.web.public_url is None and base.web.public_url:
        web = settings.web.model_copy(
            update={"public_url": f"{base.web.public_url.rstrip('/')}/t/{key}"}
        )
        settings = settings.model_copy(update={"web": web})
    stat = path.stat()
    return Tenant(tenant_id, key, settings, path, (stat.st_mtime_ns, stat.st_size))


def _defaults_from(base: Settings, tenant_id: str) -> dict[str, Any]:
    """The process's settings a commune starts from: shared sections, never another's
    accounts, and its own data folder and store."""
    data: dict[str, Any] = {
        name: value
        for name, value in base.model_dump(by_alias=True, exclude_none=True).items()
        if name not in NOT_INHERITED and name != "tenants"
    }
    data["web"] = {k: v for k, v in data["web"].items() if k not in OWN_WEB_KEYS}
    data["webpush"] = {k: v for k, v in data["webpush"].items() if k != "key_path"}
    data["data_dir"] = base.data_path() / "tenants" / tenant_id
    storage: dict[str, Any] = {}
    if (base.storage.url or "").split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        storage = {"url": base.storage.url, "schema": "commune_" + tenant_id.replace("-", "_")}
    data["storage"] = storage  # otherwise a SQLite file in the commune's data folder
    return data
