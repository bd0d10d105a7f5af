"""French date expressions, relative to the message's local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from knowledge.calendars.holidays import HolidayCalendar
from knowledge.dates import find_when
from knowledge.snapshot import Knowledge

NOW = datetime(2026, 12, 23, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Wednesday


@pytest.fixture(scope="module")
def holidays(example_knowledge: Knowledge) -> HolidayCalendar:
    return example_knowledge.holidays


@pytest.mark.parametrize(
    ("text", "start", "end", "specific"),
    [
        ("aujourd'hui", "2026-12-23", "2026-12-23", True),
        ("ajd c'est ouvert ?", "2026-12-23", "2026-12-23", True),
        ("ce soir", "2026-12-23", "2026-12-23", True),
        ("demain matin", "2026-12-24", "2026-12-24", True),
        ("après-demain", "2026-12-25", "2026-12-25", True),
        ("jeudi", "2026-12-24", "2026-12-24", True),
        ("mercredi prochain", "2026-12-30", "2026-12-30", True),
        ("le samedi", "2026-12-26", "2026-12-26", False),
        ("mes mercredis", "2026-12-23", "2026-12-23", False),
        ("ce week-end", "2026-12-26", "2026-12-27", True),
        ("cette semaine", "2026-12-23", "2026-12-27", True),
        ("la semaine prochaine", "2026-12-28", "2027-01-03", True),
        ("le 2 janvier", "2027-01-02", "2027-01-02", True),
        ("le 1er mars 2027", "2027-03-01", "2027-03-01", True),
        ("le 2/01", "2027-01-02", "2027-01-02", True),
        ("à Noël", "2026-12-25", "2026-12-25", True),
        ("le jour de l'an", "2027-01-01", "2027-01-01", True),
        ("lundi de Pâques", "2027-03-29", "2027-03-29", True),
        ("à la Pentecôte", "2027-05-17", "2027-05-17", True),
        ("le 14 juillet", "2027-07-14", "2027-07-14", True),
        ("la veille de Noël", "2026-12-24", "2026-12-24", True),
        ("le jour de la rentrée", "2027-01-04", "2027-01-04", True),
        ("pendant les vacances d'hiver", "2027-02-13", "2027-02-28", True),
        ("en janvier", "2027-01-01", "2027-01-31", False),
    ],
)
def test_expressions(
    holidays: HolidayCalendar, text: str, start: str, end: str, specific: bool
) -> None:
    when = find_when(text, NOW, holidays)
    assert when is not None, text
    assert (when.start, when.end) == (date.fromisoformat(start), date.fromisoformat(end)), text
    assert when.specific is specific


def test_a_month_is_named_with_its_accents(holidays: HolidayCalendar) -> None:
    for text, label in [("en fevrier", "en février"), ("en août", "en août")]:
        when = find_when(text, NOW, holidays)
        assert when is not None and when.label == label, text


def test_parts_of_the_day_and_no_date(holidays: HolidayCalendar) -> None:
    when = find_when("la mairie est ouverte cet après-midi ?", NOW, holidays)
    assert when is not None and when.part == "apres-midi" and when.start == NOW.date()
    assert find_when("comment refaire ma carte d'identité ?", NOW, holidays) is None
    assert find_when("le 31 février", NOW, holidays) is None


def test_relative_words_win_over_a_holiday_named_as_context(holidays: HolidayCalendar) -> None:
    when = find_when("le repas de Noël à la cantine demain ?", NOW, holidays)
    assert when is not None and when.start == date(2026, 12, 24)
