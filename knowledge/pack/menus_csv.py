"""Reads `menus.csv` into `MenuDay`s, in either of two formats recognised by the header.

- The pack's simple format: semicolon-separated, one row per school day,
  `date;entree;plat;accompagnement;laitage;dessert;labels`.
- The national open-data schema SCDL "menus-collectifs" (schema.data.gouv.fr), comma- or
  semicolon-separated, one row per dish: `menuDate`, `menuRepasType`, `menuPlatType`,
  `menuPlatNom`… (version 1.x names; the 0.x names `menuTypeRepas`, `menuTypePlat`,
  `menuNomPlat`… are accepted too). Rows are grouped by date, lunch only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from knowledge.pack.calendar_models import MenuDay
from knowledge.pack.problems import Problem
from knowledge.pack.validation import _message
from knowledge.text import fold

FILE = "menus.csv"
COLUMNS = ("date", "entree", "plat", "accompagnement", "laitage", "dessert", "labels")


def read_menus(text: str) -> tuple[list[MenuDay], list[Problem]]:
    """Parse the CSV text; every bad row or column is reported with its line number."""
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in header_line else ","
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    if any(_key(name) in _SCDL_MARKERS for name in header):
        return _read_scdl(text, delimiter)
    return _read_simple(text)


# --- the pack's simple format -------------------------------------------------------------


def _read_simple(text: str) -> tuple[list[MenuDay], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
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


# --- SCDL "menus-collectifs" --------------------------------------------------------------

# Accepted column names (folded, without spaces, dashes nor underscores) for each role.
_SCDL_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("menudate", "datemenu"),
    "meal": ("menurepastype", "menutyperepas", "repastype", "typerepas"),
    "type": ("menuplattype", "menutypeplat", "plattype", "typeplat"),
    "name": ("menuplatnom", "menunomplat", "platnom", "nomplat"),
    "site": ("menurestaurantnom", "restaurantnom", "menurepassite", "menusite"),
    "labels": (
        "menuplatlabel", "menuplatlabels", "menulabelplat", "menuplatsiqo", "menusiqoplat",
    ),
    "regime": ("menuplatregime", "menuregimeplat"),  # read on the main dish only
}  # fmt: skip
_SCDL_MARKERS = frozenset(
    name for role in ("date", "type", "name") for name in _SCDL_NAMES[role] if "menu" in name
)
_SCDL_REQUIRED = {"date": "menuDate", "type": "menuPlatType", "name": "menuPlatNom"}
# menuPlatType values (folded) -> MenuDay field; None: a known type the bot does not show.
_DISH_TYPES: dict[str, str | None] = {
    "entree": "entree", "hors d'oeuvre": "entree", "hors-d'oeuvre": "entree",
    "plat principal": "plat", "plat": "plat", "plat protidique": "plat",
    "garniture": "accompagnement", "accompagnement": "accompagnement", "legume": "accompagnement",
    "produit laitier": "laitage", "laitage": "laitage", "fromage": "laitage",
    "dessert": "dessert",
    "pain": None, "autre": None, "collation matinale": None, "gouter": None,
}  # fmt: skip
_DISH_TYPE_NAMES = "entrée, plat principal, garniture, produit laitier, dessert, pain, autre"
_LABELS = {
    "agriculture biologique": "bio", "biologique": "bio", "bio": "bio", "ab": "bio",
    "vegetarien": "vegetarien", "vegetarienne": "vegetarien", "vegetarian": "vegetarien",
    "local": "local", "produit local": "local", "locale": "local", "circuit court": "local",
}  # fmt: skip
_SLOTS = ("entree", "plat", "accompagnement", "laitage", "dessert")


@dataclass
class _Day:
    """The dishes of one date gathered from several SCDL rows."""

    line: int
    dishes: dict[str, list[str]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    broken: bool = False  # a row of that date was reported: do not report the day again

    def add(self, slot: str, name: str, labels: Iterable[str]) -> None:
        names = self.dishes.setdefault(slot, [])
        if name not in names:
            names.append(name)
        self.labels += [label for label in labels if label not in self.labels]


@dataclass(frozen=True)
class _Columns:
    """The SCDL columns of the file, as written in its header."""

    roles: dict[str, str]  # role ("date", "type", "name", "meal", "site") -> column
    labels: tuple[str, ...]  # every column holding labels (SIQO, label, regime)

    @property
    def regimes(self) -> tuple[str, ...]:
        return tuple(c for c in self.labels if _key(c) in _SCDL_NAMES["regime"])

    @classmethod
    def of(cls, header: Iterable[str]) -> _Columns:
        roles: dict[str, str] = {}
        labels: list[str] = []
        for name in header:
            key = _key(name)
            if key in _SCDL_NAMES["labels"] or key in _SCDL_NAMES["regime"]:
                labels.append(name)
            role = next((r for r, names in _SCDL_NAMES.items() if key in names), None)
            if role is not None and role not in ("labels", "regime"):
                roles.setdefault(role, name)
        return cls(roles, tuple(labels))

    def value(self, row: dict[str, str], role: str) -> str:
        column = self.roles.get(role)
        return row.get(column, "") if column else ""

    def is_lunch(self, row: dict[str, str]) -> bool:
        """Lunch rows only, when the file says which meal ("déjeuner"); empty means lunch."""
        return fold(self.value(row, "meal")) in ("", "dejeuner")


def _read_scdl(text: str, delimiter: str) -> tuple[list[MenuDay], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = _Columns.of(reader.fieldnames or [])
    missing = [name for role, name in _SCDL_REQUIRED.items() if role not in columns.roles]
    if missing:
        return [], [
            Problem(FILE, f'colonne "{name}" manquante (format SCDL menus-collectifs)', 1)
            for name in missing
        ]
    days: dict[str, _Day] = {}
    problems: list[Problem] = []
    site: str | None = None
    for raw in reader:
        row = {key: (value or "").strip() for key, value in raw.items() if key}
        if not any(row.values()) or not columns.is_lunch(row):
            continue
        where = columns.value(row, "site")
        site = site or where or None
        if where and where != site:
            continue  # several restaurants: the first one named in the file is kept
        problems += _scdl_row(row, columns, reader.line_num, days)
    menus: list[MenuDay] = []
    for key, day in sorted(days.items()):
        menu = _menu_day(key, day, columns.roles["type"])
        if menu is None:
            continue
        if isinstance(menu, Problem):
            problems.append(menu)
        else:
            menus.append(menu)
    return menus, problems


def _scdl_row(
    row: dict[str, str], columns: _Columns, line: int, days: dict[str, _Day]
) -> list[Problem]:
    """Add one dish row to `days`, or return what is wrong with it."""
    problems: list[Problem] = []
    raw_date, raw_type, name = (columns.value(row, role) for role in ("date", "type", "name"))
    when = _iso_date(raw_date)
    if when is None:
        message = f'date invalide "{raw_date}" (attendu AAAA-MM-JJ, une date qui existe)'
        problems.append(_problem(message if raw_date else "date manquante", line, columns, "date"))
    kind = fold(raw_type)
    if kind not in _DISH_TYPES:
        message = f'type de plat inconnu "{raw_type}" ; valeurs possibles : {_DISH_TYPE_NAMES}'
        problems.append(
            _problem(message if kind else "type de plat manquant", line, columns, "type")
        )
    if not name:
        problems.append(_problem("nom du plat manquant", line, columns, "name"))
    slot = _DISH_TYPES.get(kind)
    if when is not None and problems:
        days.setdefault(when, _Day(line)).broken = True
    if problems or when is None or slot is None:
        return problems
    # A diet ("végétarien") describes the day only when said of its main dish.
    read = [c for c in columns.labels if slot == "plat" or c not in columns.regimes]
    labels = _labels(row.get(column, "") for column in read)
    days.setdefault(when, _Day(line)).add(slot, name, labels)
    return []


def _problem(message: str, line: int, columns: _Columns, role: str) -> Problem:
    return Problem(FILE, message, line, None, columns.roles[role])


def _menu_day(key: str, day: _Day, type_column: str) -> MenuDay | Problem | None:
    if "plat" not in day.dishes and not day.broken:
        return Problem(FILE, f"aucun plat principal le {key}", day.line, None, type_column)
    if day.broken:
        return None
    dishes = {slot: ", ".join(day.dishes[slot]) for slot in _SLOTS if slot in day.dishes}
    try:
        return MenuDay(date=dt.date.fromisoformat(key), labels=tuple(day.labels), **dishes)
    except ValidationError as exc:
        return Problem(FILE, _message(exc.errors()[0], COLUMNS), day.line, None, type_column)


_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


def _iso_date(raw: str) -> str | None:
    """ "2026-12-01", "2026-12-01T00:00:00" or "01/12/2026" -> "2026-12-01"; else None."""
    ymd, dmy = _YMD.match(raw), _DMY.match(raw)
    parts = ymd.groups() if ymd else (dmy.group(3), dmy.group(2), dmy.group(1)) if dmy else None
    if parts is None:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        return None


def _labels(raw_values: Iterable[str]) -> list[str]:
    """SCDL lists ('["agriculture biologique","label rouge"]' or 'a;b') -> pack labels."""
    labels: list[str] = []
    for raw in raw_values:
        for part in re.split(r'[;,\[\]"]', raw):
            part = part.strip(" '")
            label = _LABELS.get(fold(part), part)
            if part and label not in labels:
                labels.append(label)
    return labels


def _key(column: str) -> str:
    return re.sub(r"[\s_\-]", "", fold(column))
