"""Loads and validates a pack folder, reporting every problem with its file, entry and field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge.pack import calendar_models as cal
from knowledge.pack.menus_csv import read_menus
from knowledge.pack.models import Commune, FaqEntry, Pack
from knowledge.pack.problems import PackError, Problem
from knowledge.pack.validation import entry_label, problems_from
from knowledge.pack.yamldoc import YamlDocument, YamlSyntaxError, parse_yaml
from knowledge.text import fold

M = TypeVar("M", bound=BaseModel)

_MODELS: tuple[type[BaseModel], ...] = (
    Commune, FaqEntry, cal.Service, cal.Closure, cal.Collecte, cal.Stream, cal.Zone, cal.Rule,
    cal.CollectionChange, cal.HolidayPolicy, cal.HolidayOverride, cal.Event, cal.Period,
)  # fmt: skip
KNOWN_KEYS = sorted(
    {field.alias or name for model in _MODELS for name, field in model.model_fields.items()}
)


class _Reader:
    """Collects problems while reading the files of one pack folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []

    def text(self, name: str, required: bool) -> str | None:
        path = self.folder / name
        if not path.is_file():
            if required:
                self.problems.append(Problem(name, "fichier manquant (il est obligatoire)"))
            return None
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(
                Problem(name, f"le fichier n'est pas en UTF-8 (octet {exc.start})")
            )
        except OSError as exc:
            self.problems.append(Problem(name, f"lecture impossible ({exc.strerror})"))
        return None

    def yaml(self, name: str, required: bool) -> YamlDocument | None:
        text = self.text(name, required)
        if text is None:
            return None
        try:
            doc = parse_yaml(text)
        except YamlSyntaxError as exc:
            self.problems.append(Problem(name, str(exc), exc.line))
            return None
        for key, line in doc.duplicate_keys:
            self.problems.append(Problem(name, f'clé "{key}" écrite deux fois', line))
        if doc.data is None and required:
            self.problems.append(Problem(name, "le fichier est vide"))
            return None
        return doc

    def model(self, name: str, model: type[M], doc: YamlDocument) -> M | None:
        if not isinstance(doc.data, dict):
            self.problems.append(
                Problem(name, "le fichier doit contenir des clés (clé: valeur)", 1)
            )
            return None
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            self.problems += problems_from(exc, name, doc, doc.data, (), KNOWN_KEYS)
            return None

    def entries(self, name: str, model: type[M], doc: YamlDocument | None) -> list[M]:
        if doc is None or doc.data is None:
            return []
        if not isinstance(doc.data, list):
            self.problems.append(
                Problem(name, "le fichier doit être une liste d'entrées (- id: …)", 1)
            )
            return []
        result = []
        for index, raw in enumerate(doc.data):
            try:
                result.append(model.model_validate(raw))
            except ValidationError as exc:
                self.problems += problems_from(exc, name, doc, doc.data, (index,), KNOWN_KEYS)
        self.unique(name, doc, [(getattr(item, "id", None), item) for item in result])
        return result

    def unique(self, name: str, doc: YamlDocument, items: Sequence[tuple[Any, Any]]) -> None:
        """Report ids used twice in a list file, naming both entries."""
        positions: dict[str, list[int]] = defaultdict(list)
        raw = doc.data if isinstance(doc.data, list) else []
        for index, item in enumerate(raw):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                positions[item["id"]].append(index)
        for ident, where in positions.items():
            for later in where[1:]:
                self.problems.append(
                    Problem(
                        name,
                        f'identifiant "{ident}" déjà utilisé par l\'entrée {where[0] + 1}',
                        doc.line_of((later,)),
                        entry_label(raw[later], later),
                        "id",
                    )
                )


