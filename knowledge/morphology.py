"""Regular French verb forms, so that "je refais" is read as "refaire" and not as a typo."""

from __future__ import annotations

from collections.abc import Iterable

_ENDINGS = {
    "er": ("e", "es", "ent", "ons", "ez", "ais", "ait", "aient", "ions", "iez", "ant", "era",
           "erai", "eras", "erez", "eront", "erais", "erait", "e", "ee", "es", "ees"),
    "ir": ("is", "it", "issons", "issez", "issent", "issais", "issait", "i", "ie", "ies"),
    "re": ("s", "t", "ons", "ez", "ent", "ais", "ait", "u", "ue", "us", "ues", "it", "ite"),
}  # fmt: skip


def conjugations(word: str) -> tuple[str, ...]:
    """Regular conjugated forms of `word` if it looks like an infinitive (folded), else ()."""
    ending = word[-2:]
    if len(word) <= 4 or ending not in _ENDINGS:
        return ()
    root = word[:-2]
    return tuple(root + suffix for suffix in _ENDINGS[ending])


def inflections(vocabulary: Iterable[str]) -> set[str]:
    """Regular conjugated forms of the infinitives in `vocabulary`, and their re- forms.

    They are real words, not typos: "refais" must not be "corrected" to "relais".
    """
    forms = {form for word in vocabulary for form in conjugations(word)}
    return forms | {"re" + form for form in forms} | {"re" + word for word in vocabulary}
