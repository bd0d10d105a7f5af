"""Waste-collection calendar: which stream is collected in which zone, on which day.

Computed from `collecte.yaml` in the order its header gives:

1. the zone's rule: a weekday, every week or every other week counting from `anchor`,
   inside the calendar's `period` and the stream's `season`; or the dates of an
   iCalendar feed (`ical`), which are already the real dates and skip step 2;
2. the holiday policy: a collection planned on a public holiday is `maintained`, or moved
   to the `next_day` together with every later collection of the same stream that week
   (Monday to Sunday), in all zones, up to `cascade_until` (the "cascade"); two such
   holidays in one week add up;
3. the one-off exceptions, matched on the date found by step 2: moved, cancelled, or only
   started at another time.

The pack is immutable: each stream's collections over the whole period are computed once,
on first use, and kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

from knowledge import phrases
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.calendars.ical_feed import FeedError, feed_dates
from knowledge.pack.calendar_models import (
    Collecte,
    CollectionChange,
    HolidayAction,
    MonthDay,
    Rule,
    Zone,
)
from knowledge.pack.fields import WEEKDAYS
from knowledge.pack.models import Pack

_DAY = timedelta(days=1)

Change = Literal["holiday", "exception"]


@dataclass(frozen=True, slots=True)
class Collection:
    """One collection of one stream in one zone: the day its rule gives, the day it happens."""

    zone: str  # zone id
    stream: str  # stream id
    planned: date  # date given by the zone's rule
    actual: date | None  # date it really happens; None when cancelled
    start_time: time | None  # tour start (stream default, or exception's)
    reason: str | None  # holiday's French name ("Noël") or the exception's note
    change: Change | None

    @property
    def moved(self) -> bool:
        """True when the collection happens on another day than its rule's."""
        return self.actual is not None and self.actual != self.planned

    @property
    def cancelled(self) -> bool:
        """True when the collection does not happen at all."""
        return self.actual is None


_Plan = dict[str, list[Collection]]  # zone id -> one stream's collections, in date order


