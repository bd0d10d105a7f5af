"""A pack's whole check, as `crieur check` runs it: files and fields, then calendars."""

from __future__ import annotations

from pathlib import Path

from knowledge.calendars.collection import CollectionCalendar
from knowledge.pack import PackError, Problem, load_pack


def check_pack(folder: str | Path) -> list[Problem]:
    """Every problem found in the pack in `folder`; empty when it is ready to serve."""
    try:
        pack = load_pack(folder)
    except PackError as exc:
        return list(exc.problems)
    calendar = CollectionCalendar.for_pack(pack)
    if calendar is None:
        return []
    source = pack.source("collecte.yaml")  # the intercommunality's, when inherited
    file = "collecte.yaml" if source == pack.path else str(source / "collecte.yaml")
    return [Problem(file, message) for message in calendar.problems()]
