"""Planned notices: collection eves, shifts, canteen menus and event reminders.

Every date is explicit (the Christmas and New Year weeks of the packs): nothing reads the clock.
"""

from __future__ import annotations

import re
import time as clock
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from knowledge import phrases
from knowledge.notices import NoticeTimes, PlannedNotice, plan_notices, topic_slug
from knowledge.pack.calendar_models import Event
from knowledge.pack.fields import WEEKDAYS
from knowledge.snapshot import Knowledge

PARIS = ZoneInfo("Europe/Paris")
CHRISTMAS_WEEKS = (date(2026, 12, 18), date(2027, 1, 10))  # last school day to the 10th
KINDS = {"collecte", "decalage", "cantine", "agenda"}
FULL_DATE = re.compile(
    r"\b(?:" + "|".join(WEEKDAYS) + r") (?:1er|\d{1,2}) (?:" + "|".join(phrases.MONTHS) + r")\b"
)


def _at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def _by_key(notices: list[PlannedNotice]) -> dict[str, PlannedNotice]:
    found = {n.key: n for n in notices}
    assert len(found) == len(notices), "keys are not unique"
    return found


@pytest.fixture(scope="module")
def brumeval(brumeval_pack: Path) -> Knowledge:
    return Knowledge.load(brumeval_pack)


@pytest.fixture(scope="module")
def example_plan(example_knowledge: Knowledge) -> dict[str, PlannedNotice]:
    return _by_key(plan_notices(example_knowledge, *CHRISTMAS_WEEKS))


@pytest.fixture(scope="module")
def brumeval_plan(brumeval: Knowledge) -> dict[str, PlannedNotice]:
    return _by_key(plan_notices(brumeval, *CHRISTMAS_WEEKS))


# --- Brumeval: the Christmas and New Year shifts of zone Sud ----------------------------------


def test_brumeval_christmas_shift_is_announced_two_days_before(
    brumeval_plan: dict[str, PlannedNotice],
) -> None:
    shift = brumeval_plan["decalage:sud:ordures:2026-12-25"]
    assert shift.kind == "decalage"
    assert shift.topics == ("collecte",)
    assert shift.zone == "sud"
    assert shift.at == _at(2026, 12, 23, 19, 0)
    assert shift.at.tzinfo == PARIS
    assert shift.not_after == _at(2026, 12, 25, 6, 0)  # the original day, at the tour's start
    assert shift.text == (
        "Collecte décalée : en raison de Noël, la collecte des ordures ménagères (bac gris)"
        " du vendredi 25 décembre aura lieu le samedi 26 décembre."
    )


def test_brumeval_christmas_eve_notice_is_for_the_26th_not_the_25th(
    brumeval_plan: dict[str, PlannedNotice],
) -> None:
    eve = brumeval_plan["collecte:sud:2026-12-26"]
    assert (eve.kind, eve.topics, eve.zone) == ("collecte", ("collecte",), "sud")
    assert eve.at == _at(2026, 12, 25, 19, 0)
    assert eve.not_after == _at(2026, 12, 26, 6, 0)
    assert eve.text.startswith("Collecte de demain, samedi 26 décembre (secteur Sud) : ")
    assert "ordures ménagères (bac gris ; reportée du vendredi 25 décembre, Noël)" in eve.text
    assert "à partir de 6h" in eve.text
    assert not [k for k in brumeval_plan if k.startswith("collecte:") and k.endswith("2026-12-25")]
    on_the_24th = [
        n for n in brumeval_plan.values() if n.zone == "sud" and n.at.date() == date(2026, 12, 24)
    ]
    assert on_the_24th == []


def test_brumeval_new_year_shift_and_eve(brumeval_plan: dict[str, PlannedNotice]) -> None:
    shift = brumeval_plan["decalage:sud:ordures:2027-01-01"]
    assert shift.at == _at(2026, 12, 30, 19, 0)
    assert "en raison du jour de l'an" in shift.text
    assert "vendredi 1er janvier aura lieu le samedi 2 janvier" in shift.text
    assert brumeval_plan["collecte:sud:2027-01-02"].at == _at(2027, 1, 1, 19, 0)
    assert "collecte:sud:2027-01-01" not in brumeval_plan


