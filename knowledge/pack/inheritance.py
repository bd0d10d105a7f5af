"""How a pack inherits its parent's files (`inherit:` in `commune.yaml`).

A commune's pack may name the pack of its intercommunality, which may name a syndicate's,
and so on. The loader reads every folder of that chain (`loader._chain`), then folds it
from the farthest parent to the commune with `merge`:

- `faq.yaml`, `services.yaml`, `events.yaml`: merged by id. The pack's own entries come
  first, in their order; a parent's entry follows unless the pack has one with the same
  id, which replaces it (in the pack's position).
- `collecte.yaml`, `menus.csv`: the nearest pack that has the file gives all of it.
- `synonymes.yaml`: the parents' groups, then the pack's own.
- `commune.yaml` is never inherited: name, contact and timezone are the pack's own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Protocol, TypeVar

from knowledge.pack.calendar_models import Collecte, Event, MenuDay, Rule, Service
from knowledge.pack.models import Commune, FaqEntry, SynonymGroup
from knowledge.pack.problems import Problem

INHERIT_FIELD = "inherit"


@dataclass
class Layer:
    """What one folder of an inheritance chain holds; a list or file is None when absent."""

    folder: Path
    label: str  # how problems name the folder: "" for the pack loaded, "../val-de-brume"…
    commune: Commune | None = None
    inherit: str | None = None  # as written in commune.yaml
    inherit_line: int | None = None
    faq: list[FaqEntry] | None = None
    services: list[Service] | None = None
    events: list[Event] | None = None
    synonyms: tuple[SynonymGroup, ...] = ()
    collecte: Collecte | None = None
    menus: list[MenuDay] | None = None
    problems: list[Problem] = field(default_factory=list)

    def file(self, name: str) -> str:
        """How problems name one of this folder's files: "faq.yaml", "../epci/faq.yaml"."""
        return PurePath(self.label, name).as_posix() if self.label else name


def parent_label(child_label: str, inherit: str) -> str:
    """The parent folder as problems name it, relative to the pack loaded when it can be."""
    joined = PurePath(child_label or ".", inherit)  # an absolute `inherit` stays as written
    return PurePath(os.path.normpath(joined)).as_posix()


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Identified)
Sourced = list[tuple[T, int]]  # an item and the index of the layer it comes from


def _by_id(own: Sequence[T], layer: int, inherited: Sourced[T]) -> Sourced[T]:
    """The pack's own items, then the inherited ones whose id it does not use."""
    ids = {item.id for item in own}
    return [(item, layer) for item in own] + [pair for pair in inherited if pair[0].id not in ids]


@dataclass
class Merged:
    """A chain folded into one pack's content, with the layer each piece came from."""

    faq: Sourced[FaqEntry] = field(default_factory=list)
    services: Sourced[Service] = field(default_factory=list)
    events: Sourced[Event] = field(default_factory=list)
    synonyms: tuple[SynonymGroup, ...] = ()
    collecte: tuple[Collecte, int] | None = None
    menus: tuple[list[MenuDay], int] | None = None

    def inherited(self, layers: Sequence[Layer]) -> tuple[tuple[str, Path], ...]:
        """`Pack.inherited`: every piece that comes from a parent, with its folder."""
        found: list[tuple[str, Path]] = []
        for name, items in (
            ("faq.yaml", self.faq),
            ("services.yaml", self.services),
            ("events.yaml", self.events),
        ):
            found += [(f"{name}#{item.id}", layers[at].folder) for item, at in items if at]
        for name, whole in (("collecte.yaml", self.collecte), ("menus.csv", self.menus)):
            if whole is not None and whole[1]:
                found.append((name, layers[whole[1]].folder))
        return tuple(found)


def merge(layers: Sequence[Layer]) -> Merged:
    """Fold the chain (the pack loaded first, its farthest parent last) into one content."""
    merged = Merged()
    for at in reversed(range(len(layers))):
        layer = layers[at]
        merged.faq = _by_id(layer.faq or [], at, merged.faq)
        merged.services = _by_id(layer.services or [], at, merged.services)
        merged.events = _by_id(layer.events or [], at, merged.events)
        merged.synonyms = tuple(dict.fromkeys((*merged.synonyms, *layer.synonyms)))
        if layer.collecte is not None:
            merged.collecte = (layer.collecte, at)
        if layer.menus is not None:
            merged.menus = (layer.menus, at)
    if merged.collecte is not None and merged.collecte[1]:
        collecte, at = merged.collecte
        merged.collecte = (relocate_feeds(collecte, layers[at].folder, layers[0].folder), at)
    return merged


def relocate_feeds(collecte: Collecte, source: Path, pack: Path) -> Collecte:
    """`collecte`, read in the folder `source`, as seen from the folder `pack`.

    A rule's `ical` names a file of the folder its `collecte.yaml` is in, while the
    collection calendar reads feeds relative to `Pack.path`: an inherited calendar's feed
    paths are rewritten to lead to the parent's folder (`../val-de-brume/nord.ics`).
    """
    if not any(rule.ical for zone in collecte.zones for rule in zone.rules.values()):
        return collecte

    def moved(rule: Rule) -> Rule:
        if rule.ical is None:
            return rule
        return rule.model_copy(update={"ical": _relative(source / rule.ical, pack)})

    zones = tuple(
        zone.model_copy(update={"rules": {name: moved(rule) for name, rule in zone.rules.items()}})
        for zone in collecte.zones
    )
    return collecte.model_copy(update={"zones": zones})


def _relative(target: Path, folder: Path) -> str:
    """`target` relative to `folder` (which the system resolves before any ".."), or absolute."""
    try:
        return os.path.relpath(target, folder.resolve())
    except ValueError:  # another drive, on Windows
        return str(target)
