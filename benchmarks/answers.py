"""Benchmark: pack load time and answer latency (p50/p99), on real and generated packs.

Run: .venv/bin/python -m benchmarks.answers
Prints one line per pack. The target is p99 <= 2 ms per question on one core.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.config import example_pack_path
from knowledge.pack import load_pack
from knowledge.snapshot import Knowledge

ROOT = Path(__file__).resolve().parent.parent
BRUMEVAL = ROOT.parent / "shared" / "packs" / "brumeval"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def generated_pack(folder: Path, entries: int, seed: int = 7) -> Path:
    """A pack of `entries` FAQ entries made of the example pack's own French words."""
    rng = random.Random(seed)
    example = load_pack(example_pack_path())
    vocabulary = sorted({w for e in example.faq for w in e.answer.split() if w.isalpha()})
    (folder / "commune.yaml").write_text(
        (example_pack_path() / "commune.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )

    def sentence(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, k=rng.randint(low, high)))

    faq = [
        {
            "id": f"entree-{number}",
            "question": sentence(5, 10) + " ?",
            "variants": [sentence(3, 7) for _ in range(rng.randint(1, 3))],
            "answer": sentence(40, 140),
            "tags": [rng.choice(vocabulary).lower()],
        }
        for number in range(entries)
    ]
    (folder / "faq.yaml").write_text(yaml.safe_dump(faq, allow_unicode=True), encoding="utf-8")
    return folder


def typo(text: str, rng: random.Random) -> str:
    """Drop accents' luck aside, swap two letters of one longer word, as people type."""
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 6]
    if long_words:
        i = rng.choice(long_words)
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words).lower()


def measure(name: str, folder: Path, questions: list[str], warm_up: list[str]) -> None:
    """Each question asked once, after `warm_up` (other questions) has filled the caches
    of word stems and concepts as a running server's would be; none is asked twice."""
    started = time.perf_counter()
    knowledge = Knowledge.load(folder)
    load_ms = (time.perf_counter() - started) * 1000
    for question in warm_up:
        knowledge.answer(question, NOW)
    timings = []
    for question in questions:
        started = time.perf_counter_ns()
        knowledge.answer(question, NOW)
        timings.append((time.perf_counter_ns() - started) / 1e6)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"{name}: {len(knowledge.pack.faq)} entries, load {load_ms:.0f} ms, "
        f"{len(questions)} questions, p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {timings[-1]:.3f} ms"
    )


def main() -> int:
    rng = random.Random(3)
    example = load_pack(example_pack_path())
    asked = [q for e in example.faq for q in (e.question, *e.variants)]
    typed = list(dict.fromkeys(typo(q, rng) for q in asked))
    measure("example pack", example_pack_path(), typed, warm_up=asked)
    sets = {}
    for name in ("questions-dev.jsonl", "questions-dated-dev.jsonl"):
        dev_set = BRUMEVAL / name
        if dev_set.is_file():
            lines = dev_set.read_text(encoding="utf-8").splitlines()
            sets[name] = [json.loads(line)["q"] for line in lines if line.strip()]
    for name, questions in sets.items():
        others = [q for other, qs in sets.items() if other != name for q in qs]
        measure(f"brumeval {name}", BRUMEVAL, questions, warm_up=others)
    with tempfile.TemporaryDirectory() as tmp:
        folder = generated_pack(Path(tmp), 2_000)
        pack = load_pack(folder)
        questions = [typo(rng.choice((e.question, *e.variants)), rng) for e in pack.faq]
        measure("generated", folder, questions[200:], warm_up=questions[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
