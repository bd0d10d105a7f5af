"""Regular French verb forms, so that "je refais" is read as "refaire" and not as a typo."""

from __future__ import annotations

from collections.abc import Container

_ENDINGS = {
    "er": ("e", "es", "ent", "ons", "ez", "ais", "ait", "aient", "ions", "iez", "ant", "era",
           "erai", "eras", "erez", "eront", "erais", "erait", "e", "ee", "es", "ees"),
    "ir": ("is", "it", "issons", "issez", "issent", "issais", "issait", "i", "ie", "ies"),
    "re": ("s", "t", "ons", "ez", "ent", "ais", "ait", "u", "ue", "us", "ues", "it", "ite"),
    # venir, tenir and their family: prévenir, obtenir, intervenir, appartenir…
    "enir": ("iens", "ient", "enons", "enez", "iennent", "enais", "enait", "enu", "enue",
             "enus", "enues", "iendra", "iendrai", "iendrez", "iendront"),
}  # fmt: skip


def infinitives(word: str) -> tuple[str, ...]:
    """The infinitives `word` could be a regular form of (folded), computed from the
    endings so that no table of every form is kept in memory."""
    found = []
    for ending, suffixes in _ENDINGS.items():
        for suffix in dict.fromkeys(suffixes):
            if word.endswith(suffix):
                infinitive = word[: -len(suffix)] + ending
                if len(infinitive) > 4:
                    found.append(infinitive)
    return tuple(found)


def is_inflection(word: str, known: Container[str]) -> bool:
    """Whether `word` is a regular form of a known infinitive, or its re- form ("refais")."""
    if any(infinitive in known for infinitive in infinitives(word)):
        return True
    if word.startswith("re") and len(word) > 4:
        rest = word[2:]
        return rest in known or any(infinitive in known for infinitive in infinitives(rest))
    return False


def singular_verb(word: str, known: Container[str]) -> str:
    """A present plural ("passent", "ouvrent", "louons") as its singular when its infinitive
    is known: the stemmer leaves such plurals whole but stems "passe" to "pass". Nouns and
    adjectives ending alike ("parent", "argent", "urgent") have no known infinitive and
    stay."""
    if len(word) >= 6 and word.endswith("ons") and word[:-3] + "er" in known:
        return word[:-3] + "e"  # "habitons"; not "saisons" ("saisir" is not "saiser")
    if len(word) < 6 or not word.endswith("ent") or word.endswith("ment"):
        return word
    singular = word[:-2]
    if singular + "r" in known or singular[:-1] + "ir" in known:
        return singular
    return word
