"""Small value types shared by the pack models: weekdays, time ranges, slugs."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints

WEEKDAYS: tuple[str, ...] = (
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
)
Weekday = Literal["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]

Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PackModel(BaseModel):
    """Base of every pack model: immutable, and unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_TIME = re.compile(r"^([01]?\d|2[0-4])[:h]([0-5]\d)$")


def parse_clock(value: str) -> time:
    """'08:30' or '8h30' -> time; '24:00' is the end of the day."""
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(f'heure invalide "{value}" (attendu HH:MM)')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24:
        if minute:
            raise ValueError(f'heure invalide "{value}"')
        return time(23, 59, 59)
    return time(hour, minute)


Clock = Annotated[time, BeforeValidator(lambda v: parse_clock(v) if isinstance(v, str) else v)]


class TimeRange(PackModel):
    """An opening range within one day, written "HH:MM-HH:MM" in the files."""

    start: time
    end: time


def _parse_range(value: object) -> object:
    if not isinstance(value, str):
        return value
    start, sep, end = value.replace("–", "-").partition("-")
    if not sep:
        raise ValueError(f'plage horaire invalide "{value}" (attendu HH:MM-HH:MM)')
    return {"start": parse_clock(start), "end": parse_clock(end)}


def _check_range(value: TimeRange) -> TimeRange:
    if value.end <= value.start:
        raise ValueError("la fin de la plage horaire doit être après son début")
    return value


Range = Annotated[TimeRange, BeforeValidator(_parse_range), AfterValidator(_check_range)]
