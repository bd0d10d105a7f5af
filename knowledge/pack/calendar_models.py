"""Typed models of the dated pack files: services, waste collection, menus and events."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import AwareDatetime, Field, field_validator, model_validator

from knowledge.pack.fields import WEEKDAYS, Clock, PackModel, Range, Slug, Text, Weekday


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


class Service(PackModel):
    """A public place or service and its opening hours."""

    id: Slug
    name: Text
    aliases: tuple[Text, ...] = ()
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    manager: str | None = None
    hours: dict[Weekday, tuple[Range, ...]] = Field(default_factory=dict)
    closures: tuple[Closure, ...] = ()


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
    """When a zone's door-to-door collection of one stream happens."""

    weekday: Weekday
    every: Literal[1, 2] = 1
    anchor: dt.date | None = None

    @model_validator(mode="after")
    def _anchor_fits(self) -> Self:
        if self.every == 2 and self.anchor is None:
            raise ValueError('"anchor" est obligatoire quand "every" vaut 2')
        if self.anchor is not None and WEEKDAYS[self.anchor.weekday()] != self.weekday:
            raise ValueError(
                f'"anchor" ({self.anchor.isoformat()}) est un {WEEKDAYS[self.anchor.weekday()]},'
                f" pas un {self.weekday}"
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