class CollectionCalendar:
    """Collection days of every zone and door-to-door stream of one `collecte.yaml`.

    `folder` is the pack folder, needed only to read the iCalendar feeds that rules name.
    Results are computed on first use and cached: the pack is immutable.
    """

    def __init__(
        self, collecte: Collecte, holidays: HolidayCalendar, folder: Path | None = None
    ) -> None:
        self._collecte = collecte
        self._holidays = holidays
        self._folder = folder
        self._zones = {zone.id: zone for zone in collecte.zones}
        self._overrides = {item.date: item for item in collecte.holiday_policy.overrides}
        self._until = WEEKDAYS.index(collecte.holiday_policy.cascade_until)
        self._feed_errors: dict[tuple[str, str], str] = {}
        self._scheduled: dict[str, _Plan] = {}  # after rules and holiday policy
        self._final: dict[str, _Plan] = {}  # after exceptions too
        self._days: dict[str, dict[date, list[Collection]]] = {}

    @classmethod
    def for_pack(cls, pack: Pack) -> CollectionCalendar | None:
        """The calendar of a loaded pack, with its commune's holidays; None without collecte."""
        if pack.collecte is None:
            return None
        period = pack.collecte.period
        years = range(period.start.year, period.end.year + 2)
        return cls(pack.collecte, HolidayCalendar(pack.commune, years), pack.path)

    # ----------------------------------------------------------------- questions

    def collections(self, zone: str, stream: str, start: date, end: date) -> list[Collection]:
        """Collections whose planned or actual day is in [start, end], cancelled ones too."""
        return [
            item
            for item in self._of(zone, stream)
            if start <= item.planned <= end
            or (item.actual is not None and start <= item.actual <= end)
        ]

    def next_collections(
        self, zone: str, stream: str, after: date, count: int = 1
    ) -> list[Collection]:
        """The next `count` collections on or after `after`, with the cancelled ones between."""
        if count < 1:
            return []
        every = self._of(zone, stream)
        coming = [item for item in every if item.actual is not None and item.actual >= after]
        coming = coming[:count]
        limit = coming[-1].actual if coming and coming[-1].actual else date.max
        skipped = [item for item in every if item.cancelled and after <= item.planned < limit]
        return sorted(coming + skipped, key=_when)

    def day(self, zone: str, on: date) -> list[Collection]:
        """Every stream collected in `zone` on `on` (where it really happens)."""
        if zone not in self._days:
            index: dict[date, list[Collection]] = defaultdict(list)
            for stream in self._door_streams(self._zone(zone)):
                for item in self._of(zone, stream):
                    if item.actual is not None:
                        index[item.actual].append(item)
            self._days[zone] = dict(index)
        return list(self._days[zone].get(on, ()))

    def problems(self) -> list[str]:
        """Contradictions in the pack's calendar, one French sentence each."""
        streams = [name for name, stream in self._collecte.streams.items() if stream.mode == "door"]
        found = list(self._override_problems())
        for stream in streams:
            found += self._shift_problems(stream)
        found += [
            f'zone "{zone}", flux "{stream}" : {message}'
            for (zone, stream), message in self._feed_errors.items()
        ]
        found += self._exception_problems()
        return found

    # ------------------------------------------------------------ computation

    def _zone(self, zone: str) -> Zone:
        try:
            return self._zones[zone]
        except KeyError:
            raise KeyError(f'zone inconnue "{zone}"') from None

    def _door_streams(self, zone: Zone) -> list[str]:
        streams = self._collecte.streams
        return [name for name in streams if name in zone.rules and streams[name].mode == "door"]

    def _of(self, zone: str, stream: str) -> list[Collection]:
        self._zone(zone)
        if stream not in self._collecte.streams:
            raise KeyError(f'flux inconnu "{stream}"')
        if stream not in self._final:
            self._final[stream] = self._with_exceptions(stream)
        return self._final[stream].get(zone, [])

    def _schedule(self, stream: str) -> _Plan:
        """One stream's collections in every zone, after its rules and the holiday policy."""
        if stream in self._scheduled:
            return self._scheduled[stream]
        rules = self._rules(stream)
        planned = {zone: self._rule_dates(rule, stream) for zone, rule in rules.items()}
        cascade = _Cascade(
            (day for days in planned.values() for day in days if self._action(day) == "next_day"),
            self._until,
        )
        plan: _Plan = {}
        for zone, rule in rules.items():
            if rule.ical is not None:
                plan[zone] = [
                    self._collection(zone, stream, day)
                    for day in self._feed(zone, stream, rule.ical)
                ]
            else:
                plan[zone] = [self._shifted(zone, stream, day, cascade) for day in planned[zone]]
        self._scheduled[stream] = plan
        return plan

    def _rules(self, stream: str) -> dict[str, Rule]:
        if self._collecte.streams[stream].mode != "door":
            return {}
        return {
            zone.id: zone.rules[stream] for zone in self._collecte.zones if stream in zone.rules
        }

    def _rule_dates(self, rule: Rule, stream: str) -> list[date]:
        if rule.weekday is None:  # an iCalendar feed
            return []
        period, step = self._collecte.period, 7 * rule.every
        start = period.start
        reference = (
            rule.anchor or start + (WEEKDAYS.index(rule.weekday) - start.weekday()) % 7 * _DAY
        )
        day = start + (reference - start).days % step * _DAY
        season = self._collecte.streams[stream].season
        dates = []
        while day <= period.end:
            if _in_season(day, season):
                dates.append(day)
            day += step * _DAY
        return dates

    def _feed(self, zone: str, stream: str, ical: str) -> list[date]:
        if self._folder is None:
            self._feed_errors[zone, stream] = (
                f'le dossier du pack n\'est pas connu : impossible de lire "{ical}"'
            )
            return []
        period = self._collecte.period
        try:
            return feed_dates(self._folder / ical, period.start, period.end)
        except FeedError as error:
            self._feed_errors[zone, stream] = error.message
            return []

    def _collection(self, zone: str, stream: str, day: date) -> Collection:
        start = self._collecte.streams[stream].start_time
        return Collection(zone, stream, day, day, start, None, None)

    def _shifted(self, zone: str, stream: str, day: date, cascade: _Cascade) -> Collection:
        holidays = cascade.moving(day)
        collection = self._collection(zone, stream, day)
        if not holidays:
            return collection
        reason = " et ".join(self._holiday_name(holiday) for holiday in holidays)
        return replace(
            collection, actual=day + len(holidays) * _DAY, reason=reason, change="holiday"
        )

    def _action(self, day: date) -> HolidayAction | None:
        """What the policy does with a collection on `day`; None when it is no public holiday."""
        if self._holidays.public_holiday(day) is None:
            return None
        override = self._overrides.get(day)
        return override.action if override else self._collecte.holiday_policy.default

    def _holiday_name(self, day: date) -> str:
        return self._holidays.public_holiday(day) or "jour férié"

    def _with_exceptions(self, stream: str) -> _Plan:
        plan = {zone: list(items) for zone, items in self._schedule(stream).items()}
        for change in self._collecte.exceptions:
            if change.stream != stream:
                continue
            for zone in change.zones:
                items = plan.get(zone, [])
                for position, item in enumerate(items):
                    if item.actual == change.date and item.change != "exception":
                        items[position] = _apply(change, item)
                        break
        for items in plan.values():
            items.sort(key=_when)
        return plan

    # -------------------------------------------------------------- problems

    def _override_problems(self) -> Iterator[str]:
        for day, override in sorted(self._overrides.items()):
            if self._holidays.public_holiday(day) is None:
                named = f' ("{override.name}")' if override.name else ""
                yield (
                    f"holiday_policy : le {french_date(day)}{named} n'est pas un jour férié du"
                    " calendrier de la commune ; cette ligne d'overrides n'a aucun effet"
                )

    def _shift_problems(self, stream: str) -> Iterator[str]:
        for zone, items in self._schedule(stream).items():
            for item in items:
                if item.change != "holiday" or item.actual is None:
                    continue
                issues = self._landing_issues(item.planned, item.actual)
                if issues:
                    yield (
                        f'zone "{zone}", flux "{stream}" : la collecte du'
                        f" {french_date(item.planned)} est reportée ({item.reason}) au"
                        f" {french_date(item.actual)} ; {' ; '.join(issues)}"
                    )

    def _landing_issues(self, planned: date, actual: date) -> list[str]:
        issues = []
        if actual.weekday() == 6:
            issues.append("ce jour est un dimanche")
        elif actual > _monday(planned) + self._until * _DAY:
            issues.append(
                f"ce jour est après le {WEEKDAYS[self._until]}, dernier jour de report"
                " de la semaine (cascade_until)"
            )
        name = self._holidays.public_holiday(actual)
        if name is not None and self._action(actual) != "maintained":
            issues.append(f"ce jour est lui aussi férié ({name})")
        return issues

    def _exception_problems(self) -> Iterator[str]:
        seen: dict[tuple[str, str, date], str] = {}
        for change in self._collecte.exceptions:
            if change.stream not in self._collecte.streams:
                continue  # the loader reports unknown streams and zones
            for zone in change.zones:
                if zone not in self._zones:
                    continue
                where = f'exception "{change.id}", zone "{zone}", flux "{change.stream}"'
                earlier = seen.setdefault((zone, change.stream, change.date), change.id)
                if earlier != change.id:
                    yield (
                        f"{where} : la collecte du {french_date(change.date)} est déjà"
                        f' modifiée par l\'exception "{earlier}"'
                    )
                yield from self._not_a_collection(change, zone, where)
            yield from self._new_date_problems(change)

    def _not_a_collection(self, change: CollectionChange, zone: str, where: str) -> Iterator[str]:
        items = self._schedule(change.stream).get(zone, [])
        if any(item.actual == change.date for item in items):
            return
        moved = next((item for item in items if item.planned == change.date and item.actual), None)
        hint = ""
        if moved is not None and moved.actual is not None:
            hint = (
                f" (la collecte prévue ce jour-là a lieu le {french_date(moved.actual)} à cause"
                f" du jour férié : indiquez cette date)"
            )
        yield (
            f"{where} : le {french_date(change.date)} n'est pas un jour de collecte de ce flux"
            f" dans cette zone{hint} ; l'exception est sans effet"
        )

    def _new_date_problems(self, change: CollectionChange) -> Iterator[str]:
        new_date = change.new_date
        if new_date is None or new_date == change.date:
            return
        name = self._holidays.public_holiday(new_date)
        if name is not None and self._action(new_date) != "maintained":
            zones = ", ".join(f'"{zone}"' for zone in change.zones)
            yield (
                f'exception "{change.id}", zone {zones}, flux "{change.stream}" : la nouvelle'
                f" date, le {french_date(new_date)}, est un jour férié ({name})"
            )


