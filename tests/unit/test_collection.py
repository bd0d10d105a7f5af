"""The waste-collection calendar: rules, seasons, holidays and their cascade, exceptions, feeds.

Every date is explicit: nothing here reads the clock.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from knowledge.calendars.collection import Collection, CollectionCalendar, french_date
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.calendars.ical_feed import FeedError, feed_dates
from knowledge.pack import load_pack
from knowledge.pack.calendar_models import Collecte, Rule
from knowledge.pack.models import Commune

STREAMS: dict[str, Any] = {
    "ordures": {"name": "Ordures ménagères", "start_time": "06:00"},
    "emballages": {"name": "Emballages", "start_time": "06:00"},
    "vegetaux": {
        "name": "Déchets verts",
        "season": {"from": "04-01", "to": "11-30"},
        "start_time": "07:00",
    },
    "verre": {"name": "Verre", "mode": "drop_off"},
}
ZONES: list[dict[str, Any]] = [
    {
        "id": "nord",
        "name": "Nord",
        "rules": {
            "ordures": {"weekday": "lundi"},
            "emballages": {"weekday": "mardi", "every": 2, "anchor": "2027-03-02"},
            "vegetaux": {"weekday": "jeudi"},
        },
    },
    {
        "id": "centre",
        "name": "Centre",
        "rules": {
            "ordures": {"weekday": "mercredi"},
            "emballages": {"weekday": "jeudi", "every": 2, "anchor": "2027-05-06"},
            "vegetaux": {"weekday": "mardi"},
        },
    },
    {
        "id": "sud",
        "name": "Sud",
        "rules": {"ordures": {"weekday": "vendredi"}, "vegetaux": {"weekday": "lundi"}},
    },
]
WHIT_MONDAY_MAINTAINED = {"date": "2027-05-17", "action": "maintained"}


def _commune(subdivision: str | None = None) -> Commune:
    return Commune.model_validate(
        {
            "name": "Testville",
            "holidays": {"country": "FR", "subdivision": subdivision},
            "contact": {"fallback": "Contactez la mairie."},
        }
    )


def _calendar(
    zones: list[dict[str, Any]] | None = None,
    *,
    period: tuple[str, str] = ("2026-01-01", "2027-12-31"),
    subdivision: str | None = None,
    cascade_until: str = "samedi",
    overrides: tuple[dict[str, Any], ...] = (WHIT_MONDAY_MAINTAINED,),
    exceptions: tuple[dict[str, Any], ...] = (),
    folder: Path | None = None,
) -> CollectionCalendar:
    collecte = Collecte.model_validate(
        {
            "period": {"from": period[0], "to": period[1]},
            "streams": STREAMS,
            "zones": ZONES if zones is None else zones,
            "holiday_policy": {
                "default": "next_day",
                "cascade_until": cascade_until,
                "overrides": list(overrides),
            },
            "exceptions": list(exceptions),
        }
    )
    first, last = date.fromisoformat(period[0]).year, date.fromisoformat(period[1]).year
    holidays = HolidayCalendar(_commune(subdivision), range(first, last + 2))
    return CollectionCalendar(collecte, holidays, folder)


def _one(calendar: CollectionCalendar, zone: str, stream: str, planned: str) -> Collection:
    day = date.fromisoformat(planned)
    found = [c for c in calendar.collections(zone, stream, day, day) if c.planned == day]
    assert len(found) == 1, (zone, stream, planned, found)
    return found[0]


def _actual(calendar: CollectionCalendar, zone: str, stream: str, planned: str) -> date | None:
    return _one(calendar, zone, stream, planned).actual


def _days(collections: list[Collection]) -> list[date | None]:
    return [c.actual for c in collections]


# ------------------------------------------------------------------ rules and seasons


def test_weekly_rule_gives_every_weekday_of_the_period() -> None:
    calendar = _calendar(period=("2027-02-01", "2027-02-28"))
    found = calendar.collections("nord", "ordures", date(2027, 1, 1), date(2027, 12, 31))
    assert _days(found) == [date(2027, 2, day) for day in (1, 8, 15, 22)]
    assert all(c.start_time == time(6, 0) and c.change is None for c in found)
    assert not any(c.moved or c.cancelled for c in found)


def test_every_other_week_counts_from_the_anchor_both_ways() -> None:
    calendar = _calendar()
    found = calendar.collections("nord", "emballages", date(2027, 2, 1), date(2027, 3, 29))
    assert _days(found) == [date(2027, 2, d) for d in (2, 16)] + [date(2027, 3, d) for d in (2, 16)]
    assert calendar.collections("nord", "emballages", date(2027, 3, 9), date(2027, 3, 9)) == []


def test_nothing_outside_the_period() -> None:
    calendar = _calendar(period=("2027-03-03", "2027-03-20"))
    found = calendar.collections("nord", "ordures", date(2027, 1, 1), date(2027, 12, 31))
    assert _days(found) == [date(2027, 3, 8), date(2027, 3, 15)]


def test_season_window_bounds_included() -> None:
    calendar = _calendar()
    found = calendar.collections("centre", "vegetaux", date(2027, 3, 1), date(2027, 12, 31))
    assert found[0].planned == date(2027, 4, 6)  # Tuesday 30 March is out of season
    assert found[-1].planned == date(2027, 11, 30)  # a Tuesday, last day of the season
    assert calendar.collections("nord", "vegetaux", date(2027, 4, 1), date(2027, 4, 1))[0]
    assert calendar.collections("centre", "vegetaux", date(2026, 12, 1), date(2027, 3, 31)) == []


def test_season_may_wrap_the_new_year() -> None:
    streams = STREAMS | {"sapins": {"name": "Sapins", "season": {"from": "12-20", "to": "01-15"}}}
    collecte = Collecte.model_validate(
        {
            "period": {"from": "2026-12-01", "to": "2027-02-28"},
            "streams": streams,
            "zones": [{"id": "a", "name": "A", "rules": {"sapins": {"weekday": "mercredi"}}}],
        }
    )
    calendar = CollectionCalendar(collecte, HolidayCalendar(_commune(), range(2026, 2028)))
    found = calendar.collections("a", "sapins", date(2026, 12, 1), date(2027, 2, 28))
    december, january = [date(2026, 12, d) for d in (23, 30)], [date(2027, 1, d) for d in (6, 13)]
    assert _days(found) == december + january


def test_drop_off_stream_and_stream_without_rule_have_no_collection() -> None:
    calendar = _calendar()
    assert calendar.collections("nord", "verre", date(2027, 1, 1), date(2027, 12, 31)) == []
    assert calendar.collections("sud", "emballages", date(2027, 1, 1), date(2027, 12, 31)) == []
    with pytest.raises(KeyError):
        calendar.collections("ouest", "ordures", date(2027, 1, 1), date(2027, 12, 31))
    with pytest.raises(KeyError):
        calendar.collections("nord", "papier", date(2027, 1, 1), date(2027, 12, 31))


# ------------------------------------------------------------------ public holidays

HOLIDAY_MOVES = [
    # (zone, stream, planned, actual, reason)
    ("sud", "ordures", "2026-05-01", "2026-05-02", "Fête du Travail"),
    ("sud", "ordures", "2026-05-08", "2026-05-09", "Fête de la Victoire"),
    ("centre", "vegetaux", "2026-07-14", "2026-07-15", "Fête nationale"),
    ("nord", "vegetaux", "2026-07-16", "2026-07-17", "Fête nationale"),
    ("sud", "ordures", "2026-12-25", "2026-12-26", "Noël"),
    ("sud", "ordures", "2027-01-01", "2027-01-02", "Jour de l'an"),
    ("nord", "ordures", "2027-03-29", "2027-03-30", "Lundi de Pâques"),
    ("centre", "ordures", "2027-03-31", "2027-04-01", "Lundi de Pâques"),
    ("sud", "ordures", "2027-04-02", "2027-04-03", "Lundi de Pâques"),
    ("nord", "vegetaux", "2027-05-06", "2027-05-07", "Ascension"),
    ("centre", "emballages", "2027-05-06", "2027-05-07", "Ascension"),
    ("centre", "ordures", "2027-07-14", "2027-07-15", "Fête nationale"),
    ("sud", "ordures", "2027-07-16", "2027-07-17", "Fête nationale"),
    ("nord", "ordures", "2027-11-01", "2027-11-02", "Toussaint"),
    ("centre", "ordures", "2027-11-03", "2027-11-04", "Toussaint"),
    ("sud", "ordures", "2027-11-05", "2027-11-06", "Toussaint"),
    ("sud", "vegetaux", "2027-11-01", "2027-11-02", "Toussaint"),
    ("centre", "vegetaux", "2027-11-02", "2027-11-03", "Toussaint"),
    ("nord", "vegetaux", "2027-11-04", "2027-11-05", "Toussaint"),
    ("nord", "vegetaux", "2027-11-11", "2027-11-12", "Armistice"),
]


@pytest.mark.parametrize(("zone", "stream", "planned", "actual", "reason"), HOLIDAY_MOVES)
def test_holiday_moves_to_next_day_with_cascade(
    zone: str, stream: str, planned: str, actual: str, reason: str
) -> None:
    collection = _one(_calendar(), zone, stream, planned)
    assert collection.actual == date.fromisoformat(actual)
    assert (collection.reason, collection.change, collection.moved) == (reason, "holiday", True)


UNMOVED = [
    # streams without a collection on the holiday keep their days
    ("nord", "emballages", "2027-03-30"),  # Easter week: no packaging round on Monday
    ("nord", "vegetaux", "2027-04-01"),  # Monday 29 March is out of the green-waste season
    ("sud", "ordures", "2027-05-07"),  # Ascension: no household-waste round on Thursday
    ("centre", "emballages", "2027-11-04"),  # Toussaint: no packaging round on Monday
    ("sud", "ordures", "2027-11-12"),  # Armistice
    ("nord", "ordures", "2027-07-12"),  # before the holiday in its week
    ("centre", "vegetaux", "2027-07-13"),
    # Whit Monday is overridden as maintained
    ("nord", "ordures", "2027-05-17"),
    ("sud", "vegetaux", "2027-05-17"),
    ("centre", "ordures", "2027-05-19"),
    # 1 May and 8 May 2027 are Saturdays, without any collection
    ("sud", "ordures", "2027-04-30"),
    ("nord", "ordures", "2027-05-03"),
    ("centre", "ordures", "2027-05-05"),
    ("sud", "ordures", "2027-05-14"),
]


@pytest.mark.parametrize(("zone", "stream", "planned"), UNMOVED)
def test_collection_not_affected(zone: str, stream: str, planned: str) -> None:
    collection = _one(_calendar(), zone, stream, planned)
    assert collection.actual == collection.planned
    assert (collection.change, collection.reason) == (None, None)


def test_saturday_holidays_change_nothing() -> None:
    calendar = _calendar()
    for saturday in (date(2027, 5, 1), date(2027, 5, 8)):
        assert all(calendar.day(zone, saturday) == [] for zone in ("nord", "centre", "sud"))


def test_every_2026_2027_holiday_on_a_collection_day_is_handled() -> None:
    calendar = _calendar()
    holidays = HolidayCalendar(_commune(), range(2026, 2029)).public_holidays()
    moved = 0
    for zone in ("nord", "centre", "sud"):
        for stream in ("ordures", "emballages", "vegetaux"):
            for item in calendar.collections(zone, stream, date(2026, 1, 1), date(2027, 12, 31)):
                assert item.actual is not None
                if item.planned in holidays and item.planned != date(2027, 5, 17):
                    assert item.actual == item.planned + timedelta(days=1), item
                    moved += 1
                if item.actual != date(2027, 5, 17):
                    assert item.actual not in holidays, item
    assert moved >= 14
    assert calendar.problems() == []


def test_two_holidays_in_one_week_add_up() -> None:
    # 2029: Tuesday 8 May (Victoire) and Thursday 10 May (Ascension) in the same week.
    zones = [
        {"id": "a", "name": "A", "rules": {"ordures": {"weekday": "mardi"}}},
        {"id": "b", "name": "B", "rules": {"ordures": {"weekday": "jeudi"}}},
        {"id": "c", "name": "C", "rules": {"ordures": {"weekday": "lundi"}}},
    ]
    calendar = _calendar(zones, period=("2029-04-01", "2029-06-30"), overrides=())
    assert _actual(calendar, "a", "ordures", "2029-05-08") == date(2029, 5, 9)
    thursday = _one(calendar, "b", "ordures", "2029-05-10")
    assert thursday.actual == date(2029, 5, 12)
    assert thursday.reason == "Fête de la Victoire et Ascension"
    assert _actual(calendar, "c", "ordures", "2029-05-07") == date(2029, 5, 7)
    assert _actual(calendar, "b", "ordures", "2029-05-17") == date(2029, 5, 17)


def test_cascade_stops_at_cascade_until_and_reports_the_overflow() -> None:
    zones = [
        {"id": "lun", "name": "Lundi", "rules": {"ordures": {"weekday": "lundi"}}},
        {"id": "ven", "name": "Vendredi", "rules": {"ordures": {"weekday": "vendredi"}}},
        {"id": "sam", "name": "Samedi", "rules": {"ordures": {"weekday": "samedi"}}},
    ]
    period = ("2027-03-01", "2027-04-30")
    friday = _calendar(zones, period=period, cascade_until="vendredi")
    assert _actual(friday, "lun", "ordures", "2027-03-29") == date(2027, 3, 30)
    assert _actual(friday, "ven", "ordures", "2027-04-02") == date(2027, 4, 3)
    assert _actual(friday, "sam", "ordures", "2027-04-03") == date(2027, 4, 3)  # not cascaded
    problems = friday.problems()
    assert len(problems) == 1, problems
    assert 'zone "ven", flux "ordures"' in problems[0]
    assert "vendredi 2 avril 2027" in problems[0] and "samedi 3 avril 2027" in problems[0]
    assert "après le vendredi" in problems[0]

    saturday = _calendar(zones, period=period)
    assert _actual(saturday, "sam", "ordures", "2027-04-03") == date(2027, 4, 4)
    problems = saturday.problems()
    assert len(problems) == 1, problems
    assert 'zone "sam"' in problems[0] and "dimanche 4 avril 2027" in problems[0]
    assert "un dimanche" in problems[0]


# ------------------------------------------------------------------ Alsace-Moselle

ALSACE_ZONES = [
    {"id": "est", "name": "Est", "rules": {"ordures": {"weekday": "vendredi"}}},
    {"id": "ouest", "name": "Ouest", "rules": {"emballages": {"weekday": "samedi"}}},
]


def test_moselle_good_friday_and_saint_etienne_move_collections() -> None:
    calendar = _calendar(ALSACE_ZONES, period=("2026-12-01", "2027-04-30"), subdivision="57")
    good_friday = _one(calendar, "est", "ordures", "2027-03-26")
    assert (good_friday.actual, good_friday.reason) == (date(2027, 3, 27), "Vendredi saint")
    saint_etienne = _one(calendar, "ouest", "emballages", "2026-12-26")
    assert (saint_etienne.actual, saint_etienne.reason) == (date(2026, 12, 27), "Saint-Étienne")
    assert _actual(calendar, "ouest", "emballages", "2027-01-02") == date(2027, 1, 2)
    problems = calendar.problems()
    assert any(
        'zone "ouest"' in p and "dimanche 27 décembre 2026" in p and "un dimanche" in p
        for p in problems
    ), problems
    assert any(
        'zone "est"' in p and "samedi 26 décembre 2026" in p and "férié (Saint-Étienne)" in p
        for p in problems
    ), problems


def test_commune_without_subdivision_has_no_alsace_holidays() -> None:
    calendar = _calendar(ALSACE_ZONES, period=("2026-12-01", "2027-04-30"))
    assert _actual(calendar, "est", "ordures", "2027-03-26") == date(2027, 3, 26)
    assert _actual(calendar, "ouest", "emballages", "2026-12-26") == date(2026, 12, 26)
    assert _actual(calendar, "est", "ordures", "2026-12-25") == date(2026, 12, 26)
    assert calendar.problems() == []


# ------------------------------------------------------------------ exceptions

EXCEPTIONS = (
    {
        "id": "travaux",
        "date": "2027-02-08",
        "zones": ["nord"],
        "stream": "ordures",
        "new_date": "2027-02-06",
        "note": "  Travaux rue\n   des Lilas :\tcollecte avancée. ",
    },
    {
        "id": "pont",
        "date": "2027-05-20",
        "zones": ["centre"],
        "stream": "emballages",
        "cancelled": True,
        "note": "Pont fermé.",
    },
    {
        "id": "canicule",
        "date": "2027-06-25",
        "zones": ["sud", "nord"],
        "stream": "ordures",
        "new_date": "2027-06-25",
        "start_time": "05:00",
        "note": "Canicule.",
    },
    {
        "id": "apres-jour-de-l-an",
        "date": "2027-01-02",
        "zones": ["sud"],
        "stream": "ordures",
        "new_date": "2027-01-04",
    },
)


def test_exception_moves_a_collection() -> None:
    collection = _one(_calendar(exceptions=EXCEPTIONS), "nord", "ordures", "2027-02-08")
    assert collection.actual == date(2027, 2, 6)
    assert collection.reason == "Travaux rue des Lilas : collecte avancée."
    assert (collection.change, collection.moved, collection.start_time) == (
        "exception",
        True,
        time(6, 0),
    )


def test_exception_cancels_a_collection() -> None:
    calendar = _calendar(exceptions=EXCEPTIONS)
    collection = _one(calendar, "centre", "emballages", "2027-05-20")
    assert collection.cancelled and not collection.moved
    assert (collection.reason, collection.change) == ("Pont fermé.", "exception")
    assert calendar.day("centre", date(2027, 5, 20)) == []


def test_exception_changes_only_the_start_time() -> None:
    collection = _one(_calendar(exceptions=EXCEPTIONS), "sud", "ordures", "2027-06-25")
    assert (collection.actual, collection.start_time) == (date(2027, 6, 25), time(5, 0))
    assert (collection.change, collection.moved, collection.reason) == (
        "exception",
        False,
        "Canicule.",
    )


def test_exception_dates_are_after_the_holiday_policy() -> None:
    calendar = _calendar(exceptions=EXCEPTIONS)
    collection = _one(calendar, "sud", "ordures", "2027-01-01")
    assert (collection.actual, collection.change, collection.reason) == (
        date(2027, 1, 4),
        "exception",
        None,
    )


def test_exception_problems() -> None:
    bad = (
        # 1 January is moved to the 2nd by the holiday policy: the exception must say the 2nd
        {"id": "oubli-ferie", "date": "2027-01-01", "zones": ["sud"], "stream": "ordures",
         "cancelled": True},
        {"id": "mauvais-jour", "date": "2027-02-09", "zones": ["nord"], "stream": "ordures",
         "new_date": "2027-02-10"},
        {"id": "vers-ferie", "date": "2027-11-10", "zones": ["centre"], "stream": "ordures",
         "new_date": "2027-11-11"},
    )  # fmt: skip
    problems = _calendar(exceptions=EXCEPTIONS + bad).problems()
    assert len(problems) == 4, problems  # "canicule" names nord, which is not collected on Fridays
    assert any(
        'exception "oubli-ferie", zone "sud", flux "ordures"' in p
        and "vendredi 1er janvier 2027 n'est pas un jour de collecte" in p
        and "samedi 2 janvier 2027" in p
        for p in problems
    ), problems
    assert any('exception "mauvais-jour"' in p and "mardi 9 février 2027" in p for p in problems)
    assert any('exception "canicule", zone "nord"' in p for p in problems)
    assert any(
        'exception "vers-ferie"' in p and "jeudi 11 novembre 2027" in p and "Armistice" in p
        for p in problems
    ), problems


def test_problems_are_empty_for_consistent_exceptions() -> None:
    good = tuple(change for change in EXCEPTIONS if change["id"] != "canicule")
    assert _calendar(exceptions=good).problems() == []


def test_override_of_a_day_that_is_no_holiday_is_reported() -> None:
    override = {"date": "2027-05-18", "name": "Pentecôte", "action": "maintained"}
    problems = _calendar(overrides=(WHIT_MONDAY_MAINTAINED, override)).problems()
    assert len(problems) == 1 and "mardi 18 mai 2027" in problems[0], problems
    assert "n'est pas un jour férié" in problems[0]


# ------------------------------------------------------------------ queries


def test_collections_match_planned_or_actual_date() -> None:
    calendar = _calendar()
    before = calendar.collections("sud", "ordures", date(2026, 12, 21), date(2026, 12, 25))
    after = calendar.collections("sud", "ordures", date(2026, 12, 26), date(2026, 12, 31))
    assert _days(before) == [date(2026, 12, 26)]
    assert _days(after) == [date(2026, 12, 26)]


def test_next_collections_include_cancelled_ones_on_the_way() -> None:
    calendar = _calendar(exceptions=EXCEPTIONS)
    found = calendar.next_collections("centre", "emballages", date(2027, 5, 8))
    assert [(c.planned, c.actual) for c in found] == [
        (date(2027, 5, 20), None),
        (date(2027, 6, 3), date(2027, 6, 3)),
    ]
    three = calendar.next_collections("centre", "emballages", date(2027, 5, 1), count=3)
    assert _days(three) == [date(2027, 5, 7), None, date(2027, 6, 3), date(2027, 6, 17)]
    assert calendar.next_collections("centre", "emballages", date(2027, 5, 21), count=0) == []
    assert calendar.next_collections("centre", "emballages", date(2028, 1, 1)) == []


def test_next_collection_on_the_day_itself_and_after_a_holiday_move() -> None:
    calendar = _calendar()
    found = calendar.next_collections("sud", "ordures", date(2026, 12, 26))
    assert [(c.planned, c.actual) for c in found] == [(date(2026, 12, 25), date(2026, 12, 26))]


def test_day_lists_every_stream_really_collected() -> None:
    calendar = _calendar(exceptions=EXCEPTIONS)
    assert calendar.day("nord", date(2027, 5, 6)) == []
    assert [c.stream for c in calendar.day("nord", date(2027, 5, 7))] == ["vegetaux"]
    assert [c.stream for c in calendar.day("centre", date(2027, 5, 7))] == ["emballages"]
    assert [c.stream for c in calendar.day("nord", date(2027, 3, 30))] == ["ordures", "emballages"]
    assert [c.planned for c in calendar.day("nord", date(2027, 2, 6))] == [date(2027, 2, 8)]
    assert calendar.day("nord", date(2027, 2, 8)) == []


def test_french_date() -> None:
    assert french_date(date(2027, 1, 1)) == "vendredi 1er janvier 2027"
    assert french_date(date(2027, 8, 15)) == "dimanche 15 août 2027"


# ------------------------------------------------------------------ iCalendar feeds

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Testville//Collecte//FR
BEGIN:VEVENT
UID:ordures-nord@testville.example
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20270301
SUMMARY:Ordures ménagères
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270426
EXDATE;VALUE=DATE:20270329
RDATE;VALUE=DATE:20270330,20270506
END:VEVENT
BEGIN:VEVENT
UID:ordures-nord-mai@testville.example
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:20270503T060000
DTEND;TZID=Europe/Paris:20270503T120000
SUMMARY:Ordures ménagères
END:VEVENT
END:VCALENDAR
"""


