"""A resident's question, read once: folded text, terms, the date meant, the street named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from knowledge.dates import When, normalise
from knowledge.places import Place

_CLAUSE = re.compile(r"[^.;!?]*[.;!?]*")
# "la mairie est fermée cet après-midi, comment déclarer le décès ?": what comes before the
# comma (or colon) is the situation, the question follows it.
_THEN_ASKS = re.compile(
    r"[,:]\s*(?:et |mais )?(?=(?:comment|qui|que|qu'|quoi|pourquoi|combien|quel|quelle|quels|"
    r"quelles|où|ou est|à qui|a qui|est-ce|est ce|dois|doit|faut|peut|puis|je peux|on peut)\b)",
    re.IGNORECASE,
)


# A clause of only these words asks for help or thanks, and says nothing of the matter.
_HELP_WORDS = frozenset({
    "pouvez", "pourriez", "peux", "pourrais", "vous", "tu", "m", "me", "nous", "aider", "aide",
    "renseigner", "guider", "orienter", "conseiller", "conseillez", "expliquer", "eclairer",
    "repondre", "informer", "merci", "beaucoup", "d", "de", "par", "avance", "votre", "ton",
    "pour", "que", "qu", "est", "ce", "il", "s", "plait", "svp", "stp", "bonjour", "bonsoir",
    "salut", "cordialement", "bonne", "journee", "soiree", "le", "la", "les", "y",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Question:
    """Everything the dated answers need to know about one message."""

    text: str
    folded: str  # " word word " without accents, hyphens as spaces
    terms: dict[str, float]
    now: datetime  # in the commune's timezone
    when: When | None
    places: tuple[Place, ...]
    asked: str  # the folded words of what the message asks (see `asked_part`)

    @property
    def today(self) -> date:
        return self.now.date()

    def says(self, pattern: str) -> bool:
        """Whether the folded text contains `pattern` (a regex) as whole words."""
        return re.search(r" (?:" + pattern + r") ", self.folded) is not None

    def asks(self, pattern: str) -> bool:
        """Whether `pattern` is in what the message asks (see `asked_part`)."""
        return re.search(r" (?:" + pattern + r") ", self.asked) is not None


def asked_part(text: str) -> str:
    """What a message asks, folded like `Question.folded`: the clauses ending with a question
    mark, from the question word that follows their last comma or colon, and the last clause
    ("la mairie est fermée vendredi ; je peux déposer mon dossier ?" and "la mairie est
    fermée, comment déclarer le décès ?" do not ask whether the mairie is open). When these
    only ask for help or thank ("Pouvez-vous m'aider ?", "Merci."), the clause before them
    says what is asked: "Je ne sais pas comment l'inscrire. Pouvez-vous m'aider ?"."""
    clauses = [c for c in _CLAUSE.findall(text) if c.strip(" .;!?")]
    last = len(clauses) - 1
    chosen = [n for n, c in enumerate(clauses) if c.rstrip().endswith("?") or n == last]
    if chosen and all(_only_asks_for_help(clauses[n]) for n in chosen):
        said = [n for n in range(chosen[0]) if not _only_asks_for_help(clauses[n])]
        chosen = said[-1:] + chosen
    return fold_words(" ".join(_THEN_ASKS.split(clauses[n])[-1] for n in chosen))


def _only_asks_for_help(clause: str) -> bool:
    return set(fold_words(clause).split()) <= _HELP_WORDS


def fold_words(text: str) -> str:
    """The folded words of `text` between spaces (" word word "), apostrophes as spaces, so
    that a pattern is searched as whole words."""
    return " " + " ".join(normalise(text).replace("'", " ").split()) + " "
