"""FAQ edits made in the back-office, saved to the pack's own `faq.yaml`.

Why this shape:
- The pack stays the one source of truth, which agents or a programmer may also edit by
  hand; so the back-office writes the same YAML file and rewrites only the lines of the
  entry it changes: comments, order and layout of every other entry are kept.
- Before each save the previous file is copied to `<pack>/.historique/faq-<UTC>.yaml` (the
  last 50 are kept), then the knowledge is reloaded; if the pack no longer loads, the
  previous file is put back and the problems are reported, so residents never meet a
  broken pack and nothing needs a restart.
- Entries are validated by the pack's own model (`FaqEntry`) and its French messages,
  field by field, plus size limits that keep answers readable on every channel.
- Each form carries a fingerprint of the entry as it was shown: if someone else saved it in
  the meantime, the save is refused instead of silently overwriting their work.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.pack import PackError
from knowledge.pack.models import FaqEntry
from knowledge.pack.validation import problems_from
from knowledge.pack.yamldoc import YamlDocument, YamlSyntaxError, parse_yaml
from knowledge.text import fold, words

FAQ_FILE = "faq.yaml"
HISTORY_DIR = ".historique"
MAX_HISTORY = 50
MAX_ID = 80
MAX_QUESTION = 300
MAX_VARIANTS = 40
MAX_ANSWER = 4_000
MAX_TAGS = 20
MAX_TAG = 60
MAX_LINKS = 10
MAX_LINK = 500
FIELDS = ("id", "question", "variants", "answer", "tags", "links")


def utcnow() -> datetime:
    return datetime.now(UTC)


class EditError(Exception):
    """A change that was not saved. `message` is French, for the agent; `fields` maps form
    fields to their problem; `problems` lists what the pack loader reported; `kind` is
    "invalid", "conflict", "missing", "broken" (the pack would not load) or "io"."""

    def __init__(
        self,
        message: str,
        fields: Mapping[str, str] | None = None,
        problems: Sequence[str] = (),
        kind: str = "invalid",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.problems = tuple(problems)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry as typed in the form: variants and links one per line, tags by commas."""

    id: str = ""
    question: str = ""
    variants: str = ""
    answer: str = ""
    tags: str = ""
    links: str = ""

    @classmethod
    def of(cls, entry: FaqEntry) -> Draft:
        return cls(
            entry.id,
            entry.question,
            "\n".join(entry.variants),
            entry.answer,
            ", ".join(entry.tags),
            "\n".join(entry.links),
        )

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Draft:
        return cls(**{name: str(form.get(name, "")) for name in FIELDS})


def clean_text(text: str, multiline: bool = False) -> str:
    """NFC, no control characters, Unix line ends; one line unless `multiline`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for separator in ("\u2028", "\u2029", "\x85"):
        text = text.replace(separator, "\n")
    text = unicodedata.normalize("NFC", text.replace("\t", " "))
    text = "".join(
        char
        for char in text
        if char == "\n"
        or (unicodedata.category(char) not in ("Cc", "Cs") and char not in "\ufeff\ufffe\uffff")
    )
    if not multiline:
        return " ".join(text.split())
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _lines(text: str) -> list[str]:
    return [line for line in (clean_text(item) for item in text.split("\n")) if line]


def _tags(text: str) -> list[str]:
    return [tag for tag in (clean_text(item) for item in text.replace("\n", ",").split(",")) if tag]


def fingerprint(entry: FaqEntry) -> str:
    """A short digest of the entry's content, to detect concurrent edits."""
    data = json.dumps(entry.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:20]


def slug_for(question: str, taken: set[str]) -> str:
    """An id made of the question's words, unique among `taken`."""
    base = "-".join(words(question))[:60].strip("-") or "entree"
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base}-{number}"
        number += 1
    return candidate