def test_brumeval_regular_collections_keep_their_eve(
    brumeval_plan: dict[str, PlannedNotice],
) -> None:
    # Centre's packaging is collected on Christmas Eve as usual; Nord's waste on Mondays.
    centre = brumeval_plan["collecte:centre:2026-12-24"]
    assert centre.at == _at(2026, 12, 23, 19, 0)
    assert "emballages et papiers (bac jaune)" in centre.text
    assert "reportée" not in centre.text
    assert brumeval_plan["collecte:nord:2026-12-28"].at == _at(2026, 12, 27, 19, 0)
    assert not [k for k in brumeval_plan if k.startswith("decalage:") and ":nord:" in k]


def test_brumeval_cancelled_collection(brumeval: Knowledge) -> None:
    plan = _by_key(plan_notices(brumeval, date(2027, 1, 11), date(2027, 1, 17)))
    cancelled = plan["decalage:sud:emballages:2027-01-14"]
    assert cancelled.at == _at(2027, 1, 12, 19, 0)
    assert cancelled.not_after == _at(2027, 1, 14, 6, 0)
    assert cancelled.text.startswith(
        "Collecte annulée : la collecte des emballages et papiers (bac jaune) du jeudi"
        " 14 janvier est supprimée. Fermeture du pont de la Brume"
    )
    assert "collecte:sud:2027-01-14" not in plan  # nothing else collected there that day


def test_brumeval_advanced_collection_is_announced_by_the_new_eve(brumeval: Knowledge) -> None:
    # Centre's Wednesday 16 December waste is collected on Tuesday 15 (Christmas market).
    default = _by_key(plan_notices(brumeval, date(2026, 12, 7), date(2026, 12, 16)))
    shift = default["decalage:centre:ordures:2026-12-16"]
    assert shift.at == _at(2026, 12, 14, 19, 0)
    assert shift.not_after == _at(2026, 12, 15, 6, 0)  # the new, earlier day
    assert "du mercredi 16 décembre aura lieu le mardi 15 décembre" in shift.text
    assert "avancée du mercredi 16 décembre" in default["collecte:centre:2026-12-15"].text
    assert "collecte:centre:2026-12-16" not in default
    late = NoticeTimes(shift_days_before=0)  # planned day itself: after the new date's eve
    capped = _by_key(plan_notices(brumeval, date(2026, 12, 7), date(2026, 12, 16), late))
    assert capped["decalage:centre:ordures:2026-12-16"].at == _at(2026, 12, 14, 19, 0)
    early = NoticeTimes(shift_days_before=7, shift=time(12, 0))
    sooner = _by_key(plan_notices(brumeval, date(2026, 12, 7), date(2026, 12, 16), early))
    assert sooner["decalage:centre:ordures:2026-12-16"].at == _at(2026, 12, 9, 12, 0)


def test_a_shift_is_never_sent_after_the_original_day(brumeval: Knowledge) -> None:
    late = NoticeTimes(shift_days_before=0)
    plan = _by_key(plan_notices(brumeval, *CHRISTMAS_WEEKS, late))
    assert plan["decalage:sud:ordures:2026-12-25"].at == _at(2026, 12, 24, 19, 0)


def test_brumeval_unusual_start_time(brumeval: Knowledge) -> None:
    plan = _by_key(plan_notices(brumeval, date(2027, 6, 29), date(2027, 6, 29)))
    eve = plan["collecte:centre:2027-06-30"]
    assert eve.not_after == _at(2027, 6, 30, 5, 0)
    assert "horaire exceptionnel" in eve.text and "à partir de 5h" in eve.text
    assert eve.at.utcoffset() == timedelta(hours=2)  # summer time


