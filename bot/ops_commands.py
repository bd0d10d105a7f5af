"""`crieur gdpr …` (export, erase, registre) and `crieur backup` / `crieur restore` (SQLite)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.privacy import erase, export, parse_address, registre
from bot.store import Store, StoreError
from bot.tenants import command_settings, read_tenants
from knowledge.pack import load_pack


def run(args: argparse.Namespace) -> int:
    settings = command_settings(args.config, args.tenant)
    if args.command == "gdpr":
        if args.action == "registre":
            if settings.tenants.dir is not None and not args.tenant:
                tenants, _ = read_tenants(settings)  # one entry per commune served
                print("\n\n".join(_registre(tenant.settings) for tenant in tenants))
            else:
                print(_registre(settings))
            return 0
        try:
            address = parse_address(args.address)
        except ValueError as exc:
            return _fail("gdpr", str(exc))
        try:
            return asyncio.run(_gdpr(args.action, settings, address))
        except StoreError as exc:
            return _fail("gdpr", str(exc))
    database = _sqlite_file(settings)
    if database is None:
        return _fail(args.command, "sauvegarde réservée à SQLite ; pour PostgreSQL : pg_dump")
    if args.command == "backup":
        return _backup(database, args.target)
    return _restore(database, args.source)


async def _gdpr(action: str, settings: Settings, address: object) -> int:
    from bot.messages import Address

    assert isinstance(address, Address)
    store = await Store.open(settings.storage_url(), schema=settings.storage.schema_name)
    try:
        if action == "export":
            print(json.dumps(await export(store, address), ensure_ascii=False, indent=2))
            return 0
        if await erase(store, address):
            print(f"Adresse {address.channel}:{address.chat_id} effacée.")
            return 0
        print(f"Aucune donnée pour {address.channel}:{address.chat_id}.")
        return 1
    finally:
        await store.close()


def _registre(settings: Settings) -> str:
    commune = load_pack(settings.pack_path()).commune
    channels = ["site web (widget)"]
    if settings.telegram.token:
        channels.append("Telegram")
    if settings.whatsapp.phone_number_id:
        channels.append("WhatsApp")
    if settings.matrix.homeserver:
        channels.append("Matrix")
    if settings.webpush.enabled:
        channels.append("notifications du navigateur")
    contact = commune.contact.email or commune.contact.phone or "la mairie"
    return registre(commune.name, contact, channels, settings.privacy.retention_days)


def _sqlite_file(settings: Settings) -> Path | None:
    url = make_url(settings.storage_url())
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _backup(database: Path, target: Path) -> int:
    if not database.exists():
        return _fail("backup", f"base introuvable : {database}")
    if target.exists():
        return _fail("backup", f"{target} existe déjà")
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)  # consistent even while `crieur run` writes
        copy.close()
    finally:
        source.close()
    print(f"Sauvegarde écrite : {target}")
    return 0


def _restore(database: Path, source: Path) -> int:
    if not _is_crieur_store(source):
        return _fail("restore", f"{source} n'est pas une sauvegarde de Crieur")
    if database.exists():
        live = sqlite3.connect(database, timeout=0.5)
        try:
            live.execute("BEGIN EXCLUSIVE")  # fails while `crieur run` holds the database
            live.rollback()
        except sqlite3.OperationalError:
            return _fail("restore", "la base est utilisée : arrêtez d'abord « crieur run »")
        finally:
            live.close()
    database.parent.mkdir(parents=True, exist_ok=True)
    backup = sqlite3.connect(source)
    try:
        target = sqlite3.connect(database)
        with target:
            backup.backup(target)
        target.close()
    finally:
        backup.close()
    print(f"Base restaurée depuis {source}")
    return 0


def _is_crieur_store(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return False
    return row is not None


def _fail(command: str, message: str) -> int:
    print(f"crieur {command} : {message}", file=sys.stderr)
    return 2