def validate(draft: Draft, taken: set[str] | None = None) -> FaqEntry:
    """The entry the draft describes, or `EditError` with a French message per field.

    `taken` is the set of ids already used, for a new entry (None when editing one).
    """
    errors: dict[str, str] = {}
    question = clean_text(draft.question)
    ident = clean_text(draft.id)
    if taken is not None and not ident and question:
        ident = slug_for(question, taken)
    raw: dict[str, Any] = {
        "id": ident,
        "question": question,
        "variants": _lines(draft.variants),
        "answer": clean_text(draft.answer, multiline=True),
        "tags": _tags(draft.tags),
        "links": _lines(draft.links),
    }
    limits = {
        "id": (len(ident), MAX_ID, "caractères"),
        "question": (len(question), MAX_QUESTION, "caractères"),
        "answer": (len(raw["answer"]), MAX_ANSWER, "caractères"),
        "variants": (len(raw["variants"]), MAX_VARIANTS, "variantes"),
        "tags": (len(raw["tags"]), MAX_TAGS, "mots-clés"),
        "links": (len(raw["links"]), MAX_LINKS, "liens"),
    }
    for name, (size, limit, unit) in limits.items():
        if size > limit:
            errors[name] = f"trop long : {limit} {unit} au plus (ici {size})"
    for name, limit in (("variants", MAX_QUESTION), ("tags", MAX_TAG), ("links", MAX_LINK)):
        for position, item in enumerate(raw[name], 1):
            if len(item) > limit and name not in errors:
                errors[name] = f"ligne {position} : trop longue ({limit} caractères au plus)"
    if taken is not None and ident in taken:
        errors.setdefault("id", f"l'identifiant « {ident} » est déjà utilisé par une autre entrée")
    entry = None
    try:
        entry = FaqEntry.model_validate(raw)
    except ValidationError as exc:
        for problem in problems_from(exc, FAQ_FILE, None, raw):
            name, _, rest = (problem.field or "").partition(" > ")
            message = f"ligne {rest} : {problem.message}" if rest else problem.message
            errors.setdefault(name if name in FIELDS else "question", message)
    if errors or entry is None:
        raise EditError("L'entrée n'a pas été enregistrée : corrigez les champs signalés.", errors)
    return entry


# ------------------------------------------------------------------------ YAML writing


class _Quoted(str):
    __slots__ = ()


class _Literal(str):
    __slots__ = ()


class _Flow(list[str]):
    pass


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists, like the hand-written packs."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _quoted(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


def _flow(dumper: yaml.SafeDumper, value: list[str]) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


_Dumper.add_representer(_Quoted, _quoted)
_Dumper.add_representer(_Literal, _literal)
_Dumper.add_representer(_Flow, _flow)


def dump_entry(entry: FaqEntry, indent: int = 0) -> list[str]:
    """The entry as YAML lines: quoted questions, the answer as a readable `|` block."""
    data: dict[str, Any] = {"id": entry.id, "question": _Quoted(entry.question)}
    if entry.variants:
        data["variants"] = [_Quoted(variant) for variant in entry.variants]
    data["answer"] = _Literal(entry.answer + "\n")
    if entry.tags:
        data["tags"] = _Flow(entry.tags)
    if entry.links:
        data["links"] = _Flow(entry.links)
    text = yaml.dump(
        [data], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1_000_000, indent=2
    )
    pad = " " * indent
    return [pad + line if line else line for line in text.rstrip("\n").split("\n")]


def _is_trivia(line: str, key_column: int) -> bool:
    """A blank line, or a comment that cannot belong to an entry's block (it is left of it)."""
    stripped = line.strip()
    return not stripped or (
        stripped.startswith("#") and len(line) - len(line.lstrip()) < key_column
    )


def _blocks(lines: list[str], doc: YamlDocument) -> list[tuple[int, int]] | None:
    """(first line, end line exclusive) of each entry; None if the file is not plain block YAML."""
    root = doc.root
    if not isinstance(root, yaml.SequenceNode) or root.flow_style:
        return None
    starts: list[int] = []
    for node in root.value:
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return None
        line = node.start_mark.line
        while line > 0 and not lines[line].lstrip().startswith("-"):
            line -= 1
        if not lines[line].lstrip().startswith("-"):
            return None
        starts.append(line)
    blocks = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        key_column = root.value[index].start_mark.column
        while end - 1 > start and _is_trivia(lines[end - 1], key_column):
            end -= 1
        blocks.append((start, end))
    return blocks


def _header(lines: list[str]) -> list[str]:
    """The comment lines at the top of the file, kept by a full rewrite."""
    kept = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return kept


def render_file(entries: Sequence[FaqEntry], header: Sequence[str] = ()) -> str:
    """A whole faq.yaml: the header comments, then one block per entry."""
    out = list(header)
    while out and not out[-1].strip():
        out.pop()
    for entry in entries:
        if out:
            out.append("")
        out.extend(dump_entry(entry))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the editor