# --- the example pack (Morvelay) --------------------------------------------------------------


def test_example_christmas_week(example_plan: dict[str, PlannedNotice]) -> None:
    for zone, stream in (("bourg", "emballages"), ("vallee", "ordures")):
        shift = example_plan[f"decalage:{zone}:{stream}:2026-12-25"]
        assert shift.at == _at(2026, 12, 23, 19, 0)
        assert shift.not_after == _at(2026, 12, 25, 5, 30)
        assert "en raison de Noël" in shift.text and "samedi 26 décembre" in shift.text
        eve = example_plan[f"collecte:{zone}:2026-12-26"]
        assert eve.at == _at(2026, 12, 25, 19, 0)
        assert "reportée du vendredi 25 décembre, Noël" in eve.text
    assert not [k for k in example_plan if k.endswith(":2026-12-25") and k.startswith("collecte")]
    assert "collecte:hauts:2026-12-26" not in example_plan
    assert {k for k in example_plan if k.startswith("decalage:")} == {
        "decalage:bourg:emballages:2026-12-25",
        "decalage:vallee:ordures:2026-12-25",
        "decalage:vallee:ordures:2027-01-01",
    }


def test_example_new_year_keeps_the_holiday_and_the_exception(
    example_plan: dict[str, PlannedNotice],
) -> None:
    # The exception only sets an 8h start on the day the holiday policy gives: the notice
    # still says why the collection moved, then the exception's note.
    shift = example_plan["decalage:vallee:ordures:2027-01-01"]
    assert shift.at == _at(2026, 12, 30, 19, 0)
    assert shift.text.startswith("Collecte décalée : en raison du jour de l'an, la collecte")
    assert "commence exceptionnellement à 8h" in shift.text
    eve = example_plan["collecte:vallee:2027-01-02"]
    assert eve.not_after == _at(2027, 1, 2, 8, 0)
    assert "à partir de 8h" in eve.text
    assert "reportée du vendredi 1er janvier, Jour de l'an" in eve.text


def test_example_exception_moved_collection(example_knowledge: Knowledge) -> None:
    plan = _by_key(plan_notices(example_knowledge, date(2026, 12, 13), date(2026, 12, 15)))
    shift = plan["decalage:bourg:ordures:2026-12-15"]
    assert shift.at == _at(2026, 12, 13, 19, 0)
    assert "du mardi 15 décembre aura lieu le mercredi 16 décembre. Foire aux dindes" in (
        shift.text
    )
    assert "en raison" not in shift.text  # not a holiday
    assert "collecte:bourg:2026-12-15" not in plan
    assert "reportée du mardi 15 décembre" in plan["collecte:bourg:2026-12-16"].text


def test_no_menu_during_the_christmas_holidays(example_plan: dict[str, PlannedNotice]) -> None:
    menus = sorted(k for k in example_plan if k.startswith("cantine:"))
    # Friday 18 December is the last school day before the holidays (19 Dec - 3 Jan).
    assert menus == [
        "cantine:2026-12-18",
        "cantine:2027-01-04",
        "cantine:2027-01-05",
        "cantine:2027-01-07",
        "cantine:2027-01-08",
    ]
    monday = example_plan["cantine:2027-01-04"]
    assert (monday.kind, monday.topics, monday.zone) == ("cantine", ("cantine",), None)
    assert monday.at == _at(2027, 1, 4, 7, 30)
    assert monday.not_after == _at(2027, 1, 4, 12, 0)
    assert monday.text.startswith(
        "Menu de la cantine du lundi 4 janvier : Soupe à l'oignon gratinée, Steak haché de bœuf"
    )
    assert monday.text.endswith(" (local).")


def test_menus_only_on_school_days(example_knowledge: Knowledge) -> None:
    holidays = example_knowledge.holidays
    period = (date(2026, 11, 1), date(2027, 8, 31))
    menus = [n for n in plan_notices(example_knowledge, *period) if n.kind == "cantine"]
    published = [m.date for m in example_knowledge.pack.menus]
    assert [n.at.date() for n in menus] == sorted(published)
    for notice in menus:
        day = notice.at.date()
        assert day.weekday() not in (2, 5, 6)
        assert holidays.public_holiday(day) is None
        assert holidays.school_holiday(day) is None


