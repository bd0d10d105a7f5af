"""Opening hours of a public place on a given day, following the rules of `services.yaml`.

For one day, in this order: a single-date closure entry, else a period closure entry
covering the day, else a public holiday (closed, unless an OpenStreetMap expression gives
`PH` hours), else the usual weekly hours. Hours are local wall-clock times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from knowledge.calendars.holidays import HolidayCalendar
from knowledge.pack.calendar_models import Closure, Service, osm_for_day, osm_mentions
from knowledge.pack.fields import WEEKDAYS, TimeRange, Weekday

if TYPE_CHECKING:  # imported where used: only a pack with OSM hours needs the parser (~3 MB)
    from opening_hours import OpeningHours

OSM_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
END_OF_DAY = time(23, 59, 59)  # how "24:00" is stored (see fields.parse_clock)


@dataclass(frozen=True, slots=True)
class DayHours:
    """What a place does on one day: its opening ranges, and why they differ from usual."""

    day: date
    ranges: tuple[TimeRange, ...]  # empty = closed all day
    note: str | None  # the closure's note when a closure entry applies
    holiday: str | None  # public holiday name when that day is one
    exceptional: bool  # True when a closure entry decided the day

    @property
    def is_open(self) -> bool:
        """Open at some time of the day."""
        return bool(self.ranges)

    def open_at(self, at: time) -> bool:
        """Open at the wall-clock time `at` (start included, end excluded)."""
        return any(r.start <= at and (at < r.end or r.end == END_OF_DAY) for r in self.ranges)


class OpeningCalendar:
    """The opening days and hours of one service, closures and public holidays included."""

    def __init__(
        self, service: Service, holidays: HolidayCalendar, *, tz: tzinfo | None = None
    ) -> None:
        """`tz`, when given, is the commune's time zone: moments are converted to it."""
        self.service = service
        self._holidays = holidays
        self._tz = tz

    def day(self, on: date) -> DayHours:
        """The hours on `on`: closure entry, then public holiday, then usual hours."""
        holiday = self._holidays.public_holiday(on)
        closure = self.closure(on)
        if closure is not None:
            return DayHours(on, closure.hours, closure.note, holiday, True)
        return DayHours(on, self._usual(on, holiday), None, holiday, False)

    def closure(self, on: date) -> Closure | None:
        """The closure entry deciding `on`: a single date first, else the shortest period."""
        closures = self.service.closures
        single = next((c for c in closures if c.date == on), None)
        if single is not None:
            return single
        periods = [
            c
            for c in closures
            if c.start is not None and c.end is not None and c.start <= on <= c.end
        ]
        return min(periods, key=_length, default=None)

    def is_open_at(self, moment: datetime) -> bool:
        """Whether the place is open at `moment` (converted to the commune's time if known)."""
        if self._tz is not None and moment.tzinfo is not None:
            moment = moment.astimezone(self._tz)
        return self.day(moment.date()).open_at(moment.time().replace(tzinfo=None))

    def next_open_day(
        self, after: date, within_days: int = 120, include: bool = False
    ) -> DayHours | None:
        """The first open day strictly after `after` (or from `after` on when `include`)."""
        first = 0 if include else 1
        for offset in range(first, within_days + 1):
            hours = self.day(after + timedelta(days=offset))
            if hours.is_open:
                return hours
        return None

    def week(self, start: date) -> list[DayHours]:
        """Seven consecutive days from `start`."""
        return [self.day(start + timedelta(days=offset)) for offset in range(7)]

    def _usual(self, on: date, holiday: str | None) -> tuple[TimeRange, ...]:
        hours = self.service.hours
        if isinstance(hours, str):
            return self._osm(hours, on, holiday)
        if holiday is not None:
            return ()
        return hours.get(cast(Weekday, WEEKDAYS[on.weekday()]), ())

    def _osm(self, expression: str, on: date, holiday: str | None) -> tuple[TimeRange, ...]:
        if holiday is not None and not osm_mentions(expression, "PH"):
            return ()  # services.yaml rule: a public holiday is closed unless said otherwise
        selectors = [
            name
            for name, applies in (
                ("PH", holiday is not None),
                ("SH", self._holidays.school_holiday(on) is not None),
            )
            if applies
        ]
        if selectors:
            expression = osm_for_day(expression, selectors, OSM_WEEKDAYS[on.weekday()])
        return osm_ranges(expression, on)


def osm_ranges(expression: str, on: date) -> tuple[TimeRange, ...]:
    """The open ranges of an OSM expression on `on`, with no public holiday known to it."""
    start = datetime.combine(on, time())
    end = start + timedelta(days=1)
    ranges: list[TimeRange] = []
    for low, high in _open_intervals(_compiled(expression), start, end):
        stop = END_OF_DAY if high >= end else high.time()
        if ranges and ranges[-1].end == low.time():
            ranges[-1] = TimeRange(start=ranges[-1].start, end=stop)
        else:
            ranges.append(TimeRange(start=low.time(), end=stop))
    return tuple(ranges)


def _open_intervals(
    hours: OpeningHours, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals clipped to [start, end); "unknown" states count as closed."""
    from opening_hours import State  # see the TYPE_CHECKING import

    for low, high, state, _comment in hours.intervals(start, end):
        low, high = max(low, start), min(high, end)
        if state == State.OPEN and low < high:
            yield low, high


@lru_cache(maxsize=512)
def _compiled(expression: str) -> OpeningHours:
    from opening_hours import OpeningHours  # see the TYPE_CHECKING import

    # No country nor coordinates: the library then knows no holiday, and PH/SH never match;
    # holidays are substituted by `osm_for_day` from the commune's own calendar.
    return OpeningHours(expression, auto_country=False, auto_timezone=False)


def _length(closure: Closure) -> int:
    assert closure.start is not None and closure.end is not None
    return (closure.end - closure.start).days