def _write_pack(folder: Path, nord_rule: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "commune.yaml").write_text(
        "name: Testville\ncontact:\n  fallback: Contactez la mairie.\n", encoding="utf-8"
    )
    (folder / "faq.yaml").write_text(
        "- id: mairie\n  question: Où est la mairie ?\n  answer: Place de la Mairie.\n",
        encoding="utf-8",
    )
    (folder / "collecte.yaml").write_text(
        f"""period: {{from: 2027-01-01, to: 2027-06-30}}
streams:
  ordures: {{name: Ordures ménagères, mode: door, start_time: "06:00"}}
zones:
  - id: nord
    name: Nord
    rules:
      ordures: {nord_rule}
  - id: sud
    name: Sud
    rules:
      ordures: {{weekday: vendredi}}
exceptions:
  - id: greve
    date: 2027-04-12
    zones: [nord]
    stream: ordures
    cancelled: true
    note: Grève.
""",
        encoding="utf-8",
    )
    return folder


def test_ical_feed_gives_real_dates_and_only_exceptions_apply(tmp_path: Path) -> None:
    folder = _write_pack(tmp_path / "pack", "{ical: feeds/nord.ics}")
    (folder / "feeds").mkdir()
    (folder / "feeds" / "nord.ics").write_text(ICS, encoding="utf-8")
    calendar = CollectionCalendar.for_pack(load_pack(folder))
    assert calendar is not None
    found = calendar.collections("nord", "ordures", date(2027, 3, 1), date(2027, 5, 31))
    expected = [(3, 1), (3, 8), (3, 15), (3, 22), (3, 30), (4, 5), (4, 12), (4, 19), (4, 26)]
    expected += [(5, 3), (5, 6)]  # the second event, and the RDATE on Ascension day
    assert [c.planned for c in found] == [date(2027, m, d) for m, d in expected]
    greve = _one(calendar, "nord", "ordures", "2027-04-12")
    assert greve.cancelled and greve.reason == "Grève."
    ascension = _one(calendar, "nord", "ordures", "2027-05-06")  # a feed's date is real
    assert (ascension.actual, ascension.change) == (date(2027, 5, 6), None)
    # a feed zone does not start a cascade in the zones with rules
    assert _actual(calendar, "sud", "ordures", "2027-04-02") == date(2027, 4, 2)
    assert calendar.problems() == []


