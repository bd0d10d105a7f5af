"""Collection dates given by an iCalendar feed (.ics) instead of a weekly rule.

Some intercommunalities publish their collection calendar as an .ics file. Its events,
with their recurrences (RRULE), removed dates (EXDATE) and added dates (RDATE), are the
real collection days: a feed is read as is, without the holiday policy.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import icalendar


class FeedError(Exception):
    """An .ics file that cannot be used; the message says why, in French, for the agents."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def feed_dates(path: Path, start: date, end: date) -> list[date]:
    """The days, between `start` and `end` included, on which an event of the feed starts."""
    import recurring_ical_events  # imported only by packs that use feeds (memory)

    calendar = _read(path)
    try:
        events = recurring_ical_events.of(calendar).between(start, end + timedelta(days=1))
        days = {_day(event.get("DTSTART")) for event in events}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise FeedError(f'"{path.name}" contient un événement invalide ({exc})') from None
    return sorted(day for day in days if start <= day <= end)


def _read(path: Path) -> icalendar.Calendar:
    import icalendar

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FeedError(f'fichier "{path.name}" introuvable dans le dossier du pack') from None
    except OSError as exc:
        raise FeedError(f'lecture impossible de "{path.name}" ({exc.strerror})') from None
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise FeedError(f'"{path.name}" n\'est pas un fichier iCalendar valide ({exc})') from None
    if not calendar.walk("VEVENT"):
        raise FeedError(f'"{path.name}" ne contient aucun événement (VEVENT)')
    return calendar


def _day(start: object) -> date:
    value = getattr(start, "dt", None)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise ValueError("DTSTART manquant ou sans date")
