"""Turns pydantic validation errors into French `Problem`s naming the entry, field and line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from rapidfuzz import process

from knowledge.pack.problems import Problem
from knowledge.pack.yamldoc import YamlDocument

Loc = tuple[int | str, ...]

_DATE_TYPES = {
    "date_parsing",
    "date_from_datetime_parsing",
    "date_from_datetime_inexact",
    "date_type",
}
_DATETIME_TYPES = {"datetime_parsing", "datetime_from_date_parsing", "datetime_type"}
_SIMPLE = {
    "missing": "manquant",
    "string_type": "doit être un texte",
    "int_parsing": "doit être un nombre entier",
    "int_type": "doit être un nombre entier",
    "bool_parsing": "doit valoir true ou false",
    "bool_type": "doit valoir true ou false",
    "list_type": "doit être une liste",
    "tuple_type": "doit être une liste",
    "dict_type": "doit être une liste de clés (clé: valeur)",
    "model_type": "doit être une liste de clés (clé: valeur)",
    "model_attributes_type": "doit être une liste de clés (clé: valeur)",
    "timezone_aware": "il manque le décalage horaire (ajoutez +01:00 ou +02:00)",
}


def _message(error: ErrorDetails, known_keys: Iterable[str]) -> str:
    kind, value = error["type"], error.get("input")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else ""
        close = process.extractOne(key, list(known_keys), score_cutoff=70)
        hint = f' ; vouliez-vous dire "{close[0]}" ?' if close else ""
        return f"clé inconnue{hint}"
    if kind in _DATE_TYPES:
        return f'date invalide "{value}" (attendu AAAA-MM-JJ, une date qui existe)'
    if kind in _DATETIME_TYPES:
        return f'date et heure invalides "{value}" (attendu AAAA-MM-JJTHH:MM:SS+01:00)'
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f'valeur "{value}" inconnue ; valeurs possibles : {expected.replace(" or ", " ou ")}'
    if kind == "string_pattern_mismatch":
        return f'"{value}" n\'est pas un identifiant valide (minuscules, chiffres et tirets)'
    if kind == "string_too_short":
        return "ne doit pas être vide"
    if kind == "too_short":
        return "ne doit pas être vide"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def entry_label(raw: Any, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f'entrée {index + 1} (id "{ident}")' if ident else f"entrée {index + 1}"


def describe(raw: Any, loc: Loc) -> tuple[str | None, str | None]:
    """Split a location into the entry it is in (if any) and the field path inside it."""
    node: Any = raw
    head: list[str] = []
    for depth, step in enumerate(loc):
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            item = node[step]
            if isinstance(item, dict):
                label = entry_label(item, step)
                if head:
                    label = f"{' > '.join(head)} : {label}"
                rest = [str(s + 1) if isinstance(s, int) else str(s) for s in loc[depth + 1 :]]
                return label, " > ".join(rest) or None
        head.append(str(step + 1) if isinstance(step, int) else str(step))
        node = node.get(step) if isinstance(node, dict) else None
    return None, " > ".join(head) or None


def problems_from(
    exc: ValidationError,
    file: str,
    doc: YamlDocument | None,
    raw: Any,
    base: Loc = (),
    known_keys: Sequence[str] = (),
) -> list[Problem]:
    """One Problem per pydantic error, located in `raw` (the whole file's data)."""
    problems = []
    for error in exc.errors():
        loc = base + tuple(step for step in error["loc"] if not _is_internal(step))
        entry, field = describe(raw, loc)
        line = doc.line_of(loc) if doc is not None else None
        problems.append(Problem(file, _message(error, known_keys), line, entry, field))
    return problems


def _is_internal(step: int | str) -> bool:
    """Pydantic inserts validator names such as 'function-after[...]' in some locations."""
    return isinstance(step, str) and ("[" in step or step.startswith("function-"))
