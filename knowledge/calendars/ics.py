"""iCalendar export of a zone's collection days, so residents add them to their phone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from knowledge.calendars.collection import Collection, CollectionCalendar
from knowledge.pack.calendar_models import Collecte
from knowledge.text import fold


def zone_ics(
    calendar: CollectionCalendar,
    collecte: Collecte,
    zone: str,
    start: date,
    end: date,
    commune: str,
) -> bytes:
    """An .ics file with one all-day event per collection of `zone` between start and end."""
    zones = {z.id: z for z in collecte.zones}
    feed = Calendar()
    feed.add("prodid", "-//Crieur//Collectes//FR")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", f"Collectes {commune} – secteur {zones[zone].name}")
    feed.add("x-wr-timezone", "Europe/Paris")
    slug = re.sub(r"[^a-z0-9]+", "-", fold(commune)).strip("-")
    stamp = datetime(start.year, start.month, start.day, tzinfo=UTC)
    for stream in collecte.streams:
        if stream not in zones[zone].rules:
            continue
        for item in calendar.collections(zone, stream, start, end):
            if item.actual is not None:
                feed.add_component(_event(item, collecte, slug, stamp))
    return bytes(feed.to_ical())


def _event(item: Collection, collecte: Collecte, slug: str, stamp: datetime) -> Event:
    assert item.actual is not None
    stream = collecte.streams[item.stream]
    event = Event()
    event.add("uid", f"collecte-{item.zone}-{item.stream}-{item.planned.isoformat()}@{slug}")
    event.add("dtstamp", stamp)
    event.add("dtstart", item.actual)
    event.add("dtend", item.actual + timedelta(days=1))
    event.add("summary", f"Collecte : {stream.name}")
    details = [stream.container or "", item.reason or ""]
    if stream.start_time is not None:
        details.append(f"Passage à partir de {stream.start_time.strftime('%H:%M')}.")
    event.add("description", "\n".join(d for d in details if d))
    event.add("transp", "TRANSPARENT")
    return event
