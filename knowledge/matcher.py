"""Finds the FAQ entry that answers a question, with a confidence between 0 and 1.

The index is built once per pack snapshot. Terms are weighted by how rarely they appear in
the entries' questions and variants (answers count a little), so that "passeport" weighs
more than "demande". A question is scored against an entry by:

- coverage: the share of the question's weight the entry explains, fully for terms of its
  question or variants, half for terms only in its tags or answer. Words the pack never uses
  count against it: that keeps "permis de conduire" away from "permis de construire";
- focus: the share of the entry's closest question or variant that the question says;
- passage: the share of the question that one sentence of the entry's answer says, so that a
  detailed question meets the sentence written for it;
- ambiguity: when a second entry scores almost as well, the bot is less sure of the first;
  and when none comes near it and the pack knows nearly every word of the question, more sure;
- length: a long question tells its circumstances (who, where, since when) beside its
  subject, and no entry says those: each term beyond a few gives back a little confidence,
  and the words the pack never uses, more likely circumstances than subjects there, weigh
  less.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from knowledge.analysis import Analyzer, numeric
from knowledge.morphology import singular_verb
from knowledge.pack.models import FaqEntry
from knowledge.speller import Speller
from knowledge.text import words

BODY_WEIGHT = 0.5  # a term found only in an entry's tags or answer counts for this much
BODY_DF_SHARE = 0.2  # an answer mentioning a term makes it this much less distinctive
UNKNOWN_IDF_SHARE = 0.7  # a word the pack never uses weighs this share of the rarest term
WEAK_IDF_SHARE = 0.5  # time, quantity and vague words (see lexicon/weights.yaml)
FOCUS_WEIGHT = 0.3
AMBIGUITY_PENALTY = 0.6  # applied as the runner-up's score nears the best one's:
AMBIGUITY_FROM = 0.7  # from this share of it
CANDIDATES = 12
TOPIC_WEIGHT = 1.5  # a topic word no question of the entry names costs this many rarest terms
_SENTENCE_END = re.compile(r"[.\n;:!?]")
PASSAGE_WEIGHT = 0.3  # how much of the question one sentence of the answer says
LONG_QUESTION_TERMS = 7  # from this many terms on, a question is long:
LENGTH_CREDIT = 0.02  # each further term adds this much to every score,
MAX_LENGTH_CREDIT = 0.11  # up to this much;
UNKNOWN_LONG_STEP = 0.5  # and words the pack never uses lose this share of their weight,
UNKNOWN_LONG_FLOOR = 0.2  # down to this share
CLEAR_LEAD = 0.7  # a best entry whose runner-up scores at most this share of it stands apart,
CLEAR_UNKNOWN = 0.1  # and when the pack knows all but this share of the question's weight,
CLEAR_CREDIT = 0.08  # it gains this much


def _unknown_share(count: int) -> float:
    """How much a word the pack never uses still weighs in a question of `count` terms: in a
    short one it is likely the subject ("permis de conduire"), in a long one a circumstance
    (a town, a relative, a detail of the story)."""
    longer = max(0, count - LONG_QUESTION_TERMS)
    return max(UNKNOWN_LONG_FLOOR, 1 - UNKNOWN_LONG_STEP * longer)


@dataclass(frozen=True, slots=True)
class Match:
    """An entry and how confident the matcher is that it answers the question."""

    entry: FaqEntry
    score: float
    coverage: float
    focus: float


@dataclass(frozen=True, slots=True)
class _Indexed:
    entry: FaqEntry
    sentences: tuple[tuple[frozenset[str], float], ...]  # terms of a question or variant, weight
    title: frozenset[str]  # every term of the question and variants
    passages: tuple[frozenset[str], ...] = ()  # terms of each sentence of the answer
    # the terms its questions say by themselves: "hôtel de ville" says no hotel
    named: frozenset[str] = frozenset()


class FaqMatcher:
    """An immutable index of a pack's FAQ entries."""

    def __init__(
        self, entries: Sequence[FaqEntry], analyzer: Analyzer, names: Sequence[str] = ()
    ) -> None:
        """`names`: the pack's other words a resident may type (its places, its events), so
        that the speller knows them too."""
        self.analyzer = analyzer
        vocabulary: Counter[str] = Counter()
        # each entry's questions and its tags and answer, folded once: for the speller, then
        # for the index
        folded = [
            (
                [words(sentence) for sentence in (entry.question, *entry.variants)],
                words(" ".join(entry.tags) + " " + entry.answer),
            )
            for entry in entries
        ]
        for questions, answer_words in folded:
            for question in questions:
                vocabulary.update(question)
            vocabulary.update(answer_words)
        for phrase in (*analyzer.phrases_text, *names):
            vocabulary.update(words(phrase))
        for expansion in analyzer.abbreviations.values():
            vocabulary.update(expansion)
        for word in analyzer.stopwords:
            vocabulary.pop(word, None)
        # Stop-words, abbreviations and weak words are known (never corrected), but are
        # never offered as a correction.
        self.speller = Speller(
            vocabulary,
            analyzer.stem,
            known=[*analyzer.stopwords, *analyzer.abbreviations, *analyzer.known_words],
            shorthands=analyzer.abbreviations,
        )

        titles: list[list[frozenset[str]]] = []
        named: list[frozenset[str]] = []
        bodies: list[set[str]] = []
        passages: list[tuple[frozenset[str], ...]] = []
        for entry, (questions, answer_words) in zip(entries, folded, strict=True):
            sentences = []
            said: set[str] = set()
            for question in questions:
                shares = analyzer.weighted_terms(self._read(question))
                sentences.append(frozenset(shares))
                said.update(term for term, share in shares.items() if share == 1.0)
            named.append(frozenset(said))
            titles.append(sentences)
            bodies.append(set(analyzer.terms(self._read(answer_words))))
            passages.append(
                tuple(
                    frozenset(analyzer.terms(self._read(words(part))))
                    for part in _SENTENCE_END.split(entry.answer)
                    if part.strip()
                )
            )

        title_df: Counter[str] = Counter(t for s in titles for t in frozenset().union(*s))
        body_df: Counter[str] = Counter(t for b in bodies for t in b)
        total = max(len(titles), 1)
        self._idf = {
            term: math.log(1 + (total - n + 0.5) / (n + 0.5))
            for term in title_df.keys() | body_df.keys()
            for n in [title_df[term] + BODY_DF_SHARE * max(body_df[term] - title_df[term], 0)]
        }
        self._max_idf = max(self._idf.values(), default=1.0)

        title_postings: defaultdict[str, list[int]] = defaultdict(list)
        body_postings: defaultdict[str, list[int]] = defaultdict(list)
        indexed = []
        for position, (entry, sentences, body) in enumerate(
            zip(entries, titles, bodies, strict=True)
        ):
            title = frozenset().union(*sentences)
            for term in title:
                title_postings[term].append(position)
            for term in body - title:
                body_postings[term].append(position)
            weighted = tuple((s, sum(self._idf[t] for t in s) or 1.0) for s in sentences)
            indexed.append(_Indexed(entry, weighted, title, passages[position], named[position]))
        self._entries = tuple(indexed)
        self._title_postings = dict(title_postings)
        self._body_postings = dict(body_postings)

    def _read(self, folded_words: list[str]) -> list[str]:
        """Words as the index reads them, the pack's and the question's alike: present
        plurals as their singular ("les camions passent" meets "le camion passe")."""
        return [singular_verb(word, self.speller) for word in folded_words]

    def query_terms(self, text: str) -> dict[str, float]:
        """The question's distinct terms, after typo correction, with their share of weight."""
        return self.analyzer.weighted_terms(self._read(self.speller.correct_all(words(text))))

    def _weights(self, terms: dict[str, float]) -> dict[str, float]:
        """Each term's weight in the question."""
        unknown = UNKNOWN_IDF_SHARE * self._max_idf * _unknown_share(len(terms))
        weak = self.analyzer.weak_terms
        weights = {}
        for term, share in terms.items():
            value = self._idf.get(term, unknown) * share
            weights[term] = value * WEAK_IDF_SHARE if term in weak or numeric(term) else value
        return weights

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """Best entries first; empty when the question shares nothing with the pack."""
        return self.search_terms(self.query_terms(text), limit)

    def search_terms(self, terms: dict[str, float], limit: int = 3) -> list[Match]:
        """`search` for terms already read with `query_terms`."""
        if not terms:
            return []
        idf = self._weights(terms)
        total = sum(idf.values()) or 1.0
        # A topic word the entry's questions do not name costs as much as the rarest term.
        topics = {
            t: max(TOPIC_WEIGHT * self._max_idf - idf[t], 0.0)
            for t in self.analyzer.topic_terms & terms.keys()
        }
        mass: defaultdict[int, float] = defaultdict(float)
        for term in terms:
            for position in self._title_postings.get(term, ()):
                mass[position] += idf[term]
            body_gain = BODY_WEIGHT * idf[term]
            for position in self._body_postings.get(term, ()):
                mass[position] += body_gain
        best = heapq.nlargest(CANDIDATES, mass.items(), key=itemgetter(1))
        query = terms.keys()
        present = frozenset(query)
        weight_of = idf.__getitem__
        scored = []
        for position, value in best:
            item = self._entries[position]
            missed = sum(v for t, v in topics.items() if t not in item.named) if topics else 0
            coverage = value / (total + missed)
            # Every weight is positive, so a sentence or passage sharing no term with the
            # question (most of them) scores 0 and cannot raise the maximum: it is skipped.
            focus = max(
                (
                    sum(map(weight_of, s & query)) / weight
                    for s, weight in item.sentences
                    if not s.isdisjoint(present)
                ),
                default=0.0,
            )
            passage = max(
                (
                    sum(map(weight_of, p & query))
                    for p in item.passages
                    if not p.isdisjoint(present)
                ),
                default=0.0,
            )
            score = coverage + FOCUS_WEIGHT * focus + PASSAGE_WEIGHT * passage / total
            if not focus:  # none of its questions says a word of it: its text only mentions it
                score *= BODY_WEIGHT
            scored.append((score / (1 + FOCUS_WEIGHT + PASSAGE_WEIGHT), coverage, focus, item))
        scored.sort(key=itemgetter(0), reverse=True)
        if not scored:
            return []
        if all(t in self.analyzer.weak_terms or numeric(t) for t in terms):
            # Only words that qualify a subject, none naming one: "quel temps fera-t-il demain ?"
            scored = [(s * WEAK_IDF_SHARE, c, f, i) for s, c, f, i in scored]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        closeness = runner_up / scored[0][0] if scored[0][0] else 0.0
        penalty = 1 - AMBIGUITY_PENALTY * max(0.0, closeness - AMBIGUITY_FROM)
        credit = min(LENGTH_CREDIT * max(0, len(terms) - LONG_QUESTION_TERMS), MAX_LENGTH_CREDIT)
        first = scored[0][0] * penalty + credit
        if runner_up + credit <= CLEAR_LEAD * first:
            unknown = sum(v for t, v in idf.items() if t not in self._idf)
            if unknown <= CLEAR_UNKNOWN * total:
                first += CLEAR_CREDIT
        return [
            Match(
                item.entry,
                round(min(first if rank == 0 else score + credit, 1.0), 4),
                coverage,
                focus,
            )
            for rank, (score, coverage, focus, item) in enumerate(scored[:limit])
        ]