def test_feed_dates_expands_recurrences(tmp_path: Path) -> None:
    path = tmp_path / "nord.ics"
    path.write_text(ICS, encoding="utf-8")
    assert feed_dates(path, date(2027, 3, 20), date(2027, 4, 5)) == [
        date(2027, 3, 22),
        date(2027, 3, 30),
        date(2027, 4, 5),
    ]


def test_feed_errors_are_french(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="introuvable"):
        feed_dates(tmp_path / "absent.ics", date(2027, 1, 1), date(2027, 12, 31))
    garbage = tmp_path / "garbage.ics"
    garbage.write_text("ceci n'est pas un calendrier\n", encoding="utf-8")
    with pytest.raises(FeedError, match="n'est pas un fichier iCalendar valide"):
        feed_dates(garbage, date(2027, 1, 1), date(2027, 12, 31))
    empty = tmp_path / "empty.ics"
    empty.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", encoding="utf-8")
    with pytest.raises(FeedError, match="aucun événement"):
        feed_dates(empty, date(2027, 1, 1), date(2027, 12, 31))


def test_missing_feed_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = _write_pack(tmp_path / "pack", "{ical: nord.ics}")
    calendar = CollectionCalendar.for_pack(load_pack(folder))
    assert calendar is not None
    assert calendar.collections("nord", "ordures", date(2027, 1, 1), date(2027, 6, 30)) == []
    problems = calendar.problems()
    assert any('zone "nord", flux "ordures"' in p and "introuvable" in p for p in problems)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"weekday": "lundi", "ical": "a.ics"}, 'soit "weekday", soit "ical"'),
        ({"every": 2}, 'il faut "weekday"'),
        ({"ical": "a.ics", "every": 1}, 'retirez "every" et "anchor"'),
        ({"ical": "../autre/a.ics"}, "dossier du pack"),
        ({"ical": "/etc/a.ics"}, "dossier du pack"),
    ],
)
def test_rule_is_a_weekday_or_a_feed(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Rule.model_validate(raw)


def test_rule_accepts_a_feed() -> None:
    rule = Rule.model_validate({"ical": "feeds/nord-ordures.ics"})
    assert (rule.weekday, rule.ical) == (None, "feeds/nord-ordures.ics")


# ------------------------------------------------------------------ the shared Brumeval pack


def test_brumeval_calendar_matches_its_comments(brumeval_pack: Path) -> None:
    calendar = CollectionCalendar.for_pack(load_pack(brumeval_pack))
    assert calendar is not None
    assert calendar.problems() == []
    moves = [
        ("sud", "ordures", "2026-12-25", date(2026, 12, 26)),  # rue des Peupliers
        ("sud", "ordures", "2027-01-01", date(2027, 1, 2)),
        ("nord", "ordures", "2027-03-29", date(2027, 3, 30)),
        ("centre", "ordures", "2027-03-31", date(2027, 4, 1)),
        ("sud", "ordures", "2027-04-02", date(2027, 4, 3)),
        ("sud", "emballages", "2027-05-06", date(2027, 5, 7)),
        ("nord", "vegetaux", "2027-05-06", date(2027, 5, 7)),
        ("nord", "ordures", "2027-05-17", date(2027, 5, 17)),
        ("sud", "vegetaux", "2027-05-17", date(2027, 5, 17)),
        ("centre", "ordures", "2026-12-16", date(2026, 12, 15)),
        ("sud", "emballages", "2027-01-14", None),
    ]
    for zone, stream, planned, actual in moves:
        assert _actual(calendar, zone, stream, planned) == actual, (zone, stream, planned)
    assert _one(calendar, "sud", "ordures", "2026-12-25").reason == "Noël"
    for zone in ("nord", "centre", "sud"):
        december = calendar.collections(zone, "vegetaux", date(2026, 12, 1), date(2027, 3, 31))
        assert december == []
        april = calendar.collections(zone, "vegetaux", date(2027, 4, 1), date(2027, 4, 7))
        assert len(april) == 1
        november = calendar.collections(zone, "vegetaux", date(2026, 11, 23), date(2026, 11, 30))
        assert november and november[-1].planned.month == 11
    canicule = _one(calendar, "centre", "ordures", "2027-06-30")
    assert (canicule.actual, canicule.start_time) == (date(2027, 6, 30), time(5, 0))
    coming = calendar.next_collections("sud", "emballages", date(2027, 1, 12))
    assert [(c.planned, c.actual) for c in coming] == [
        (date(2027, 1, 14), None),
        (date(2027, 1, 28), date(2027, 1, 28)),
    ]