class _Cascade:
    """The holidays, week by week, that move one stream's collections to the next day."""

    def __init__(self, holidays: Iterable[date], until: int) -> None:
        self._weeks: dict[date, list[date]] = defaultdict(list)
        for day in sorted(set(holidays)):
            self._weeks[_monday(day)].append(day)
        self._until = until

    def moving(self, day: date) -> list[date]:
        """The holidays that move a collection planned on `day`: one each day it shifts."""
        return [
            holiday
            for holiday in self._weeks.get(_monday(day), ())
            if holiday == day or (holiday < day and day.weekday() <= self._until)
        ]


def french_date(day: date) -> str:
    """'vendredi 1er janvier 2027'."""
    return f"{phrases.day(day)} {day.year}"


def _apply(change: CollectionChange, item: Collection) -> Collection:
    note = " ".join((change.note or "").split()) or None
    if change.cancelled:
        return replace(item, actual=None, start_time=None, reason=note, change="exception")
    start = change.start_time or item.start_time
    return replace(item, actual=change.new_date, start_time=start, reason=note, change="exception")


def _in_season(day: date, season: MonthDay | None) -> bool:
    if season is None:
        return True
    key = f"{day.month:02d}-{day.day:02d}"
    if season.start <= season.end:
        return season.start <= key <= season.end
    return key >= season.start or key <= season.end  # the season spans the new year


def _monday(day: date) -> date:
    return day - day.weekday() * _DAY


def _when(item: Collection) -> tuple[date, date]:
    return (item.actual or item.planned, item.planned)
