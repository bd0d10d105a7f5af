"""French date expressions in residents' questions: "demain", "jeudi prochain", "le 2/01",
"à Noël", "la semaine prochaine", "le jour de la rentrée"…

`find_when` reads the folded question and returns the day or range meant, relative to the
moment the message was sent, in the commune's timezone. It recognises a closed set of
expressions that residents use; anything else is "no date said".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from knowledge.calendars.holidays import HolidayCalendar
from knowledge.pack.fields import WEEKDAYS
from knowledge.phrases import MONTHS as SPELLED_MONTHS
from knowledge.text import fold

Part = Literal["matin", "midi", "apres-midi", "soir"]
MONTHS = (
    "janvier", "fevrier", "mars", "avril", "mai", "juin",
    "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
)  # fmt: skip
_MONTH_ALIASES = {"janv": 1, "fev": 2, "fevr": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10,
                  "nov": 11, "dec": 12}  # fmt: skip
# Resident's words -> the holidays package's French name (or a fixed day for eves).
HOLIDAY_WORDS: tuple[tuple[str, str], ...] = (
    (r"lundi de paques", "Lundi de Pâques"),
    (r"lundi de (la )?pentecote|pentecote", "Lundi de Pentecôte"),
    (r"vendredi saint", "Vendredi saint"),
    (r"jour de l'?an|nouvel an|premier de l'?an|1er de l'?an", "Jour de l'an"),
    (r"fete du travail|1er mai|premier mai", "Fête du Travail"),
    (r"8 mai|fete de la victoire|victoire 1945", "Fête de la Victoire"),
    (r"ascension", "Ascension"),
    (r"fete nationale|14 juillet|quatorze juillet", "Fête nationale"),
    (r"assomption|15 aout", "Assomption"),
    (r"toussaint", "Toussaint"),
    (r"armistice|11 novembre", "Armistice"),
    (r"saint[- ]etienne|26 decembre", "Saint-Étienne"),
    (r"(jour de )?noel", "Noël"),
    (r"paques", "Pâques"),
)
_EVES = (
    (r"veille de noel|reveillon de noel", (12, 24)),
    (r"saint[- ]sylvestre|reveillon", (12, 31)),
)


@dataclass(frozen=True, slots=True)
class When:
    """A day or a range of days a question is about (bounds included)."""

    start: date
    end: date
    label: str
    specific: bool = True  # False for habits: "le samedi" means every Saturday
    part: Part | None = None

    @property
    def single_day(self) -> bool:
        return self.start == self.end


def find_when(text: str, now: datetime, holidays: HolidayCalendar) -> When | None:
    """The period `text` speaks of, or None when it names no date."""
    folded = " " + normalise(text) + " "
    today = now.date()
    part = _part(folded)
    finders = (
        _explicit_date, _relative_day, _week, _school_holidays, _eve, _holiday, _rentree,
        _weekday, _month,
    )  # fmt: skip
    for finder in (*finders, _soon):
        found = finder(folded, today, holidays)
        if found is not None:
            if part and found.single_day and found.part is None:
                return When(found.start, found.end, found.label, found.specific, part)
            return found
    if part and re.search(r" (ce|cet|cette) (matin|apres midi|aprem|soir) ", folded):
        return When(today, today, "aujourd'hui", True, part)
    return None


def normalise(text: str) -> str:
    """Folded words separated by single spaces; apostrophes, slashes and dates kept."""
    folded = fold(text).replace("-", " ")
    folded = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", folded)
    return " ".join(re.sub(r"[^a-z0-9'/.]", " ", folded).split())


def _part(folded: str) -> Part | None:
    if re.search(r" (apres midi|aprem|aprèm) ", folded):
        return "apres-midi"
    if re.search(r" (ce )?soir(ee)? ", folded):
        return "soir"
    if re.search(r" matin ", folded):
        return "matin"
    if re.search(r" midi ", folded):
        return "midi"
    return None


def _relative_day(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    table = (
        (r" (apres demain|apres 2main) ", 2, "après-demain"),
        (r" (demain|dmain|2main) ", 1, "demain"),
        (r" (aujourd'?hui|aujourd hui|auj|ajd|aujd|ce jour) ", 0, "aujourd'hui"),
        (
            r" (ce soir|ce matin|cet apres midi|cet aprem|ce midi|tout a l'heure|tantot) ",
            0,
            "aujourd'hui",
        ),
        (r" hier ", -1, "hier"),
    )
    for pattern, offset, label in table:
        if re.search(pattern, folded):
            day = today + timedelta(days=offset)
            return When(day, day, label)
    return None


def _week(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    monday = today - timedelta(days=today.weekday())
    if re.search(r" (ce|cette fin de|le) week ?end ", folded):
        saturday = monday + timedelta(days=5)
        if today.weekday() == 6:
            saturday = today - timedelta(days=1)
        return When(max(saturday, today), saturday + timedelta(days=1), "ce week-end")
    if re.search(r" (la )?semaine (prochaine|suivante|d'apres) ", folded):
        return When(monday + timedelta(days=7), monday + timedelta(days=13), "la semaine prochaine")
    if re.search(r" (cette semaine|en ce moment|cette sem) ", folded):
        return When(today, monday + timedelta(days=6), "cette semaine")
    return None


def _soon(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    if re.search(r" (bientot|prochainement|a venir|prochain|prochaine) ", folded):
        return When(today, today + timedelta(days=60), "prochainement", specific=False)
    return None


def _weekday(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    match = re.search(
        r" (le |ce |les )?(" + "|".join(WEEKDAYS) + r")(s?)( prochain| qui vient)? ", folded
    )
    if not match:
        return None
    article, name, plural, following = match.groups()
    ahead = (WEEKDAYS.index(name) - today.weekday()) % 7
    if following and ahead == 0:
        ahead = 7
    day = today + timedelta(days=ahead)
    generic = (article in ("le ", "les ") or plural == "s") and not following
    return When(day, day, name, specific=not generic)


def _explicit_date(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    match = re.search(r" (\d{4})-(\d{2})-(\d{2}) ", folded)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _safe(year, month, day, "date")
    match = re.search(r" (\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))? ", folded)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        return _in_year(today, day, month, match.group(3))
    months = "|".join(MONTHS) + "|" + "|".join(_MONTH_ALIASES)
    match = re.search(r" (\d{1,2})(?:er|e)? (" + months + r")\.?(?: (\d{4}))? ", folded)
    if match:
        day, name = int(match.group(1)), match.group(2)
        month = MONTHS.index(name) + 1 if name in MONTHS else _MONTH_ALIASES[name]
        return _in_year(today, day, month, match.group(3))
    return None


def _in_year(today: date, day: int, month: int, year_text: str | None) -> When | None:
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _safe(year, month, day, "date")
    found = _safe(today.year, month, day, "date")
    if found is not None and (today - found.start).days > 31:  # "le 2 janvier" in December
        found = _safe(today.year + 1, month, day, "date")
    return found


def _safe(year: int, month: int, day: int, label: str) -> When | None:
    try:
        moment = date(year, month, day)
    except ValueError:
        return None
    return When(moment, moment, label)


def _holiday(folded: str, today: date, holidays: HolidayCalendar) -> When | None:
    for pattern, name in HOLIDAY_WORDS:
        if not re.search(r" " + pattern + r" ", folded):
            continue
        if name == "Pâques":
            monday = _next_named(holidays, "Lundi de Pâques", today)
            return (
                When(monday - timedelta(days=1), monday - timedelta(days=1), "Pâques")
                if monday
                else None
            )
        day = _next_named(holidays, name, today)
        if day is not None:
            return When(day, day, name)
    return None


def _eve(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    for pattern, (month, day) in _EVES:
        if re.search(r" " + pattern + r" ", folded):
            return _in_year(today, day, month, None)
    return None


def _next_named(holidays: HolidayCalendar, name: str, today: date) -> date | None:
    years = range(today.year, today.year + 2)
    days = sorted(
        d
        for d, n in holidays.public_holidays(years).items()
        if n == name and d >= today - timedelta(days=1)
    )
    return days[0] if days else None


_SCHOOL_HOLIDAYS = (
    (r"vacances de noel|vacances de fin d'?annee|vacances des fetes", "Vacances de Noël"),
    (r"vacances d'?hiver|vacances de fevrier|vacances du ski", "Vacances d'hiver"),
    (r"vacances de printemps|vacances de paques|vacances d'?avril", "Vacances de printemps"),
    (r"vacances d'?ete|grandes vacances|vacances scolaires d'?ete", "Vacances d'été"),
    (r"vacances de (la )?toussaint", "Vacances de la Toussaint"),
    (r"vacances scolaires|pendant les vacances|prochaines vacances", ""),
)


def _school_holidays(folded: str, today: date, holidays: HolidayCalendar) -> When | None:
    """ "Pendant les vacances de Noël": the next (or current) school holidays of that name."""
    for pattern, name in _SCHOOL_HOLIDAYS:
        if not re.search(r" " + pattern + r" ", folded):
            continue
        day = today
        for _ in range(400):
            found = holidays.school_holiday(day)
            if found and (not name or found == name):
                start = day
                while holidays.school_holiday(day + timedelta(days=1)) == found:
                    day += timedelta(days=1)
                return When(start, day, found.lower())
            day += timedelta(days=1)
        return None
    return None


def _rentree(folded: str, today: date, holidays: HolidayCalendar) -> When | None:
    if not re.search(r" rentree ", folded):
        return None
    day = today
    for _ in range(120):  # find the next school holidays, then the first day after them
        if holidays.school_holiday(day):
            break
        day += timedelta(days=1)
    else:
        return None
    while holidays.school_holiday(day) or day.weekday() >= 5:
        day += timedelta(days=1)
    return When(day, day, "le jour de la rentrée")


def _month(folded: str, today: date, _h: HolidayCalendar) -> When | None:
    if re.search(r" (ce mois ci|ce mois) ", folded):
        start = today
        end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return When(start, end, "ce mois-ci", specific=False)
    if re.search(r" (le )?mois prochain ", folded):
        start = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return When(start, end, "le mois prochain", specific=False)
    match = re.search(r" (en|au mois d'?e?|debut|fin|mi) ?(" + "|".join(MONTHS) + r") ", folded)
    if match:
        month = MONTHS.index(match.group(2)) + 1
        year = today.year + (1 if month < today.month else 0)
        start = date(year, month, 1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return When(start, end, f"en {SPELLED_MONTHS[month - 1]}", specific=False)
    return None
