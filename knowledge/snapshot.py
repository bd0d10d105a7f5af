"""`Knowledge`: one pack, analysed and indexed once, that answers questions; immutable.

A reload builds a new snapshot and swaps it in; readers never see a half-built index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from knowledge import phrases
from knowledge.analysis import Analyzer
from knowledge.lexicon import Lexicon, builtin_lexicon
from knowledge.matcher import FaqMatcher, Match
from knowledge.pack import Pack, load_pack
from knowledge.pack.models import FaqEntry
from knowledge.text import words

# Calibrated on question sets of residents' wording (see tests/unit/test_matcher_quality.py):
ANSWER_THRESHOLD = 0.45  # at or above: answer from the best entry
SUGGEST_THRESHOLD = 0.2  # between the two: fallback, with the closest entries as suggestions
MAX_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An entry offered to the resident when the bot is not sure enough to answer."""

    label: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the knowledge says to a question. `source` is None exactly for the fallback."""

    text: str
    source: str | None
    score: float
    suggestions: tuple[Suggestion, ...] = ()
    links: tuple[str, ...] = ()


class Knowledge:
    """A pack ready to answer: analyser, FAQ index and the pack itself."""

    def __init__(self, pack: Pack, lexicon: Lexicon | None = None) -> None:
        self.pack = pack
        lexicon = lexicon or builtin_lexicon()
        self.analyzer = Analyzer(lexicon, pack.synonyms, words(pack.commune.name))
        self.matcher = FaqMatcher(pack.faq, self.analyzer)
        self._entries = {entry.id: entry for entry in pack.faq}

    @classmethod
    def load(cls, folder: str | Path) -> Knowledge:
        return cls(load_pack(folder))

    @property
    def fallback(self) -> str:
        return self.pack.commune.contact.fallback

    def answer(self, question: str, now: datetime) -> Reply:
        """The best answer to `question` asked at `now` (timezone-aware)."""
        matches = self.matcher.search(question, limit=MAX_SUGGESTIONS + 1)
        if matches and matches[0].score >= ANSWER_THRESHOLD:
            return self._from_entry(matches[0].entry, matches[0].score)
        return self._fallback(matches)

    def entry(self, entry_id: str) -> Reply | None:
        """The answer of one entry, as when a resident taps a suggestion."""
        entry = self._entries.get(entry_id)
        return self._from_entry(entry, 1.0) if entry is not None else None

    def _from_entry(self, entry: FaqEntry, score: float) -> Reply:
        return Reply(entry.answer.strip(), entry.id, score, links=entry.links)

    def _fallback(self, matches: list[Match]) -> Reply:
        close = tuple(
            Suggestion(m.entry.question, m.entry.id)
            for m in matches[:MAX_SUGGESTIONS]
            if m.score >= SUGGEST_THRESHOLD
        )
        text = self.fallback
        if close:
            text = f"{text}\n\n{phrases.SUGGESTIONS_INTRO}"
        best = matches[0].score if matches else 0.0
        return Reply(text, None, best, close)
