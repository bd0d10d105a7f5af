"""Scheduled notices for subscribed residents: what to send, to whom, when, and until when.

Residents subscribe to topics (waste collection, canteen, agenda) and receive short messages
ahead of what concerns them. This module only *plans* them: `plan_notices` is a pure
function of a knowledge snapshot and a window of days, with no clock, scheduler, store or
I/O, so that the scheduler and the `crieur notices` command plan exactly the same messages
and a plan can be recomputed at any time. Each notice carries a stable key (the sender
remembers keys to never send one twice) and a deadline after which it is stale.

Four kinds of notice:

- "collecte": the evening before each door-to-door collection day of a zone, every
  stream collected that day in one message;
- "decalage": a collection moved (holiday policy or one-off exception) or cancelled,
  announced a few days before its planned date, and never after the eve of the change;
- "cantine": the day's menu, on the mornings it is served;
- "agenda": a reminder the day before an event.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from knowledge import phrases
from knowledge.calendars.canteen import CanteenCalendar
from knowledge.calendars.collection import Collection, CollectionCalendar
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.pack.calendar_models import Collecte, Event, MenuDay, Stream, Zone
from knowledge.snapshot import Knowledge
from knowledge.text import fold

KIND_COLLECTION = "collecte"
KIND_SHIFT = "decalage"
KIND_MENU = "cantine"
KIND_EVENT = "agenda"

TOPIC_COLLECTION = "collecte"
TOPIC_MENU = "cantine"
TOPIC_AGENDA = "agenda"

DEFAULT_START = time(8, 0)  # a collection without a start time is stale from 8h
MENU_STALE = time(12, 0)  # the menu is of no use once lunch is served
MAX_DESCRIPTION = 200  # an event's description is added to its reminder up to this length
SPAN = timedelta(hours=12)  # an event this long over two days is a span ("jusqu'au …")

_DAY = timedelta(days=1)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class NoticeTimes:
    """When each kind of notice goes out (local time of the pack's timezone)."""

    collection: time = time(19, 0)  # the evening before each door-to-door collection
    shift: time = time(19, 0)  # notice of a moved/cancelled collection ...
    shift_days_before: int = 2  # ... this many days before the ORIGINAL (planned) date
    menu: time = time(7, 30)  # the day's canteen menu, on days it is served
    event: time = time(18, 0)  # event reminder ...
    event_days_before: int = 1  # ... this many days before the event's start day

    def __post_init__(self) -> None:
        if self.shift_days_before < 0 or self.event_days_before < 0:
            raise ValueError("days before a notice cannot be negative")


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    """One message to send to the subscribers of `topics` (and of `zone`), at `at`."""

    key: str  # stable idempotency key, unique per notice: "collecte:nord:2026-12-28"
    kind: str  # "collecte" | "decalage" | "cantine" | "agenda"
    topics: tuple[str, ...]  # ("collecte",), ("cantine",), ("agenda", *event tags)
    zone: str | None  # collection zone id for collection notices; None = every subscriber
    at: datetime  # tz-aware, pack timezone: when it should be sent
    not_after: datetime  # tz-aware: after this it is stale and must not be sent
    text: str  # French text for residents


def plan_notices(
    knowledge: Knowledge, start: date, end: date, times: NoticeTimes = NoticeTimes()
) -> list[PlannedNotice]:
    """Every notice whose `at` falls on a day in [start, end] (local days), sorted by (at, key).

    A notice that would already be stale when sent (`at` not before `not_after`, e.g. a
    menu time set after noon) is left out.
    """
    if end < start:
        return []
    pack = knowledge.pack
    tz = pack.commune.tz
    found: list[PlannedNotice] = []
    calendar = knowledge.dated.collection_calendar
    if pack.collecte is not None and calendar is not None:
        planner = _CollectionNotices(pack.collecte, calendar, knowledge.holidays, tz, times)
        found += planner.plan(start, end)
    if pack.menus:
        canteen = CanteenCalendar(pack.menus, knowledge.holidays)
        found += _menu_notices(canteen, pack.menus, tz, start, end, times)
    found += _event_notices(pack.events, tz, start, end, times)
    kept = [n for n in found if start <= n.at.date() <= end and n.at < n.not_after]
    return sorted(kept, key=lambda notice: (notice.at, notice.key))


# ------------------------------------------------------------------ waste collection


class _CollectionNotices:
    """Eve and shift notices of every zone, from the collection calendar's ranges."""

    def __init__(
        self,
        collecte: Collecte,
        calendar: CollectionCalendar,
        holidays: HolidayCalendar,
        tz: ZoneInfo,
        times: NoticeTimes,
    ) -> None:
        self.collecte = collecte
        self.calendar = calendar
        self.holidays = holidays
        self.tz = tz
        self.times = times
        self._overrides = {o.date: o.action for o in collecte.holiday_policy.overrides}

    def plan(self, start: date, end: date) -> Iterator[PlannedNotice]:
        # An eve notice is sent the day before its collection; a shift notice at the latest
        # `shift_days_before` days before the planned date, or the eve of the earlier of the
        # two dates: both are found among the collections planned or held in this range.
        last = end + max(self.times.shift_days_before, 1) * _DAY
        for zone in self.collecte.zones:
            items = [
                item
                for stream in self._door_streams(zone)
                for item in self.calendar.collections(zone.id, stream, start, last)
            ]
            yield from self._eves(zone, items, start + _DAY, end + _DAY)
            for item in items:
                if item.cancelled or item.moved:
                    yield self._shift(item)

    def _door_streams(self, zone: Zone) -> list[str]:
        streams = self.collecte.streams
        return [name for name in streams if name in zone.rules and streams[name].mode == "door"]

    def _eves(
        self, zone: Zone, items: list[Collection], first: date, last: date
    ) -> Iterator[PlannedNotice]:
        days: dict[date, list[Collection]] = defaultdict(list)
        for item in items:
            if item.actual is not None and first <= item.actual <= last:
                days[item.actual].append(item)
        for day, held in sorted(days.items()):
            starts = [item.start_time for item in held if item.start_time is not None]
            streams = phrases.join([self._stream_detail(item) for item in held])
            text = phrases.NOTICE_COLLECTION.format(
                day=phrases.day(day), zone=zone.name, streams=streams
            )
            if starts:
                template = phrases.NOTICE_START_ONE if len(held) == 1 else phrases.NOTICE_START_MANY
                text += " " + template.format(hour=phrases.hour(min(starts)))
            yield PlannedNotice(
                key=f"{KIND_COLLECTION}:{zone.id}:{day.isoformat()}",
                kind=KIND_COLLECTION,
                topics=(TOPIC_COLLECTION,),
                zone=zone.id,
                at=self._moment(day - _DAY, self.times.collection),
                not_after=self._moment(day, min(starts, default=DEFAULT_START)),
                text=text,
            )

    def _stream_detail(self, item: Collection) -> str:
        """'ordures ménagères (bac gris ; reportée du vendredi 25 décembre, Noël)'."""
        stream = self.collecte.streams[item.stream]
        details = [_container(stream)] if _container(stream) else []
        if item.moved and item.actual is not None:
            template = (
                phrases.NOTICE_MOVED_LATER
                if item.actual > item.planned
                else phrases.NOTICE_MOVED_EARLIER
            )
            moved = template.format(day=phrases.day(item.planned))
            holiday = self._holiday(item)
            if holiday is not None:
                moved += phrases.NOTICE_MOVED_BECAUSE.format(holiday=holiday)
            details.append(moved)
        elif item.change == "exception" and item.start_time != stream.start_time:
            details.append(phrases.NOTICE_UNUSUAL_START)
        name = stream.name.lower()
        if not details:
            return name
        return phrases.NOTICE_STREAM.format(stream=name, details=" ; ".join(details))

    def _shift(self, item: Collection) -> PlannedNotice:
        stream = self.collecte.streams[item.stream]
        planned_start = stream.start_time or DEFAULT_START
        stale = self._moment(item.planned, planned_start)
        first = item.planned
        if item.actual is not None:
            first = min(first, item.actual)
            stale = min(stale, self._moment(item.actual, item.start_time or planned_start))
        at = min(
            self._moment(item.planned - self.times.shift_days_before * _DAY, self.times.shift),
            self._moment(first - _DAY, self.times.collection),
        )
        holiday = self._holiday(item)
        because = (
            phrases.NOTICE_SHIFT_BECAUSE.format(holiday=phrases.of_holiday(holiday))
            if holiday is not None
            else ""
        )
        name = stream.name.lower()
        if _container(stream):
            name += f" ({_container(stream)})"
        if item.actual is None:
            text = phrases.NOTICE_SHIFT_CANCELLED.format(
                because=because, stream=name, planned=phrases.day(item.planned)
            )
        else:
            text = phrases.NOTICE_SHIFT_MOVED.format(
                because=because,
                stream=name,
                planned=phrases.day(item.planned),
                actual=phrases.day(item.actual),
            )
        if item.change == "exception" and item.reason:
            text += " " + item.reason
        return PlannedNotice(
            key=f"{KIND_SHIFT}:{item.zone}:{item.stream}:{item.planned.isoformat()}",
            kind=KIND_SHIFT,
            topics=(TOPIC_COLLECTION,),
            zone=item.zone,
            at=at,
            not_after=stale,
            text=text,
        )

    def _holiday(self, item: Collection) -> str | None:
        """The public holiday that moved the collection: the calendar's reason, or, when an
        exception was applied on top of the holiday policy and replaced that reason, the
        holiday of the planned day if the policy moves collections off it."""
        if item.change == "holiday":
            return item.reason
        name = self.holidays.public_holiday(item.planned)
        if name is None or not item.moved:
            return None
        action = self._overrides.get(item.planned, self.collecte.holiday_policy.default)
        return name if action == "next_day" else None

    def _moment(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz)


def _container(stream: Stream) -> str:
    """'bac gris' from 'bac gris (couvercle gris)', as the collection answers shorten it."""
    return (stream.container or "").split("(")[0].split(",")[0].strip()


# ------------------------------------------------------------------------ canteen


def _menu_notices(
    canteen: CanteenCalendar,
    menus: tuple[MenuDay, ...],
    tz: ZoneInfo,
    start: date,
    end: date,
    times: NoticeTimes,
) -> Iterator[PlannedNotice]:
    for menu in menus:
        if not start <= menu.date <= end:
            continue
        served = canteen.day(menu.date).menu
        if served is None:
            continue
        yield PlannedNotice(
            key=f"{KIND_MENU}:{menu.date.isoformat()}",
            kind=KIND_MENU,
            topics=(TOPIC_MENU,),
            zone=None,
            at=datetime.combine(menu.date, times.menu, tzinfo=tz),
            not_after=datetime.combine(menu.date, MENU_STALE, tzinfo=tz),
            text=_menu_text(served),
        )


def _menu_text(menu: MenuDay) -> str:
    """The canteen answers' wording, with the date after "du"."""
    dishes = (menu.entree, menu.plat, menu.accompagnement, menu.laitage, menu.dessert)
    text = phrases.CANTEEN_MENU.format(
        day=phrases.NOTICE_MENU_DAY.format(day=phrases.day(menu.date)),
        dishes=", ".join(dish for dish in dishes if dish),
    )
    if menu.labels:
        names = [phrases.LABEL_NAMES.get(label, label) for label in menu.labels]
        text = text[:-1] + phrases.CANTEEN_LABELS.format(labels=", ".join(names)) + "."
    return text


# ------------------------------------------------------------------------- agenda


def _event_notices(
    events: tuple[Event, ...], tz: ZoneInfo, start: date, end: date, times: NoticeTimes
) -> Iterator[PlannedNotice]:
    for event in events:
        begins = event.start.astimezone(tz)
        day = begins.date() - times.event_days_before * _DAY
        if not start <= day <= end:
            continue
        at = datetime.combine(day, times.event, tzinfo=tz)
        if at >= begins:
            continue
        tags = dict.fromkeys(slug for slug in map(topic_slug, event.tags) if slug)
        tags.pop(TOPIC_AGENDA, None)
        yield PlannedNotice(
            key=f"{KIND_EVENT}:{event.id}",
            kind=KIND_EVENT,
            topics=(TOPIC_AGENDA, *tags),
            zone=None,
            at=at,
            not_after=begins,
            text=_event_text(event, begins, day),
        )


def _event_text(event: Event, begins: datetime, sent: date) -> str:
    when = phrases.NOTICE_EVENT_AT.format(
        day=phrases.day_seen_from(begins.date(), sent), hour=phrases.hour(begins.time())
    )
    if event.end is not None:
        ends = event.end.astimezone(begins.tzinfo)
        if ends.date() != begins.date() and ends - begins >= SPAN:
            when += phrases.NOTICE_EVENT_UNTIL.format(day=phrases.day(ends.date(), sent))
    place = phrases.NOTICE_EVENT_PLACE.format(place=event.place) if event.place else ""
    text = phrases.NOTICE_EVENT.format(title=event.title, when=when, place=place)
    description = " ".join((event.description or "").split())
    if description and len(description) <= MAX_DESCRIPTION:
        text += " " + description
    return text


def topic_slug(tag: str) -> str:
    """An event tag as a subscription topic: lower-case ascii words joined by hyphens."""
    return _NOT_SLUG.sub("-", fold(tag)).strip("-")
