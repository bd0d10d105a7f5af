"""Turns French text into matching terms: folding, stop-words, abbreviations, stems, synonyms.

A synonym group becomes one concept term ("~poubelle") emitted beside the stems of the words
that expressed it, so "OM", "ordures ménagères" and "poubelle" meet on the same term while
"carte" alone still matches "carte d'identité" weakly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import Stemmer

from knowledge.lexicon import Lexicon, Reading
from knowledge.morphology import infinitives
from knowledge.text import words

PHRASE_WORD_SHARE = 0.5
SHORT_STEM = 5
STEM_CACHE_LIMIT = 50_000


def numeric(term: str) -> bool:
    """A number, an hour or an amount ("85", "18h", "8h30"): it qualifies a question."""
    return any(c.isdigit() for c in term)


class Analyzer:
    """Analysis rules for one pack: Crieur's lexicon plus the pack's own synonyms."""

    def __init__(
        self,
        lexicon: Lexicon,
        extra_synonyms: Iterable[Sequence[str]] = (),
        extra_stopwords: Iterable[str] = (),
    ) -> None:
        self.stopwords = lexicon.stopwords | frozenset(extra_stopwords)
        self.abbreviations = lexicon.abbreviations
        self.readings = lexicon.readings
        # The readings each word may take, in the lexicon's order (the last that applies wins)
        by_word: dict[str, list[Reading]] = {}
        for reading in self.readings:
            for word in reading.words:
                by_word.setdefault(word, []).append(reading)
        self._readings_of = {word: tuple(found) for word, found in by_word.items()}
        self._stemmer = Stemmer.Stemmer("french")
        self._stems: dict[str, str] = {}
        self._concepts: dict[str, str | None] = {}  # memo of `_single_word`
        self.phrases: dict[tuple[str, ...], str] = {}
        # Single words whose stem is short ("montant" -> "mont") are matched as written, so
        # that "monter" does not become a price.
        self.single_words: dict[str, str] = {}
        # Verbs of one-word synonyms, so that their forms ("refais") meet the concept too.
        self._verbs: dict[str, str] = {}
        self.phrases_text: list[str] = []
        for group in _merge_groups([*lexicon.synonyms, *extra_synonyms], self._key):
            concept = "~" + "_".join(self._key(group[0])) if self._key(group[0]) else ""
            self.phrases_text.extend(group)
            for member in group:
                key = self._key(member)
                if not key or not concept:
                    continue
                if len(key) == 1:
                    for word in self.content(words(member)):
                        self._verbs.setdefault(word, concept)
                        if len(key[0]) < SHORT_STEM:
                            self.single_words[word] = concept
                if len(key) > 1 or len(key[0]) >= SHORT_STEM:
                    self.phrases[key] = concept
        # The longest phrase each stem begins, so that a question's words try only those.
        self._longest: dict[str, int] = {}
        for key in self.phrases:
            self._longest[key[0]] = max(self._longest.get(key[0], 1), len(key))
        self.topic_terms = frozenset(
            term
            for topic in lexicon.topics
            for term, share in self.weighted_terms(words(topic)).items()
            if share == 1.0
        )
        # Real words, never "corrected" into a word of the pack ("femme" is not "ferme"),
        # those a reading gives a sense to included ("troués" is no "trous").
        self.known_words = frozenset(
            word
            for phrase in (*lexicon.weak, *lexicon.topics, *self.phrases_text)
            for word in words(phrase)
        ) | {word for reading in lexicon.readings for word in reading.words}
        # Weak words are matched on their bare stems: stop-word filtering must not drop them.
        self.weak_terms = frozenset(
            [self.stem(w) for phrase in lexicon.weak for w in words(phrase)]
            + [term for phrase in lexicon.weak for term in self.terms(words(phrase))]
        )
        # The lexicon's stems and concepts are no longer needed: keep the caches for queries.
        self._stems.clear()
        self._concepts.clear()

    def _single_word(self, word: str) -> str | None:
        """The concept one word expresses by itself, or None; memoised like the stems
        (trying every verb ending is the costliest step of reading a question)."""
        try:
            return self._concepts[word]
        except KeyError:
            pass
        concept = self.single_words.get(word)
        if concept is None:
            concept = next(
                (self._verbs[verb] for verb in infinitives(word) if verb in self._verbs), None
            )
        if len(self._concepts) >= STEM_CACHE_LIMIT:
            self._concepts.clear()
        self._concepts[word] = concept
        return concept

    def stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            stem = word if word.isdigit() else self._stemmer.stemWord(word)
            if len(self._stems) >= STEM_CACHE_LIMIT:
                self._stems.clear()
            self._stems[word] = stem
        return stem

    def expand(self, folded_words: Iterable[str]) -> list[str]:
        """Replace abbreviations and SMS spellings by their words."""
        out: list[str] = []
        for word in folded_words:
            out.extend(self.abbreviations.get(word, (word,)))
        return out

    def content(self, folded_words: Iterable[str]) -> list[str]:
        listed = list(folded_words)
        if not self._readings_of.keys().isdisjoint(listed):
            listed = _in_context(listed, self._readings_of)
        expanded = self.expand(listed)
        return [w for w in expanded if w.isdigit() or (len(w) > 1 and w not in self.stopwords)]

    def _key(self, phrase: str) -> tuple[str, ...]:
        return tuple(self.stem(w) for w in self.content(words(phrase)))

    def terms(self, folded_words: Sequence[str]) -> list[str]:
        """Matching terms for already-folded words (see `knowledge.text.words`)."""
        return list(self.weighted_terms(folded_words))

    def weighted_terms(self, folded_words: Sequence[str]) -> dict[str, float]:
        """Terms in order of appearance, each with its share of weight in the text.

        The words of a synonym phrase are kept beside its concept, so that "carte" still
        meets "carte d'identité", but weigh less: the phrase counts about once, not once per
        word.
        """
        content = self.content(folded_words)
        stems = [self.stem(w) for w in content]
        out: dict[str, float] = {}
        i = 0
        while i < len(stems):
            longest = self._longest.get(stems[i], 1)
            for size in range(min(longest, len(stems) - i), 0, -1):
                concept = self.phrases.get(tuple(stems[i : i + size]))
                if size == 1:
                    concept = self._single_word(content[i]) or concept
                if concept is not None:
                    out[concept] = 1.0
                    for stem in stems[i : i + size]:
                        out[stem] = max(out.get(stem, 0.0), PHRASE_WORD_SHARE)
                    i += size
                    break
            else:
                out[stems[i]] = 1.0
                i += 1
        return out

    def analyze(self, text: str) -> list[str]:
        return self.terms(words(text))

    def analyze_weighted(self, text: str) -> dict[str, float]:
        return self.weighted_terms(words(text))


def _in_context(
    folded_words: list[str], readings_of: Mapping[str, tuple[Reading, ...]]
) -> list[str]:
    """The words, those whose neighbours decide their sense replaced by it."""
    out = list(folded_words)
    for i, word in enumerate(folded_words):
        for reading in readings_of.get(word, ()):
            if reading.reads(folded_words, i):
                out[i] = reading.meaning
    return out


def _merge_groups(
    groups: Sequence[Sequence[str]], key: Callable[[str], tuple[str, ...]]
) -> list[list[str]]:
    """Union groups that share a member, so a pack can extend one of Crieur's groups."""
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, ...], int] = {}
    for index, group in enumerate(groups):
        for member in group:
            k = key(member)
            if not k:
                continue
            if k in owner:
                parent[find(index)] = find(owner[k])
            else:
                owner[k] = index
    merged: dict[int, list[str]] = {}
    for index, group in enumerate(groups):
        merged.setdefault(find(index), []).extend(group)
    return list(merged.values())
