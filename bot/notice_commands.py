"""`crieur notices` (what the scheduler will send) and `crieur broadcast` (an agent's notice)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from datetime import date, datetime, timedelta

from bot.broadcasts import Broadcast, BroadcastError, Broadcasts
from bot.config import Settings
from bot.outbox import Outbox, Progress
from bot.scheduler import notice_times
from bot.store import Store, StoreError
from bot.subscribing import topics_of
from bot.tenants import command_settings
from knowledge import phrases
from knowledge.notices import plan_notices
from knowledge.snapshot import Knowledge

PROGRESS_WIDTH = 30
IDLE_HINT_SECONDS = 20


# ---------------------------------------------------------------------- crieur notices


def print_notices(args: argparse.Namespace) -> int:
    settings = command_settings(args.config, args.tenant)
    knowledge = Knowledge.load(args.pack or settings.pack_path())
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as exc:
        return _fail("notices", f"date invalide ({exc}) ; attendu AAAA-MM-JJ")
    if end < start:
        return _fail("notices", "--to est avant --from")
    if (end - start).days > 400:
        return _fail("notices", "période trop longue (400 jours au plus)")
    zones = (
        {zone.id for zone in knowledge.pack.collecte.zones} if knowledge.pack.collecte else set()
    )
    if args.zone and args.zone not in zones:
        return _fail("notices", f"secteur inconnu « {args.zone} » ; secteurs : {_list(zones)}")
    topics = set(topics_of(knowledge))
    if args.topic and args.topic not in topics:
        return _fail("notices", f"thème inconnu « {args.topic} » ; thèmes : {_list(topics)}")
    for notice in plan_notices(knowledge, start, end, notice_times(settings.notices)):
        if args.zone and notice.zone not in (None, args.zone):
            continue
        if args.topic and args.topic not in notice.topics:
            continue
        if args.json:
            item = {
                "at": notice.at.isoformat(),
                "topic": notice.topics[0],
                "zone": notice.zone,
                "text": notice.text,
                "key": notice.key,
                "kind": notice.kind,
                "topics": list(notice.topics),
                "not_after": notice.not_after.isoformat(),
            }
            print(json.dumps(item, ensure_ascii=False))
        else:
            where = f" [{notice.zone}]" if notice.zone else ""
            print(f"{notice.at:%Y-%m-%d %H:%M} {notice.topics[0]}{where} : {notice.text}")
    return 0


# -------------------------------------------------------------------- crieur broadcast


def broadcast(args: argparse.Namespace) -> int:
    settings = command_settings(args.config, args.tenant)
    knowledge = Knowledge.load(settings.pack_path())
    try:
        return asyncio.run(_broadcast(args, settings, knowledge))
    except StoreError as exc:
        return _fail("broadcast", str(exc))
    except KeyboardInterrupt:
        print("\nL'envoi continue en arrière-plan (crieur run).", file=sys.stderr)
        return 130


async def _broadcast(args: argparse.Namespace, settings: Settings, knowledge: Knowledge) -> int:
    store = await Store.open(settings.storage_url(), schema=settings.storage.schema_name)
    try:
        broadcasts = Broadcasts(Outbox(store))
        if args.list:
            for item in await broadcasts.recent():
                print(_log_line(item, knowledge))
            return 0
        if args.cancel is not None:
            if await broadcasts.cancel(args.cancel):
                print(f"Annonce n° {args.cancel} annulée.")
                return 0
            return _fail("broadcast", f"aucune annonce programmée n° {args.cancel}")
        return await _send(args, broadcasts, knowledge)
    finally:
        await store.close()


async def _send(args: argparse.Namespace, broadcasts: Broadcasts, knowledge: Knowledge) -> int:
    tz = knowledge.pack.commune.tz
    now = datetime.now(tz)
    if not args.topic:
        return _fail("broadcast", "--topic est obligatoire (par exemple --topic alertes)")
    try:
        at = datetime.fromisoformat(args.at) if args.at else now
    except ValueError:
        return _fail("broadcast", f"--at invalide : {args.at!r} (attendu ISO 8601)")
    at = at.replace(tzinfo=tz) if at.tzinfo is None else at
    zones = (
        {zone.id for zone in knowledge.pack.collecte.zones} if knowledge.pack.collecte else set()
    )
    try:
        text = broadcasts.validate(
            args.text or "", args.topic, args.zone, at, now, set(topics_of(knowledge)), zones
        )
    except BroadcastError as exc:
        return _fail("broadcast", str(exc))
    audience = await broadcasts.outbox.audience_size((args.topic,), args.zone)
    where = f", secteur {args.zone}" if args.zone else ""
    when = "maintenant" if at <= now else f"le {phrases.day(at.date())} à {phrases.hour(at.time())}"
    print(f"Annonce « {args.topic} »{where}, envoi {when} : {audience} abonné(s).")
    if not args.yes and not _confirm():
        print("Annonce abandonnée.")
        return 1
    author = args.author or getpass.getuser()
    created = await broadcasts.create(author, text, args.topic, args.zone, at, args.urgent, now)
    if at > now + timedelta(seconds=30):
        print(f"Annonce n° {created} programmée ; annulation : crieur broadcast --cancel {created}")
        return 0
    item = await broadcasts.publish(created)
    print(f"Annonce n° {created} confiée à la file d'envoi ({item.audience if item else 0}).")
    if args.no_wait or item is None or item.notice_id is None:
        return 0
    await _follow(broadcasts.outbox, item.notice_id)
    return 0


def _confirm() -> bool:
    if not sys.stdin.isatty():
        print("Pas de terminal pour confirmer : ajoutez --yes.", file=sys.stderr)
        return False
    return input("Envoyer ? [o/N] ").strip().lower() in ("o", "oui", "y", "yes")


async def _follow(outbox: Outbox, notice_id: int) -> None:
    """A progress bar until every delivery row of the notice is settled."""
    last, last_change, hinted = -1, time.monotonic(), False
    while True:
        progress = await outbox.progress(notice_id)
        settled = progress.total - progress.pending
        if settled != last:
            last, last_change = settled, time.monotonic()
            _draw(progress)
        elif not hinted and time.monotonic() - last_change > IDLE_HINT_SECONDS:
            print("\nAucun envoi en cours : « crieur run » est-il lancé ?", file=sys.stderr)
            hinted = True
        if progress.done:
            break
        await asyncio.sleep(0.5)
    print(
        f"\nTerminé : {progress.sent} envoyé(s), {progress.failed} en échec, "
        f"{progress.gone} destinataire(s) parti(s), {progress.expired} périmé(s)."
    )


def _draw(progress: Progress) -> None:
    settled = progress.total - progress.pending
    filled = PROGRESS_WIDTH * settled // progress.total if progress.total else PROGRESS_WIDTH
    bar = "#" * filled + "-" * (PROGRESS_WIDTH - filled)
    sys.stdout.write(f"\r[{bar}] {settled}/{progress.total}")
    sys.stdout.flush()


def _log_line(item: Broadcast, knowledge: Knowledge) -> str:
    tz = knowledge.pack.commune.tz
    zone = f" [{item.zone}]" if item.zone else ""
    urgent = " URGENT" if item.urgent else ""
    return (
        f"n° {item.id} {item.created_at.astimezone(tz):%Y-%m-%d %H:%M} par {item.author} : "
        f"{item.topic}{zone}{urgent}, pour {item.at.astimezone(tz):%Y-%m-%d %H:%M}, "
        f"{item.audience} destinataire(s), {item.status} — {item.text[:80]}"
    )


def _list(items: set[str]) -> str:
    return ", ".join(sorted(items)) or "aucun"


def _fail(command: str, message: str) -> int:
    print(f"crieur {command} : {message}", file=sys.stderr)
    return 2
