"""Reads `menus.csv` (semicolon-separated, one row per school day) into `MenuDay`s."""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError

from knowledge.pack.calendar_models import MenuDay
from knowledge.pack.problems import Problem
from knowledge.pack.validation import _message

FILE = "menus.csv"
COLUMNS = ("date", "entree", "plat", "accompagnement", "laitage", "dessert", "labels")


def read_menus(text: str) -> tuple[list[MenuDay], list[Problem]]:
    """Parse the CSV text; every bad row or column is reported with its line number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    header = [name.strip() for name in reader.fieldnames or []]
    problems = [
        Problem(FILE, f'colonne inconnue "{name}" ; colonnes attendues : {", ".join(COLUMNS)}', 1)
        for name in header
        if name not in COLUMNS
    ]
    problems += [
        Problem(FILE, f'colonne "{name}" manquante', 1)
        for name in ("date", "plat")
        if name not in header
    ]
    if problems:
        return [], problems
    days: list[MenuDay] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if not any(values.values()):
            continue
        labels = tuple(part.strip() for part in values.pop("labels", "").split(",") if part.strip())
        try:
            day = MenuDay(labels=labels, **{k: v or None for k, v in values.items()})
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else None
                problems.append(Problem(FILE, _message(error, COLUMNS), line, None, field))
            continue
        key = day.date.isoformat()
        if key in seen:
            problems.append(
                Problem(FILE, f"date {key} déjà donnée ligne {seen[key]}", line, None, "date")
            )
            continue
        seen[key] = line
        days.append(day)
    return sorted(days, key=lambda d: d.date), problems
