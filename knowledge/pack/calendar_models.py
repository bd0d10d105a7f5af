"""Typed models of the dated pack files: services, waste collection, menus and events."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Literal, Self

from pydantic import AwareDatetime, Field, TypeAdapter, field_validator, model_validator

from knowledge.pack.fields import (
    WEEKDAYS,
    Clock,
    PackModel,
    Range,
    Slug,
    Text,
    TimeRange,
    Weekday,
)


class Closure(PackModel):
    """Exceptional hours for one day (`date`) or for every day of a period (`from`..`to`)."""

    model_config = PackModel.model_config | {"populate_by_name": True}

    date: dt.date | None = None
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    hours: tuple[Range, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _one_day_or_period(self) -> Self:
        if self.date is not None and (self.start is not None or self.end is not None):
            raise ValueError('donnez soit "date", soit "from" et "to", pas les deux')
        if self.date is None and (self.start is None or self.end is None):
            raise ValueError('il faut "date", ou bien "from" et "to"')
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError('"to" est avant "from"')
        return self


WeekHours = dict[Weekday, tuple[TimeRange, ...]]
OSM_EXAMPLE = "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00; PH off"
_WEEK_HOURS: TypeAdapter[WeekHours] = TypeAdapter(dict[Weekday, tuple[Range, ...]])
_OSM_HOLIDAY = re.compile(r"\b(PH|SH)\b")
_OSM_COMMENT = re.compile(r'("[^"]*")')


def osm_mentions(expression: str, selector: str) -> bool:
    """Whether an OSM expression uses the holiday selector ("PH" or "SH") outside comments."""
    return any(
        selector in _OSM_HOLIDAY.findall(part)
        for index, part in enumerate(_OSM_COMMENT.split(expression))
        if index % 2 == 0
    )


def osm_for_day(expression: str, selectors: Collection[str], weekday: str) -> str:
    """The expression with the `selectors` ("PH", "SH") replaced by `weekday` ("Mo".."Su").

    Evaluated on a day of that weekday, the rewritten expression applies the holiday rules
    exactly as if the day were a holiday, whatever calendar the OSM library knows.
    """
    parts = _OSM_COMMENT.split(expression)
    for index in range(0, len(parts), 2):
        parts[index] = _OSM_HOLIDAY.sub(
            lambda match: weekday if match.group(1) in selectors else match.group(1),
            parts[index],
        )
    return "".join(parts)


def _osm_hours(expression: str) -> str:
    # Imported here, not at the top: the OSM parser costs ~3 MB of memory, and a pack that
    # gives its hours day by day never needs it.
    from opening_hours import validate

    expression = expression.strip()
    if not expression:
        raise ValueError(
            'horaires vides : donnez une liste par jour (lundi: ["08:30-12:00"])'
            f' ou une expression OpenStreetMap comme "{OSM_EXAMPLE}"'
        )
    if not validate(expression):
        raise ValueError(
            f'horaires OpenStreetMap invalides "{expression}"{_osm_error_at(expression)} ;'
            f' exemple : "{OSM_EXAMPLE}"'
        )
    if not validate(osm_for_day(expression, ("PH", "SH"), "Mo")):
        raise ValueError(
            f'horaires OpenStreetMap "{expression}" : cette façon d\'écrire les jours fériés'
            " ou les vacances (PH, SH) n'est pas prise en charge ; écrivez par exemple"
            ' "PH off" ou "PH 10:00-12:00"'
        )
    return expression


def _osm_error_at(expression: str) -> str:
    """Where the OSM parser stopped, e.g. " (erreur au caractère 7)", or ""."""
    from opening_hours import OpeningHours  # see _osm_hours

    try:
        OpeningHours(expression)
    except Exception as exc:  # opening_hours.ParserError, absent from the library's stubs
        where = re.search(r"--> \d+:(\d+)", str(exc))
        return f" (erreur au caractère {where.group(1)})" if where else ""
    return ""


class Service(PackModel):
    """A public place or service and its opening hours.

    `hours` is either a dict weekday -> ranges, or an OpenStreetMap `opening_hours`
    expression such as "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00; PH off".
    """

    id: Slug
    name: Text
    aliases: tuple[Text, ...] = ()
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    manager: str | None = None
    hours: WeekHours | str = Field(default_factory=dict)
    closures: tuple[Closure, ...] = ()

    @field_validator("hours", mode="plain")
    @classmethod
    def _weekdays_or_osm(cls, value: object) -> WeekHours | str:
        # Validated by hand so that only the form actually written is reported on.
        if isinstance(value, str):
            return _osm_hours(value)
        if isinstance(value, dict):
            return _WEEK_HOURS.validate_python(value)
        raise ValueError(
            'doit être une liste par jour (lundi: ["08:30-12:00"]) ou une expression'
            f' OpenStreetMap entre guillemets, comme "{OSM_EXAMPLE}"'
        )


class MonthDay(PackModel):
    """A yearly window such as a stream's season, written "MM-DD"."""

    model_config = PackModel.model_config | {"populate_by_name": True}

    start: str = Field(alias="from", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    end: str = Field(alias="to", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")

    @field_validator("start", "end")
    @classmethod
    def _real_day(cls, value: str) -> str:
        dt.date.fromisoformat(f"2024-{value}")  # 2024 is a leap year: 02-29 is accepted
        return value


class Booking(PackModel):
    """Who to contact for a stream collected by appointment only."""

    phone: str | None = None
    email: str | None = None
    who: str | None = None


class Stream(PackModel):
    """A waste stream (household waste, packaging, green waste, glass…)."""

    name: Text
    aliases: tuple[Text, ...] = ()
    container: str | None = None
    mode: Literal["door", "drop_off", "appointment"] = "door"
    season: MonthDay | None = None
    start_time: Clock | None = None
    instructions: str | None = None
    booking: Booking | None = None


class Rule(PackModel):
    """When a zone's door-to-door collection of one stream happens: a weekly or fortnightly
    rule (`weekday`, `every`, `anchor`), or an iCalendar feed (`ical`, a path relative to
    the pack folder) that gives the real dates."""

    weekday: Weekday | None = None
    every: Literal[1, 2] = 1
    anchor: dt.date | None = None
    ical: str | None = None

    @model_validator(mode="after")
    def _anchor_fits(self) -> Self:
        if self.ical is not None:
            return self._feed_only()
        if self.weekday is None:
            raise ValueError('il faut "weekday" (jour de collecte), ou bien "ical" (fichier .ics)')
        if self.every == 2 and self.anchor is None:
            raise ValueError('"anchor" est obligatoire quand "every" vaut 2')
        if self.anchor is not None and WEEKDAYS[self.anchor.weekday()] != self.weekday:
            raise ValueError(
                f'"anchor" ({self.anchor.isoformat()}) est un {WEEKDAYS[self.anchor.weekday()]},'
                f" pas un {self.weekday}"
            )
        return self

    def _feed_only(self) -> Self:
        if self.weekday is not None:
            raise ValueError('donnez soit "weekday", soit "ical", pas les deux')
        if self.anchor is not None or "every" in self.model_fields_set:
            raise ValueError(
                'avec "ical", les dates viennent du fichier : retirez "every" et "anchor"'
            )
        parts = (self.ical or "").replace("\\", "/").split("/")
        if not parts[-1].strip() or parts[0] == "" or ".." in parts or ":" in parts[0]:
            raise ValueError(
                f'"ical" ("{self.ical}") doit être le chemin d\'un fichier .ics du dossier du pack,'
                " par exemple nord-ordures.ics"
            )
        return self


class DropOff(PackModel):
    """A drop-off point (glass column…) in a zone."""

    place: Text
    address: str | None = None


class Zone(PackModel):
    """Streets and hamlets collected on the same days."""

    id: Slug
    name: Text
    description: str | None = None
    streets: tuple[Text, ...] = ()
    hamlets: tuple[Text, ...] = ()
    rules: dict[Slug, Rule] = Field(default_factory=dict)
    drop_off: dict[Slug, tuple[DropOff, ...]] = Field(default_factory=dict)


HolidayAction = Literal["next_day", "maintained"]


class HolidayOverride(PackModel):
    """A public holiday handled differently from the policy's default."""

    date: dt.date
    name: str | None = None
    action: HolidayAction
    note: str | None = None


class HolidayPolicy(PackModel):
    """What happens to a collection that falls on a public holiday."""

    calendar: Literal["commune"] = "commune"
    default: HolidayAction = "next_day"
    cascade_until: Weekday = "samedi"
    overrides: tuple[HolidayOverride, ...] = ()


class CollectionChange(PackModel):
    """A one-off change to one collection date (moved, or cancelled)."""

    id: Slug
    date: dt.date
    zones: tuple[Slug, ...] = Field(min_length=1)
    stream: Slug
    new_date: dt.date | None = None
    cancelled: bool = False
    start_time: Clock | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _moved_or_cancelled(self) -> Self:
        if self.cancelled and self.new_date is not None:
            raise ValueError('une collecte annulée ("cancelled") n\'a pas de "new_date"')
        if not self.cancelled and self.new_date is None:
            raise ValueError('il faut "new_date", ou "cancelled: true"')
        return self


class Period(PackModel):
    """Dates of validity of a calendar, bounds included."""

    model_config = PackModel.model_config | {"populate_by_name": True}

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError('"to" est avant "from"')
        return self


class Collecte(PackModel):
    """The whole `collecte.yaml`: streams, zones, holiday policy and exceptions."""

    period: Period
    streams: dict[Slug, Stream]
    zones: tuple[Zone, ...] = Field(min_length=1)
    holiday_policy: HolidayPolicy = HolidayPolicy()
    exceptions: tuple[CollectionChange, ...] = ()


class Event(PackModel):
    """A dated local event (market, council meeting, works, closure)."""

    id: Slug
    title: Text
    start: AwareDatetime
    end: AwareDatetime | None = None
    place: str | None = None
    description: str | None = None
    tags: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError('"end" est avant "start"')
        return self


class MenuDay(PackModel):
    """The canteen menu of one school day."""

    date: dt.date
    entree: str | None = None
    plat: Text
    accompagnement: str | None = None
    laitage: str | None = None
    dessert: str | None = None
    labels: tuple[Text, ...] = ()