def load_pack(folder: str | Path) -> Pack:
    """Load the pack in `folder`; raise PackError listing every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PackError([Problem(str(folder), "dossier introuvable")])
    reader = _Reader(folder)
    commune_doc = reader.yaml("commune.yaml", required=True)
    commune = reader.model("commune.yaml", Commune, commune_doc) if commune_doc else None
    faq = reader.entries("faq.yaml", FaqEntry, reader.yaml("faq.yaml", required=True))
    services = reader.entries("services.yaml", cal.Service, reader.yaml("services.yaml", False))
    events = reader.entries("events.yaml", cal.Event, reader.yaml("events.yaml", False))
    synonyms = _synonyms(reader, reader.yaml("synonymes.yaml", False))
    collecte_doc = reader.yaml("collecte.yaml", required=False)
    collecte = reader.model("collecte.yaml", cal.Collecte, collecte_doc) if collecte_doc else None
    if collecte is not None and collecte_doc is not None:
        reader.problems += _collecte_problems(collecte, collecte_doc)
    menus_text = reader.text("menus.csv", required=False)
    menus: list[cal.MenuDay] = []
    if menus_text is not None:
        menus, menu_problems = read_menus(menus_text)
        reader.problems += menu_problems
    if commune_doc is not None and commune is None and not reader.problems:
        reader.problems.append(Problem("commune.yaml", "contenu invalide"))
    if not faq and not reader.problems:
        reader.problems.append(Problem("faq.yaml", "aucune entrée"))
    if reader.problems or commune is None:
        raise PackError(reader.problems)
    return Pack(
        path=folder,
        commune=commune,
        faq=tuple(faq),
        synonyms=synonyms,
        services=tuple(services),
        collecte=collecte,
        menus=tuple(menus),
        events=tuple(sorted(events, key=lambda e: e.start)),
    )


def _synonyms(reader: _Reader, doc: YamlDocument | None) -> tuple[tuple[str, ...], ...]:
    if doc is None or doc.data is None:
        return ()
    name = "synonymes.yaml"
    if not isinstance(doc.data, list):
        reader.problems.append(Problem(name, "le fichier doit être une liste de groupes", 1))
        return ()
    groups = []
    for index, group in enumerate(doc.data):
        words = group if isinstance(group, list) else None
        if (
            words is None
            or len(words) < 2
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            reader.problems.append(
                Problem(
                    name,
                    "chaque groupe est une liste d'au moins deux mots, par exemple "
                    "[salle des fêtes, salle polyvalente]",
                    doc.line_of((index,)),
                    f"groupe {index + 1}",
                )
            )
            continue
        groups.append(tuple(w.strip() for w in words))
    return tuple(groups)


def _collecte_problems(collecte: cal.Collecte, doc: YamlDocument) -> list[Problem]:
    """Cross-references that a single entry's validation cannot see."""
    file, raw = "collecte.yaml", doc.data
    problems: list[Problem] = []

    def report(loc: tuple[int | str, ...], message: str, entry: str | None, field: str) -> None:
        problems.append(Problem(file, message, doc.line_of(loc), entry, field))

    zones_raw = raw.get("zones", [])
    zone_ids = {zone.id for zone in collecte.zones}
    places: dict[str, str] = {}
    seen_zones: dict[str, int] = {}
    for index, zone in enumerate(collecte.zones):
        label = "zones : " + entry_label(zones_raw[index], index)
        if zone.id in seen_zones:
            report(
                ("zones", index, "id"),
                f"identifiant déjà utilisé par la zone {seen_zones[zone.id] + 1}",
                label,
                "id",
            )
        seen_zones.setdefault(zone.id, index)
        for stream_id in zone.rules:
            stream = collecte.streams.get(stream_id)
            if stream is None:
                report(
                    ("zones", index, "rules", stream_id),
                    _unknown("aucun flux", stream_id, collecte.streams),
                    label,
                    f"rules > {stream_id}",
                )
            elif stream.mode != "door":
                report(
                    ("zones", index, "rules", stream_id),
                    f'le flux "{stream_id}" n\'est pas collecté en porte-à-porte'
                    f" (mode: {stream.mode})",
                    label,
                    f"rules > {stream_id}",
                )
        for stream_id in zone.drop_off:
            if stream_id not in collecte.streams:
                report(
                    ("zones", index, "drop_off", stream_id),
                    _unknown("aucun flux", stream_id, collecte.streams),
                    label,
                    f"drop_off > {stream_id}",
                )
        for kind in ("streets", "hamlets"):
            for position, place in enumerate(getattr(zone, kind)):
                key = fold(place)
                if key in places and places[key] != zone.id:
                    report(
                        ("zones", index, kind, position),
                        f'"{place}" est déjà dans la zone "{places[key]}"',
                        label,
                        kind,
                    )
                places[key] = zone.id
    exceptions_raw = raw.get("exceptions", [])
    for index, change in enumerate(collecte.exceptions):
        label = "exceptions : " + entry_label(exceptions_raw[index], index)
        for zone_id in change.zones:
            if zone_id not in zone_ids:
                report(
                    ("exceptions", index, "zones"),
                    _unknown("aucune zone", zone_id, zone_ids),
                    label,
                    "zones",
                )
        if change.stream not in collecte.streams:
            report(
                ("exceptions", index, "stream"),
                _unknown("aucun flux", change.stream, collecte.streams),
                label,
                "stream",
            )
    return problems


def _unknown(none_named: str, name: str, known: Iterable[str]) -> str:
    return f'{none_named} ne s\'appelle "{name}" ; existants : {", ".join(sorted(known))}'