def test_a_menu_after_noon_would_be_stale(example_knowledge: Knowledge) -> None:
    late = NoticeTimes(menu=time(12, 30))
    plan = plan_notices(example_knowledge, date(2027, 1, 4), date(2027, 1, 8), late)
    assert [n for n in plan if n.kind == "cantine"] == []


def test_event_reminders(example_plan: dict[str, PlannedNotice]) -> None:
    show = example_plan["agenda:noel-des-enfants-2026"]
    assert (show.kind, show.topics, show.zone) == ("agenda", ("agenda", "fete"), None)
    assert show.at == _at(2026, 12, 18, 18, 0)
    assert show.not_after == _at(2026, 12, 19, 15, 0)
    assert show.text.startswith(
        "Rappel : Spectacle de Noël des enfants, demain samedi 19 décembre à 15h,"
        " Salle polyvalente de la Tuilerie."
    )
    market = example_plan["agenda:marche-avance-2026-12-31"]
    assert market.at == _at(2026, 12, 30, 18, 0)
    assert "demain jeudi 31 décembre à 7h30" in market.text
    assert "agenda:foire-aux-dindes-2026" not in example_plan  # reminded on 14 December


def test_event_reminders_the_same_day(example_knowledge: Knowledge) -> None:
    same_day = NoticeTimes(event_days_before=0)
    plan = _by_key(
        plan_notices(example_knowledge, date(2026, 12, 14), date(2026, 12, 31), same_day)
    )
    council = plan["agenda:conseil-municipal-2026-12-17"]  # 19h, after the 18h reminder
    assert council.at == _at(2026, 12, 17, 18, 0)
    assert "aujourd'hui jeudi 17 décembre à 19h" in council.text
    assert "agenda:marche-avance-2026-12-24" not in plan  # 7h30: the reminder would be late
    assert "agenda:foire-aux-dindes-2026" not in plan  # 7h too


@pytest.fixture(scope="module")
def invented(example_knowledge: Knowledge) -> Knowledge:
    """The example pack with only two invented events, and no collection nor menus."""
    events = (
        Event.model_validate(
            {
                "id": "forum-des-associations",
                "title": "Forum des associations",
                "start": "2027-09-04T09:30:00+02:00",
                "tags": ["Vie associative", "Fête", "agenda", "fete"],
            }
        ),
        Event.model_validate(
            {
                "id": "brocante",
                "title": "Brocante",
                "start": "2027-09-04T23:00:00+00:00",  # Sunday 5 September, 1h in Paris
                "end": "2027-09-05T16:00:00+00:00",
                "place": "Rue des Halles",
                "description": "Vide-greniers des habitants.",
            }
        ),
    )
    pack = replace(example_knowledge.pack, collecte=None, menus=(), events=events)
    return Knowledge(pack)


def test_event_tags_are_topics(invented: Knowledge) -> None:
    plan = _by_key(plan_notices(invented, date(2027, 9, 1), date(2027, 9, 30)))
    assert set(plan) == {"agenda:forum-des-associations", "agenda:brocante"}
    forum = plan["agenda:forum-des-associations"]
    assert forum.topics == ("agenda", "vie-associative", "fete")
    assert forum.text == "Rappel : Forum des associations, demain samedi 4 septembre à 9h30."
    brocante = plan["agenda:brocante"]
    assert brocante.at == _at(2027, 9, 4, 18, 0)  # the day before in Paris, not in UTC
    assert brocante.text == (
        "Rappel : Brocante, demain dimanche 5 septembre à 1h, Rue des Halles."
        " Vide-greniers des habitants."
    )


