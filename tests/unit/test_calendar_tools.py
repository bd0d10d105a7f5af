"""`crieur calendar`, the iCalendar feed, and calendar contradictions in `crieur check`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.cli import main
from knowledge.check import check_pack
from knowledge.snapshot import Knowledge
from knowledge.text import fold


def test_calendar_command_prints_a_zone(
    example_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["calendar", "--pack", str(example_pack), "--zone", "vallee",
                 "--from", "2026-12-21", "--to", "2027-01-03"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "samedi 26 décembre 2026 : Ordures ménagères résiduelles (décalée en raison de Noël)" in out
    )
    assert "vendredi 25 décembre" not in out


def test_calendar_command_writes_ics(
    example_pack: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = main(["calendar", "--pack", str(example_pack), "--zone", "vallee",
                 "--from", "2026-12-21", "--to", "2027-01-03", "--ics"])  # fmt: skip
    assert code == 0
    feed = Calendar.from_ical(capsysbinary.readouterr().out)
    days = sorted(str(e.get("dtstart").dt) for e in feed.walk("VEVENT"))
    assert "2026-12-26" in days and "2026-12-25" not in days
    assert len({str(e.get("uid")) for e in feed.walk("VEVENT")}) == len(days)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "atlantide"], "secteur inconnu"),
        (["--zone", "vallee", "--from", "2027-02-30"], "date invalide"),
        (["--zone", "vallee", "--from", "2027-02-01", "--to", "2027-01-01"], "avant"),
    ],
)
def test_calendar_command_refuses_bad_input(
    example_pack: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["calendar", "--pack", str(example_pack), *args]) == 2
    assert message in capsys.readouterr().err


def test_check_reports_contradicting_calendar(pack_copy: Path) -> None:
    collecte = pack_copy / "collecte.yaml"
    text = collecte.read_text(encoding="utf-8")
    assert "date: 2026-12-15" in text
    collecte.write_text(text.replace("date: 2026-12-15", "date: 2026-12-14", 1), encoding="utf-8")
    problems = [str(p) for p in check_pack(pack_copy)]
    assert problems and all(p.startswith("collecte.yaml") for p in problems), problems
    assert any("2026" in p and "bourg" in p for p in problems), problems


def test_dates_beyond_the_calendar_are_not_guessed(example_knowledge: Knowledge) -> None:
    now = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
    reply = example_knowledge.answer(
        "quai de l'Arvelle, la poubelle grise le 3 septembre 2027 ?", now
    )
    assert reply.source == "collecte" and "je n'ai pas le calendrier" in fold(reply.text)
    reply = example_knowledge.answer("Quel est le menu de la cantine le 12 mars ?", now)
    assert reply.source == "menus" and "pas encore publie" in fold(reply.text)


def test_shared_dated_development_set(brumeval_pack: Path) -> None:
    knowledge = Knowledge.load(brumeval_pack)
    lines = (brumeval_pack / "questions-dated-dev.jsonl").read_text(encoding="utf-8").splitlines()
    misses = []
    for case in map(json.loads, filter(None, lines)):
        reply = knowledge.answer(case["q"], datetime.fromisoformat(case["now"]))
        text = fold(reply.text)
        ok = all(any(fold(alt) in text for alt in item.split("|")) for item in case["expect_text"])
        ok = ok and not any(fold(item) in text for item in case["forbid_text"])
        if not ok or ("expect" in case and reply.source != case["expect"]):
            misses.append((case["q"], reply.source, reply.text[:120]))
    assert not misses, misses
