"""Loads and validates a pack folder, reporting every problem with its file, entry and field.

A pack may inherit another pack's files (`inherit:` in `commune.yaml`): every folder of the
chain is read and validated here, then folded by `knowledge.pack.inheritance`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge.pack import calendar_models as cal
from knowledge.pack.inheritance import INHERIT_FIELD, Layer, merge, parent_label
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

    def yaml(self, name: str, required: bool, empty_ok: bool = False) -> YamlDocument | None:
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
        if doc.data is None and required and not empty_ok:
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
    """Load the pack in `folder` and the packs it inherits (`inherit:` in `commune.yaml`);
    raise PackError listing every problem found, in any of them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PackError([Problem(str(folder), "dossier introuvable")])
    layers, problems = _chain(folder)
    top = layers[0]
    if problems or top.commune is None:
        raise PackError(problems)
    merged = merge(layers)
    if not merged.faq:
        where = " (ni ici, ni dans les packs hérités)" if len(layers) > 1 else ""
        raise PackError([Problem("faq.yaml", f"aucune entrée{where}")])
    return Pack(
        path=folder,
        commune=top.commune,
        faq=tuple(entry for entry, _ in merged.faq),
        synonyms=merged.synonyms,
        services=tuple(service for service, _ in merged.services),
        collecte=merged.collecte[0] if merged.collecte else None,
        menus=tuple(merged.menus[0]) if merged.menus else (),
        events=tuple(sorted((event for event, _ in merged.events), key=lambda e: e.start)),
        inherits=tuple(layer.folder for layer in layers[1:]),
        inherited=merged.inherited(layers),
    )


def _chain(folder: Path) -> tuple[list[Layer], list[Problem]]:
    """The pack in `folder`, then its parent, its parent's parent…, and every problem found.

    A parent's problems name its files by its path (`../val-de-brume/faq.yaml`); a missing
    parent folder or a loop is reported on the `inherit` field that leads there.
    """
    layers = [_read_folder(folder, "", top=True)]
    problems = list(layers[0].problems)
    seen = {folder.resolve(): layers[0]}
    while (child := layers[-1]).inherit is not None:
        target = child.folder / child.inherit  # an absolute `inherit` stays as written
        wrong = None
        if not target.is_dir():
            what = "n'est pas un dossier" if target.exists() else "dossier introuvable"
            full = target.resolve()
            wrong = f'{what} "{child.inherit}" (chemin complet : {full})'
        elif (resolved := target.resolve()) in seen:
            loop = [layer.label or "." for layer in layers] + [seen[resolved].label or "."]
            wrong = (
                f"héritage en boucle : {' → '.join(loop)} ; un pack ne peut pas hériter"
                " de lui-même, même par un autre"
            )
        if wrong is not None:
            file = child.file("commune.yaml")
            problems.append(Problem(file, wrong, child.inherit_line, None, INHERIT_FIELD))
            break
        parent = _read_folder(resolved, parent_label(child.label, child.inherit), top=False)
        layers.append(parent)
        seen[resolved] = parent
        problems += parent.problems
    return layers, problems


def _read_folder(folder: Path, label: str, top: bool) -> Layer:
    """Read and validate every file of one folder; a parent (not `top`) may lack faq.yaml."""
    reader = _Reader(folder)
    layer = Layer(folder, label)
    commune_doc = reader.yaml("commune.yaml", required=True)
    layer.commune = reader.model("commune.yaml", Commune, commune_doc) if commune_doc else None
    if commune_doc is not None:
        layer.inherit, layer.inherit_line = _inherit(commune_doc, layer.commune)
    faq_doc = reader.yaml("faq.yaml", required=top, empty_ok=layer.inherit is not None)
    if faq_doc is not None:
        layer.faq = reader.entries("faq.yaml", FaqEntry, faq_doc)
    if (services := reader.yaml("services.yaml", required=False)) is not None:
        layer.services = reader.entries("services.yaml", cal.Service, services)
    if (events := reader.yaml("events.yaml", required=False)) is not None:
        layer.events = reader.entries("events.yaml", cal.Event, events)
    layer.synonyms = _synonyms(reader, reader.yaml("synonymes.yaml", False))
    collecte_doc = reader.yaml("collecte.yaml", required=False)
    collecte = reader.model("collecte.yaml", cal.Collecte, collecte_doc) if collecte_doc else None
    if collecte is not None and collecte_doc is not None:
        reader.problems += _collecte_problems(collecte, collecte_doc)
    layer.collecte = collecte
    menus_text = reader.text("menus.csv", required=False)
    if menus_text is not None:
        menus, menu_problems = read_menus(menus_text)
        reader.problems += menu_problems
        layer.menus = menus
    if commune_doc is not None and layer.commune is None and not reader.problems:
        reader.problems.append(Problem("commune.yaml", "contenu invalide"))
    layer.problems = [
        replace(problem, file=layer.file(problem.file)) if label else problem
        for problem in reader.problems
    ]
    return layer


def _inherit(doc: YamlDocument, commune: Commune | None) -> tuple[str | None, int | None]:
    """The `inherit` of commune.yaml and its line; read from the raw file when the rest of
    commune.yaml is invalid, so that the parent's problems are reported all the same."""
    if commune is not None:
        value = commune.inherit
    else:
        raw = doc.data.get(INHERIT_FIELD) if isinstance(doc.data, dict) else None
        value = raw.strip() if isinstance(raw, str) and raw.strip() else None
    if value is None:
        return None, None
    return value, doc.line_of((INHERIT_FIELD,))


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
