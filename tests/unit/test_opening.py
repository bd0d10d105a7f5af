"""Opening hours day by day: closures, public holidays, weekly lists and OSM expressions."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from knowledge.calendars.holidays import HolidayCalendar
from knowledge.calendars.opening import DayHours, OpeningCalendar
from knowledge.check import check_pack
from knowledge.pack import load_pack
from knowledge.pack.calendar_models import Service
from knowledge.pack.models import Commune, Contact

PARIS = ZoneInfo("Europe/Paris")
MAIRIE_HOURS = {
    "lundi": ["08:30-12:00", "13:30-17:30"],
    "mardi": ["08:30-12:00", "13:30-17:30"],
    "mercredi": ["08:30-12:00"],
    "jeudi": ["08:30-12:00", "13:30-17:30"],
    "vendredi": ["08:30-12:00", "13:30-16:30"],
    "samedi": ["09:00-12:00"],
}
MAIRIE_OSM = "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00; PH off"


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    commune = Commune(name="Testville", school_zone="B", contact=Contact(fallback="Appelez."))
    return HolidayCalendar(commune, range(2026, 2028))


def _calendar(holidays: HolidayCalendar, hours: Any = None, **fields: Any) -> OpeningCalendar:
    data = {"id": "mairie", "name": "Mairie", "hours": MAIRIE_HOURS if hours is None else hours}
    service = Service.model_validate(data | fields)
    return OpeningCalendar(service, holidays, tz=PARIS)


def _ranges(day: DayHours) -> list[str]:
    return [f"{r.start:%H:%M}-{r.end:%H:%M}" for r in day.ranges]


# --- weekday lists ----------------------------------------------------------------------------


def test_weekday_lists(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays)
    monday = calendar.day(date(2026, 12, 7))
    assert _ranges(monday) == ["08:30-12:00", "13:30-17:30"]
    assert monday.is_open and not monday.exceptional and monday.note is None
    assert _ranges(calendar.day(date(2026, 12, 9))) == ["08:30-12:00"]  # Wednesday
    assert _ranges(calendar.day(date(2026, 12, 11))) == ["08:30-12:00", "13:30-16:30"]
    sunday = calendar.day(date(2026, 12, 13))
    assert not sunday.is_open and sunday.ranges == () and sunday.holiday is None


def test_week_is_seven_days_from_start(holidays: HolidayCalendar) -> None:
    week = _calendar(holidays).week(date(2026, 12, 7))
    assert [d.day for d in week] == [date(2026, 12, 7 + n) for n in range(7)]
    assert [d.is_open for d in week] == [True] * 6 + [False]


# --- closures ---------------------------------------------------------------------------------


def test_single_date_closure_changes_hours(holidays: HolidayCalendar) -> None:
    closures = [{"date": "2026-12-24", "hours": ["08:30-12:00"], "note": "Veille de Noël"}]
    day = _calendar(holidays, closures=closures).day(date(2026, 12, 24))
    assert _ranges(day) == ["08:30-12:00"]
    assert day.exceptional and day.note == "Veille de Noël" and day.holiday is None


def test_period_closure_closes_every_day_bounds_included(holidays: HolidayCalendar) -> None:
    closures = [{"from": "2026-12-28", "to": "2026-12-31", "hours": [], "note": "Congés"}]
    calendar = _calendar(holidays, closures=closures)
    for day in (date(2026, 12, 28), date(2026, 12, 30), date(2026, 12, 31)):
        hours = calendar.day(day)
        assert not hours.is_open and hours.exceptional and hours.note == "Congés"
    assert calendar.day(date(2027, 1, 2)).is_open  # Saturday after the period
    assert not calendar.day(date(2026, 12, 26)).exceptional


def test_closure_can_open_a_usually_closed_day(holidays: HolidayCalendar) -> None:
    closures = [{"date": "2026-12-20", "hours": ["10:00-12:00"], "note": "Dimanche d'accueil"}]
    sunday = _calendar(holidays, closures=closures).day(date(2026, 12, 20))
    assert _ranges(sunday) == ["10:00-12:00"] and sunday.exceptional


def test_single_date_wins_over_period(holidays: HolidayCalendar) -> None:
    closures = [
        {"from": "2026-12-21", "to": "2026-12-23", "hours": [], "note": "Fermé"},
        {"date": "2026-12-22", "hours": ["14:00-16:00"], "note": "Permanence"},
    ]
    calendar = _calendar(holidays, closures=closures)
    assert not calendar.day(date(2026, 12, 21)).is_open
    assert _ranges(calendar.day(date(2026, 12, 22))) == ["14:00-16:00"]
    assert calendar.day(date(2026, 12, 22)).note == "Permanence"


# --- public holidays --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [(date(2026, 12, 25), "Noël"), (date(2027, 3, 29), "Lundi de Pâques")],
)
def test_public_holidays_are_closed(holidays: HolidayCalendar, day: date, name: str) -> None:
    hours = _calendar(holidays).day(day)
    assert not hours.is_open and hours.holiday == name and not hours.exceptional


def test_closure_entry_opens_a_public_holiday(holidays: HolidayCalendar) -> None:
    closures = [{"date": "2026-12-25", "hours": ["08:00-17:30"], "note": "Ouvert à Noël"}]
    christmas = _calendar(holidays, closures=closures).day(date(2026, 12, 25))
    assert _ranges(christmas) == ["08:00-17:30"]
    assert christmas.holiday == "Noël" and christmas.exceptional


def test_period_closure_with_hours_covers_public_holiday(holidays: HolidayCalendar) -> None:
    closures = [{"from": "2027-03-01", "to": "2027-04-30", "hours": ["08:00-19:30"]}]
    easter_monday = _calendar(holidays, closures=closures).day(date(2027, 3, 29))
    assert _ranges(easter_monday) == ["08:00-19:30"] and easter_monday.note is None


# --- next open day ----------------------------------------------------------------------------


def test_next_open_day_across_the_christmas_break(holidays: HolidayCalendar) -> None:
    hours = {day: ["09:00-12:00"] for day in ("mardi", "mercredi", "jeudi", "vendredi", "samedi")}
    closures = [{"from": "2026-12-24", "to": "2027-01-02", "hours": [], "note": "Congés"}]
    calendar = _calendar(holidays, hours, closures=closures)
    following = calendar.next_open_day(date(2026, 12, 23))
    assert following is not None and following.day == date(2027, 1, 5)  # Monday 4th: no hours
    assert _ranges(following) == ["09:00-12:00"]
    same = calendar.next_open_day(date(2026, 12, 23), include=True)
    assert same is not None and same.day == date(2026, 12, 23)
    assert calendar.next_open_day(date(2026, 12, 23), within_days=7) is None


def test_next_open_day_skips_a_public_holiday(holidays: HolidayCalendar) -> None:
    following = _calendar(holidays).next_open_day(date(2026, 12, 24))
    assert following is not None and following.day == date(2026, 12, 26)


def test_next_open_day_none_when_never_open(holidays: HolidayCalendar) -> None:
    assert _calendar(holidays, {}).next_open_day(date(2026, 12, 1)) is None


# --- is_open_at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        (time(8, 29), False),
        (time(8, 30), True),
        (time(11, 59), True),
        (time(12, 0), False),
        (time(13, 29), False),
        (time(13, 30), True),
        (time(17, 30), False),
    ],
)
def test_is_open_at_boundaries(holidays: HolidayCalendar, clock: time, expected: bool) -> None:
    moment = datetime.combine(date(2026, 12, 7), clock, tzinfo=PARIS)
    assert _calendar(holidays).is_open_at(moment) is expected


def test_is_open_at_converts_to_the_commune_time(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays)
    utc = ZoneInfo("UTC")
    assert calendar.is_open_at(datetime(2026, 12, 7, 10, 59, tzinfo=utc))  # 11:59 in Paris
    assert not calendar.is_open_at(datetime(2026, 12, 7, 11, 0, tzinfo=utc))  # 12:00 in Paris
    assert not calendar.is_open_at(datetime(2026, 12, 25, 10, 0, tzinfo=PARIS))  # Noël


# --- OpenStreetMap expressions ----------------------------------------------------------------


def test_osm_weekly_hours(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays, MAIRIE_OSM)
    assert _ranges(calendar.day(date(2026, 12, 7))) == ["08:30-12:00", "13:30-17:30"]
    assert _ranges(calendar.day(date(2026, 12, 12))) == ["09:00-12:00"]
    assert not calendar.day(date(2026, 12, 13)).is_open
    moment = datetime(2026, 12, 7, 12, 0, tzinfo=PARIS)
    assert not calendar.is_open_at(moment)
    assert calendar.is_open_at(moment.replace(hour=13, minute=30))


@pytest.mark.parametrize("day", [date(2026, 12, 25), date(2027, 3, 29)])
def test_osm_ph_off(holidays: HolidayCalendar, day: date) -> None:
    hours = _calendar(holidays, MAIRIE_OSM).day(day)
    assert not hours.is_open and hours.holiday is not None and not hours.exceptional


def test_osm_ph_hours(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays, "Mo-Sa 09:00-18:00; PH 10:00-12:00")
    for day in (date(2026, 12, 25), date(2027, 3, 29)):
        assert _ranges(calendar.day(day)) == ["10:00-12:00"]
    assert _ranges(calendar.day(date(2026, 12, 24))) == ["09:00-18:00"]
    assert _ranges(calendar.day(date(2027, 1, 1))) == ["10:00-12:00"]  # a Friday
    ascension = _calendar(holidays, "Sa,PH 10:00-12:00").day(date(2027, 5, 6))  # a Thursday
    assert _ranges(ascension) == ["10:00-12:00"]


def test_osm_without_ph_closes_public_holidays(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays, "Mo-Fr 09:00-17:00")
    assert not calendar.day(date(2026, 12, 25)).is_open
    assert calendar.day(date(2026, 12, 24)).is_open


def test_osm_school_holidays_from_the_commune_calendar(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays, "Mo-Fr 09:00-17:00; SH 10:00-12:00")
    assert _ranges(calendar.day(date(2026, 12, 14))) == ["09:00-17:00"]
    assert _ranges(calendar.day(date(2026, 12, 21))) == ["10:00-12:00"]  # Vacances de Noël


def test_osm_closures_still_apply(holidays: HolidayCalendar) -> None:
    closures = [
        {"date": "2026-12-24", "hours": ["08:30-12:00"], "note": "Veille de Noël"},
        {"from": "2026-12-28", "to": "2026-12-31", "hours": []},
        {"date": "2026-12-25", "hours": ["10:00-11:00"]},
    ]
    calendar = _calendar(holidays, MAIRIE_OSM, closures=closures)
    assert _ranges(calendar.day(date(2026, 12, 24))) == ["08:30-12:00"]
    assert not calendar.day(date(2026, 12, 29)).is_open
    assert _ranges(calendar.day(date(2026, 12, 25))) == ["10:00-11:00"]


def test_osm_midnight_and_comments(holidays: HolidayCalendar) -> None:
    calendar = _calendar(holidays, 'Mo-Su 08:00-24:00 "accès libre"')
    day = calendar.day(date(2026, 12, 13))
    assert day.ranges[0].start == time(8, 0) and day.ranges[0].end == time(23, 59, 59)
    assert calendar.is_open_at(datetime(2026, 12, 13, 23, 59, 59, 500000, tzinfo=PARIS))
    split = _calendar(holidays, 'Mo 08:00-12:00 "a", 12:00-14:00 "b"').day(date(2026, 12, 7))
    assert _ranges(split) == ["08:00-14:00"]


# --- validation through the loader ------------------------------------------------------------


def _pack(folder: Path, services: str) -> Path:
    folder.mkdir()
    (folder / "commune.yaml").write_text(
        "name: Testville\ncontact:\n  address: 1 place de la Mairie, 37000 Testville\n"
        "  fallback: Appelez la mairie.\n",
        encoding="utf-8",
    )
    (folder / "faq.yaml").write_text(
        "- id: horaires\n  question: Quels horaires ?\n  answer: Voir la mairie.\n",
        encoding="utf-8",
    )
    (folder / "services.yaml").write_text(services, encoding="utf-8")
    return folder


def test_loader_accepts_osm_and_weekday_hours(tmp_path: Path) -> None:
    pack = load_pack(
        _pack(
            tmp_path / "pack",
            f'- id: mairie\n  name: Mairie\n  hours: "{MAIRIE_OSM}"\n'
            '- id: poste\n  name: Poste\n  hours:\n    mardi: ["09:00-12:00"]\n',
        )
    )
    assert pack.services[0].hours == MAIRIE_OSM
    assert isinstance(pack.services[1].hours, dict)


def test_loader_reports_invalid_osm_expression(tmp_path: Path) -> None:
    folder = _pack(
        tmp_path / "pack",
        '- id: mairie\n  name: Mairie\n  hours: "Mo-Fr 25:00-26:00"\n',
    )
    messages = [str(problem) for problem in check_pack(folder)]
    assert len(messages) == 1, messages
    assert messages[0].startswith("services.yaml, ligne 3 : ")
    assert 'entrée 1 (id "mairie")' in messages[0] and 'champ "hours"' in messages[0]
    assert 'horaires OpenStreetMap invalides "Mo-Fr 25:00-26:00"' in messages[0]


def test_loader_reports_unsupported_holiday_offset(tmp_path: Path) -> None:
    folder = _pack(
        tmp_path / "pack",
        '- id: mairie\n  name: Mairie\n  hours: "Mo-Fr 10:00-12:00; PH +1 day off"\n',
    )
    messages = [str(problem) for problem in check_pack(folder)]
    assert len(messages) == 1 and "PH off" in messages[0], messages


def test_loader_reports_bad_weekday_hours_once(tmp_path: Path) -> None:
    folder = _pack(
        tmp_path / "pack",
        '- id: mairie\n  name: Mairie\n  hours:\n    lundy: ["09:00-12:00"]\n',
    )
    messages = [str(problem) for problem in check_pack(folder)]
    assert len(messages) == 1 and 'champ "hours > lundy"' in messages[0], messages


# --- the shared Brumeval pack -----------------------------------------------------------------


def _brumeval(path: Path, service_id: str) -> OpeningCalendar:
    pack = load_pack(path)
    service = next(s for s in pack.services if s.id == service_id)
    return OpeningCalendar(service, HolidayCalendar(pack.commune, range(2026, 2028)))


def test_brumeval_mairie_christmas_eve(brumeval_pack: Path) -> None:
    day = _brumeval(brumeval_pack, "mairie").day(date(2026, 12, 24))
    assert _ranges(day) == ["08:30-12:00"] and day.exceptional


def test_brumeval_agence_postale_reopens_tuesday(brumeval_pack: Path) -> None:
    calendar = _brumeval(brumeval_pack, "agence-postale")
    assert not calendar.day(date(2026, 12, 28)).is_open
    following = calendar.next_open_day(date(2026, 12, 28))
    assert following is not None and following.day == date(2027, 1, 5)


def test_brumeval_mediatheque_closed_saturday_january_2(brumeval_pack: Path) -> None:
    day = _brumeval(brumeval_pack, "mediatheque").day(date(2027, 1, 2))
    assert not day.is_open and day.exceptional
