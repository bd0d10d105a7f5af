"""The school canteen day by day: the published menu, or why there is none that day."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from knowledge.calendars.holidays import HolidayCalendar
from knowledge.pack.calendar_models import MenuDay
from knowledge.text import words as folded_words

Reason = Literal[
    "served",
    "wednesday",
    "weekend",
    "public_holiday",
    "school_holidays",
    "not_published",
    "no_service",
]


@dataclass(frozen=True, slots=True)
class CanteenDay:
    """One day at the canteen: its menu when served, else the reason there is none."""

    day: date
    menu: MenuDay | None
    reason: Reason
    label: str | None  # holiday name ("Noël", "Vacances de Noël") when relevant

    @property
    def served(self) -> bool:
        """A menu is published for that day."""
        return self.menu is not None


class CanteenCalendar:
    """Canteen days from the published menus and the commune's holiday calendar."""

    def __init__(self, menus: Sequence[MenuDay], holidays: HolidayCalendar) -> None:
        self._menus = {menu.date: menu for menu in menus}
        self._dates = sorted(self._menus)
        self._holidays = holidays

    @property
    def first_published(self) -> date | None:
        """The first date with a published menu."""
        return self._dates[0] if self._dates else None

    @property
    def last_published(self) -> date | None:
        """The last date with a published menu."""
        return self._dates[-1] if self._dates else None

    def day(self, on: date) -> CanteenDay:
        """The menu of `on`, or why none is served (weekend, Wednesday, holidays…)."""
        menu = self._menus.get(on)
        if menu is not None:
            return CanteenDay(on, menu, "served", None)
        public = self._holidays.public_holiday(on)
        school = self._holidays.school_holiday(on)
        return CanteenDay(on, None, self._reason(on, public, school), public or school)

    def week(self, monday: date) -> list[CanteenDay]:
        """Monday to Friday of the week containing `monday`."""
        start = monday - timedelta(days=monday.weekday())
        return [self.day(start + timedelta(days=offset)) for offset in range(5)]

    def next_served(self, after: date) -> CanteenDay | None:
        """The first day strictly after `after` with a published menu."""
        index = bisect_right(self._dates, after)
        return self.day(self._dates[index]) if index < len(self._dates) else None

    def search(
        self, words: str | Iterable[str], start: date | None = None, end: date | None = None
    ) -> list[CanteenDay]:
        """Served days between `start` and `end` (included) whose dishes contain one of `words`.

        Each item is compared without case nor accents, at word starts, singular or plural:
        "galette" finds "Galette des rois", "frites" finds "frite", "oeuf" finds "Œufs".
        """
        items = [words] if isinstance(words, str) else list(words)
        patterns = [pattern for pattern in map(_dish_pattern, items) if pattern is not None]
        if not patterns:
            return []
        return [
            self.day(on)
            for on in self._dates
            if (start is None or on >= start)
            and (end is None or on <= end)
            and any(p.search(_dishes_text(self._menus[on])) for p in patterns)
        ]

    def _reason(self, on: date, public: str | None, school: str | None) -> Reason:
        if on.weekday() >= 5:
            return "weekend"
        if on.weekday() == 2:
            return "wednesday"
        if public is not None:
            return "public_holiday"
        if school is not None:
            return "school_holidays"
        if not self._dates or on < self._dates[0] or on > self._dates[-1]:
            return "not_published"
        return "no_service"


def _dishes_text(menu: MenuDay) -> str:
    """Folded words of each dish, dishes kept apart so that a phrase never spans two."""
    dishes = (menu.entree, menu.plat, menu.accompagnement, menu.laitage, menu.dessert)
    return " | ".join(" ".join(folded_words(dish)) for dish in dishes if dish)


def _dish_pattern(text: str) -> re.Pattern[str] | None:
    tokens = folded_words(text)
    if not tokens:
        return None
    parts = [re.escape(_singular(token)) + "(?:s|x)?" for token in tokens]
    return re.compile(r"\b" + " ".join(parts) + r"\b")


def _singular(token: str) -> str:
    return token[:-1] if len(token) > 3 and token.endswith(("s", "x")) else token
