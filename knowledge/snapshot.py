"""`Knowledge`: one pack, analysed and indexed once, that answers questions; immutable.

A reload builds a new snapshot and swaps it in; readers never see a half-built index.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from knowledge import phrases
from knowledge.analysis import Analyzer
from knowledge.answers.router import DatedAnswers
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.lexicon import Lexicon, builtin_lexicon
from knowledge.matcher import FaqMatcher, Match
from knowledge.pack import Pack, load_pack
from knowledge.pack.models import FaqEntry
from knowledge.places import Place
from knowledge.reply import FAQ_CHOICE, Context, Reply, Suggestion
from knowledge.text import words

# Calibrated on question sets of residents' wording (see tests/unit/test_matcher_quality.py):
ANSWER_THRESHOLD = 0.41  # at or above: answer from the best entry
SUGGEST_THRESHOLD = 0.2  # between the two: fallback, with the closest entries as suggestions
MAX_SUGGESTIONS = 3
STREET_REPLY_WORDS = 12  # a longer message is a new question, not the street asked for


class Knowledge:
    """A pack ready to answer: analyser, FAQ index, calendars and the pack itself."""

    def __init__(self, pack: Pack, lexicon: Lexicon | None = None) -> None:
        self.pack = pack
        lexicon = lexicon or builtin_lexicon()
        self.analyzer = Analyzer(lexicon, pack.synonyms, words(pack.commune.name))
        names = [
            *(name for service in pack.services for name in (service.name, *service.aliases)),
            *(event.title for event in pack.events),
        ]
        self.matcher = FaqMatcher(pack.faq, self.analyzer, names)
        self.holidays = HolidayCalendar(pack.commune)
        self.dated = DatedAnswers(pack, self.holidays, self.analyzer)
        self._entries = {entry.id: entry for entry in pack.faq}

    @classmethod
    def load(cls, folder: str | Path) -> Knowledge:
        return cls(load_pack(folder))

    @property
    def fallback(self) -> str:
        return self.pack.commune.contact.fallback

    def answer(self, question: str, now: datetime, context: Context | None = None) -> Reply:
        """The best answer to `question` asked at `now` (timezone-aware)."""
        context = context or Context()
        local = now.astimezone(self.pack.commune.tz)
        if context.pending_question and len(words(question)) <= STREET_REPLY_WORDS:
            reply = self._street_reply(question, local, context)
            if reply is not None:
                return reply
        terms = self.matcher.query_terms(question)
        read = self.dated.read(question, local, terms)
        matches = self.matcher.search_terms(
            self._without_places(terms, read.places), limit=MAX_SUGGESTIONS + 1
        )
        confident = bool(matches) and matches[0].score >= ANSWER_THRESHOLD
        dated = self.dated.answer(read, context, matches[0].entry if confident else None)
        if dated is not None:
            return dated
        if confident:
            return self._from_entry(matches[0].entry, matches[0].score)
        return self._fallback(matches)

    def _without_places(
        self, terms: dict[str, float], places: tuple[Place, ...]
    ) -> dict[str, float]:
        """The terms minus the street a resident named: where it happens is not what it is."""
        if not places:
            return terms
        named = {term for place in places for term in self.analyzer.terms(words(place.name))}
        # a term that is part of a concept ("la Tuilerie", the village hall) stays
        kept = {
            t: share
            for t, share in terms.items()
            if t not in named or share < 1.0 or t.startswith("~")
        }
        return kept or terms

    def _street_reply(self, text: str, now: datetime, context: Context) -> Reply | None:
        """The resident answered "which street?": answer the question they asked before."""
        assert context.pending_question is not None
        places = tuple(self.dated.streets.find(text))
        if not places:
            return None
        if len({p.zone for p in places}) > 1:
            return self.dated.ask_street(places)
        resumed = Context(place=places[0])
        terms = self.matcher.query_terms(context.pending_question)
        read = self.dated.read(context.pending_question, now, terms)
        return self.dated.answer(read, resumed, faq=None)

    def entry(self, entry_id: str) -> Reply | None:
        """The answer of one entry, as when a resident taps a suggestion."""
        entry = self._entries.get(entry_id)
        return self._from_entry(entry, 1.0) if entry is not None else None

    def _from_entry(self, entry: FaqEntry, score: float) -> Reply:
        return Reply(entry.answer.strip(), entry.id, score, links=entry.links)

    def _fallback(self, matches: list[Match]) -> Reply:
        close = tuple(
            Suggestion(m.entry.question, FAQ_CHOICE + m.entry.id)
            for m in matches[:MAX_SUGGESTIONS]
            if m.score >= SUGGEST_THRESHOLD
        )
        text = self.fallback
        if close:
            text = f"{text}\n\n{phrases.SUGGESTIONS_INTRO}"
        best = matches[0].score if matches else 0.0
        return Reply(text, None, best, close)
