"""`crieur calendar`: a zone's collection days, as text or as an iCalendar file."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta

from bot.tenants import command_settings
from knowledge import phrases
from knowledge.snapshot import Knowledge

DEFAULT_DAYS = 92


def print_calendar(args: argparse.Namespace) -> int:
    knowledge = Knowledge.load(args.pack or command_settings(args.config, args.tenant).pack_path())
    collecte = knowledge.pack.collecte
    calendar = knowledge.dated.collection_calendar
    if collecte is None or calendar is None:
        print("crieur calendar : ce pack n'a pas de calendrier de collecte", file=sys.stderr)
        return 2
    zones = {zone.id: zone for zone in collecte.zones}
    if args.zone not in zones:
        known = ", ".join(sorted(zones))
        print(
            f"crieur calendar : secteur inconnu « {args.zone} » ; secteurs : {known}",
            file=sys.stderr,
        )
        return 2
    try:
        start = (
            date.fromisoformat(args.start)
            if args.start
            else datetime.now(knowledge.pack.commune.tz).date()
        )
        end = date.fromisoformat(args.end) if args.end else start + timedelta(days=DEFAULT_DAYS)
    except ValueError as exc:
        print(f"crieur calendar : date invalide ({exc}) ; attendu AAAA-MM-JJ", file=sys.stderr)
        return 2
    if end < start:
        print("crieur calendar : --to est avant --from", file=sys.stderr)
        return 2
    if args.ics:
        from knowledge.calendars.ics import zone_ics

        sys.stdout.buffer.write(
            zone_ics(calendar, collecte, args.zone, start, end, knowledge.pack.commune.name)
        )
        return 0
    day = start
    while day <= end:
        for item in calendar.day(args.zone, day):
            stream = collecte.streams[item.stream].name
            note = ""
            if item.moved and item.change == "holiday" and item.reason:
                note = f" (décalée en raison {phrases.of_holiday(item.reason)})"
            elif item.moved and item.reason:
                note = f" ({item.reason})"
            print(f"{phrases.day(day)} {day.year} : {stream}{note}")
        day += timedelta(days=1)
    return 0
