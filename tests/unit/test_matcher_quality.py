"""Answer quality on question sets written as residents type, a guard against regressions.

The project's own set (tests/data/example-questions.jsonl, about the example pack) always
runs; the shared Brumeval development set runs when ../shared is beside the checkout. The
floors are a little below the figures last measured: 87 % right on the example set and 95 %
on Brumeval's.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from knowledge.snapshot import Knowledge
from tests.conftest import DATA

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _score(knowledge: Knowledge, questions: Path) -> tuple[float, float, float]:
    cases = [
        json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line
    ]
    cases = [c for c in cases if "expect_text" not in c]
    right = declined = wrong = in_scope = 0
    for case in cases:
        source = knowledge.answer(case["q"], NOW).source
        if case["expect"] is None:
            declined += source is None
            wrong += source is not None
        else:
            in_scope += 1
            right += source == case["expect"]
            wrong += source is not None and source != case["expect"]
    return right / in_scope, declined / (len(cases) - in_scope), wrong / len(cases)


def test_example_pack_questions(example_knowledge: Knowledge) -> None:
    right, declined, wrong = _score(example_knowledge, DATA / "example-questions.jsonl")
    assert right >= 0.85 and declined >= 0.9 and wrong <= 0.05, (right, declined, wrong)


def test_brumeval_development_questions(brumeval_pack: Path) -> None:
    right, declined, wrong = _score(
        Knowledge.load(brumeval_pack), brumeval_pack / "questions-dev.jsonl"
    )
    assert right >= 0.94 and declined >= 0.9 and wrong <= 0.03, (right, declined, wrong)
