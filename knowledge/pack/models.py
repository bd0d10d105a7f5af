"""Typed models of `commune.yaml`, `faq.yaml` and `synonymes.yaml`, and the loaded `Pack`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from knowledge.pack.calendar_models import Collecte, Event, MenuDay, Service
from knowledge.pack.fields import PackModel, Slug, Text


class Contact(PackModel):
    """How residents reach the mairie, and the sentence given when the bot has no answer."""

    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None
    fallback: Text


class HolidayCalendar(PackModel):
    """Which official public-holiday calendar applies (country and optional subdivision)."""

    country: str = "FR"
    subdivision: str | None = None


class Commune(PackModel):
    """Identity of the collectivity a pack describes."""

    name: Text
    kind: Literal["commune", "epci"] = "commune"
    population: int | None = None
    timezone: str = "Europe/Paris"
    holidays: HolidayCalendar = HolidayCalendar()
    language: Literal["fr"] = "fr"
    school_zone: Literal["A", "B", "C"] | None = None  # default: from the postcode
    contact: Contact
    inherit: Text | None = None  # folder of a parent pack (intercommunality), see the loader

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'fuseau horaire inconnu "{value}" (exemple : Europe/Paris)') from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class FaqEntry(PackModel):
    """One question-and-answer entry written by the agents."""

    id: Slug
    question: Text
    variants: tuple[Text, ...] = ()
    answer: Text
    tags: tuple[Text, ...] = ()
    links: tuple[Text, ...] = ()

    @field_validator("links")
    @classmethod
    def _web_links(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for link in value:
            if not link.startswith(("https://", "http://", "mailto:", "tel:")):
                raise ValueError(f'lien invalide "{link}" (il doit commencer par https://)')
        return value


SynonymGroup = tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class Pack:
    """Everything one collectivity's pack says, validated; an immutable snapshot."""

    path: Path
    commune: Commune
    faq: tuple[FaqEntry, ...]
    synonyms: tuple[SynonymGroup, ...] = ()
    services: tuple[Service, ...] = ()
    collecte: Collecte | None = None
    menus: tuple[MenuDay, ...] = ()
    events: tuple[Event, ...] = ()
    inherits: tuple[Path, ...] = ()
    """The parent packs' folders (`inherit` in `commune.yaml`), nearest first, resolved."""
    inherited: tuple[tuple[str, Path], ...] = ()
    """What was read from those folders rather than from `path`, and where from: a whole
    file as ("collecte.yaml", folder), an entry as ("faq.yaml#cantine", folder)."""

    def source(self, file: str, entry_id: str | None = None) -> Path:
        """The folder `file` (or its entry `entry_id`) was read from: `path` unless inherited.

        `pack.source("collecte.yaml")`, `pack.source("faq.yaml", "cantine")`; entries of
        `faq.yaml`, `services.yaml` and `events.yaml` are looked up by id.
        """
        key = file if entry_id is None else f"{file}#{entry_id}"
        return next((folder for name, folder in self.inherited if name == key), self.path)