def test_topic_slug() -> None:
    assert topic_slug("Fête") == "fete"
    assert topic_slug(" Vie associative ") == "vie-associative"
    assert topic_slug("Travaux / voirie") == "travaux-voirie"
    assert topic_slug("!!") == ""


# --- properties of every plan -----------------------------------------------------------------


def _invariants(knowledge: Knowledge, start: date, end: date) -> list[PlannedNotice]:
    plan = plan_notices(knowledge, start, end)
    tz = knowledge.pack.commune.tz
    assert plan == sorted(plan, key=lambda n: (n.at, n.key))
    _by_key(plan)
    for notice in plan:
        assert notice.kind in KINDS
        assert notice.key.startswith(notice.kind + ":")
        assert start <= notice.at.date() <= end
        assert notice.at.utcoffset() == notice.at.astimezone(tz).utcoffset()
        assert notice.at < notice.not_after
        assert (notice.zone is not None) == (notice.kind in ("collecte", "decalage"))
        assert notice.topics[0] == {"decalage": "collecte"}.get(notice.kind, notice.kind)
        assert FULL_DATE.search(notice.text), notice.text
        # "demain" and "aujourd'hui" only ever stand beside the full date
        for relative in re.finditer(r"(demain|aujourd'hui),? ", notice.text):
            assert FULL_DATE.match(notice.text, relative.end()), notice.text
    return plan


def test_invariants_over_the_whole_example_year(example_knowledge: Knowledge) -> None:
    plan = _invariants(example_knowledge, date(2026, 11, 1), date(2027, 9, 30))
    assert {n.kind for n in plan} == KINDS
    assert len([n for n in plan if n.kind == "agenda"]) == len(example_knowledge.pack.events)


def test_invariants_over_the_whole_brumeval_year(brumeval: Knowledge) -> None:
    plan = _invariants(brumeval, date(2026, 11, 1), date(2027, 7, 31))
    assert {n.kind for n in plan} == KINDS


def test_texts_write_the_notice_date_out(example_plan: dict[str, PlannedNotice]) -> None:
    for key, notice in example_plan.items():
        if notice.kind in ("collecte", "cantine", "decalage"):
            day = date.fromisoformat(key.rsplit(":", 1)[1])
            assert phrases.day(day) in notice.text, notice.text


def test_keys_are_stable_between_calls_and_reloads(example_pack: Path) -> None:
    first = plan_notices(Knowledge.load(example_pack), *CHRISTMAS_WEEKS)
    again = Knowledge.load(example_pack)
    assert plan_notices(again, *CHRISTMAS_WEEKS) == first
    assert plan_notices(again, *CHRISTMAS_WEEKS) == first
    assert len({n.key for n in first}) == len(first) > 20


def test_consecutive_windows_add_up(example_knowledge: Knowledge) -> None:
    whole = plan_notices(example_knowledge, *CHRISTMAS_WEEKS)
    start, end = CHRISTMAS_WEEKS
    by_day: list[PlannedNotice] = []
    day = start
    while day <= end:
        by_day += plan_notices(example_knowledge, day, day)
        day += timedelta(days=1)
    assert by_day == whole


def test_empty_plans(example_knowledge: Knowledge, invented: Knowledge) -> None:
    assert plan_notices(example_knowledge, date(2027, 1, 2), date(2027, 1, 1)) == []
    assert plan_notices(example_knowledge, date(2030, 1, 1), date(2030, 1, 31)) == []
    assert plan_notices(invented, *CHRISTMAS_WEEKS) == []


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        NoticeTimes(shift_days_before=-1)
    with pytest.raises(ValueError, match="negative"):
        NoticeTimes(event_days_before=-1)


def test_a_month_is_planned_quickly(example_pack: Path) -> None:
    knowledge = Knowledge.load(example_pack)  # nothing computed yet
    started = clock.perf_counter()
    plan = plan_notices(knowledge, date(2027, 3, 1), date(2027, 3, 31))
    assert clock.perf_counter() - started < 0.5
    assert len(plan) > 30