class PackEditor:
    """Reads and changes the FAQ of one pack folder, with history and a safe reload."""

    def __init__(
        self,
        pack_path: Path,
        reload: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
        keep: int = MAX_HISTORY,
    ) -> None:
        self.pack_path = Path(pack_path)
        self.reload = reload
        self.clock = clock
        self.keep = keep
        self._lock = threading.Lock()

    @property
    def faq_path(self) -> Path:
        return self.pack_path / FAQ_FILE

    @property
    def history_path(self) -> Path:
        return self.pack_path / HISTORY_DIR

    # ------------------------------------------------------------------- reading

    def _read(self) -> str:
        try:
            return self.faq_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EditError(f"lecture de {FAQ_FILE} impossible ({exc})", kind="io") from exc

    def _parse(self, text: str) -> tuple[YamlDocument, list[FaqEntry]]:
        """The document and its entries; `EditError` if the file is broken (by hand)."""
        broken = f"{FAQ_FILE} contient des erreurs : corrigez-les dans le fichier d'abord."
        try:
            doc = parse_yaml(text)
        except YamlSyntaxError as exc:
            line = f", ligne {exc.line}" if exc.line else ""
            raise EditError(broken, problems=[f"{FAQ_FILE}{line} : {exc}"], kind="broken") from exc
        data = doc.data if doc.data is not None else []
        if not isinstance(data, list):
            raise EditError(
                broken, problems=[f"{FAQ_FILE} : liste d'entrées attendue"], kind="broken"
            )
        entries, problems = [], []
        for index, raw in enumerate(data):
            try:
                entries.append(FaqEntry.model_validate(raw))
            except ValidationError as exc:
                problems += [str(p) for p in problems_from(exc, FAQ_FILE, doc, data, (index,))]
        if problems:
            raise EditError(broken, problems=problems, kind="broken")
        return doc, entries

    def entries(self) -> list[FaqEntry]:
        """The entries as the file holds them now."""
        return self._parse(self._read())[1]

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)

    def history(self) -> list[Path]:
        """Saved previous versions, oldest first."""
        if not self.history_path.is_dir():
            return []
        return sorted(self.history_path.glob("faq-*.yaml"))

    # ------------------------------------------------------------------- changing

    def create(self, draft: Draft) -> FaqEntry:
        """Validate and append a new entry; returns it."""
        with self._lock:
            text = self._read()
            doc, entries = self._parse(text)
            entry = validate(draft, taken={e.id for e in entries})
            lines = text.split("\n")
            while lines and not lines[-1].strip():
                lines.pop()
            blocks = _blocks(text.split("\n"), doc)
            pad = self._indent(lines, blocks)
            new_lines = [*lines, ""] if lines else []
            new_text = "\n".join(new_lines + dump_entry(entry, pad)) + "\n"
            self._commit(text, new_text, [*entries, entry])
            return entry

    def update(self, entry_id: str, draft: Draft, expected: str | None) -> FaqEntry:
        """Validate and replace one entry (its id does not change); returns it."""
        with self._lock:
            text = self._read()
            doc, entries = self._parse(text)
            index = self._find(entries, entry_id, expected)
            entry = validate(Draft(entry_id, *[getattr(draft, f) for f in FIELDS[1:]]))
            wanted = [*entries[:index], entry, *entries[index + 1 :]]
            self._commit(text, self._splice(text, doc, index, entry), wanted)
            return entry

    def delete(self, entry_id: str, expected: str | None) -> None:
        with self._lock:
            text = self._read()
            doc, entries = self._parse(text)
            index = self._find(entries, entry_id, expected)
            wanted = [*entries[:index], *entries[index + 1 :]]
            self._commit(text, self._splice(text, doc, index, None), wanted)

    def add_variant(self, entry_id: str, variant: str) -> FaqEntry:
        """Append a resident's wording to an entry's variants; returns the entry."""
        cleaned = clean_text(variant)
        if not cleaned:
            raise EditError("la formulation est vide", {"variante": "la formulation est vide"})
        if len(cleaned) > MAX_QUESTION:
            message = (
                f"formulation trop longue pour une variante ({MAX_QUESTION} caractères au plus)"
            )
            raise EditError(message, {"variante": message})
        with self._lock:
            text = self._read()
            doc, entries = self._parse(text)
            index = self._find(entries, entry_id, None)
            current = entries[index]
            if fold(cleaned) in {fold(v) for v in (current.question, *current.variants)}:
                message = f"cette formulation figure déjà dans l'entrée « {current.id} »"
                raise EditError(message, {"variante": message})
            draft = Draft.of(current)
            draft = Draft(
                current.id, draft.question, f"{draft.variants}\n{cleaned}".strip("\n"),
                draft.answer, draft.tags, draft.links,
            )  # fmt: skip
            entry = validate(draft)
            wanted = [*entries[:index], entry, *entries[index + 1 :]]
            self._commit(text, self._splice(text, doc, index, entry), wanted)
            return entry

    # ------------------------------------------------------------------- plumbing

    @staticmethod
    def _find(entries: list[FaqEntry], entry_id: str, expected: str | None) -> int:
        for index, entry in enumerate(entries):
            if entry.id == entry_id:
                if expected is not None and expected != fingerprint(entry):
                    raise EditError(
                        "Cette entrée a été modifiée par quelqu'un d'autre depuis que vous "
                        "l'avez ouverte : rechargez la page pour voir sa nouvelle version.",
                        kind="conflict",
                    )
                return index
        raise EditError(f"l'entrée « {entry_id} » n'existe pas (ou plus)", kind="missing")

    @staticmethod
    def _indent(lines: list[str], blocks: list[tuple[int, int]] | None) -> int:
        if not blocks:
            return 0
        first = lines[blocks[0][0]]
        return len(first) - len(first.lstrip())

    def _splice(self, text: str, doc: YamlDocument, index: int, entry: FaqEntry | None) -> str:
        """The file with entry `index` replaced by `entry` (or removed), other lines untouched."""
        lines = text.split("\n")
        blocks = _blocks(lines, doc)
        if blocks is None:
            return ""  # not plain block YAML: `_commit` falls back to a full rewrite
        start, end = blocks[index]
        if entry is not None:
            middle = dump_entry(entry, self._indent(lines, blocks))
        else:
            middle = []
            if (
                end < len(lines)
                and not lines[end].strip()
                and (start == 0 or not lines[start - 1].strip())
            ):
                end += 1
        return "\n".join([*lines[:start], *middle, *lines[end:]])

    def _commit(self, old: str, new: str, wanted: list[FaqEntry]) -> None:
        """Check, back up, write, reload; put the old file back if the pack would not load."""
        if not self._holds(new, wanted):
            new = render_file(wanted, _header(old.split("\n")))
            if not self._holds(new, wanted):
                raise EditError("le fichier n'a pas pu être écrit correctement", kind="io")
        try:
            backup = self._backup(old)
            self._write(new)
        except OSError as exc:
            raise EditError(
                f"impossible d'écrire dans le dossier du pack ({exc.strerror or exc})", kind="io"
            ) from exc
        try:
            self.reload()
        except PackError as exc:
            self._restore(old, backup)
            raise EditError(
                "Le pack ne se charge plus avec cette modification : l'ancienne version est "
                "conservée et le bot continue de répondre comme avant.",
                problems=[str(problem) for problem in exc.problems],
                kind="broken",
            ) from exc
        except Exception:
            self._restore(old, backup)
            raise
        self._prune()

    @staticmethod
    def _holds(text: str, wanted: list[FaqEntry]) -> bool:
        """Whether `text` reads back as exactly `wanted`."""
        if not text:
            return False
        try:
            doc = parse_yaml(text)
            data = doc.data or []
            return isinstance(data, list) and [FaqEntry.model_validate(d) for d in data] == wanted
        except (YamlSyntaxError, ValidationError):
            return False

    def _restore(self, old: str, backup: Path) -> None:
        self._write(old)
        with suppress(OSError):
            backup.unlink()

    def _backup(self, text: str) -> Path:
        self.history_path.mkdir(exist_ok=True)
        stamp = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.history_path / f"faq-{stamp}.yaml"
        number = 2
        while path.exists():
            path = self.history_path / f"faq-{stamp}-{number}.yaml"
            number += 1
        path.write_text(text, encoding="utf-8")
        return path

    def _write(self, text: str) -> None:
        """Replace faq.yaml atomically (a crash leaves the old or the new file, whole)."""
        target = self.faq_path
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        with suppress(OSError):
            shutil.copymode(target, temporary)
        temporary.replace(target)

    def _prune(self) -> None:
        for old in self.history()[: -self.keep or None]:
            with suppress(OSError):
                old.unlink()


__all__ = [
    "FIELDS",
    "MAX_ANSWER",
    "MAX_QUESTION",
    "Draft",
    "EditError",
    "PackEditor",
    "clean_text",
    "dump_entry",
    "fingerprint",
    "render_file",
    "validate",
]
