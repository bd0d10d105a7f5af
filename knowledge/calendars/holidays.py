"""Public and school holidays, from the `holidays` package (no hand-written list).

The pack's `commune.yaml` names the country and subdivision ("57", "67", "68" add the
Alsace-Moselle days). School holidays follow the commune's school zone (A, B or C), given
in `commune.yaml` or deduced from the département of its postcode.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
import threading
import types
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.pack.models import Commune

# Académies by zone (calendrier scolaire national); Corsica and overseas have their own.
_ZONES = {
    "A": "01 03 07 15 16 17 19 21 23 24 25 26 33 38 39 40 42 43 47 58 63 64 69 70 71 73 74 79"
    " 86 87 89 90",
    "B": "02 04 05 06 08 10 13 14 18 22 27 28 29 35 36 37 41 44 45 49 50 51 52 53 54 55 56 57"
    " 59 60 61 62 67 68 72 76 80 83 84 85 88",
    "C": "09 11 12 30 31 32 34 46 48 65 66 75 77 78 81 82 91 92 93 94 95",
}
ZONE_OF_DEPARTEMENT = {dep: zone for zone, deps in _ZONES.items() for dep in deps.split()}
_ALSACE_MOSELLE = {"57": "57", "67": "6AE", "68": "6AE"}


def _country_class(country: str) -> Any:
    """The `holidays` class of one country, imported alone.

    `holidays.country_holidays` imports the package's `countries` folder, whose `__init__`
    imports all 250 countries (about 6 MB of memory for nothing), and the package's own
    `__init__` imports every calendar of its `calendars` and `groups` folders (Islamic,
    Hindu, Chinese… about 2 MB more). Those folders are set up unexecuted first (see
    `_holidays_package`), so that only the modules the commune's country needs are loaded;
    any surprise falls back to the package's own path.
    """
    holidays_lib = _holidays_package()
    from holidays.registry import COUNTRIES

    for module_name, (class_name, *codes) in COUNTRIES.items():
        if country in codes or country == class_name:
            try:
                module = importlib.import_module(f"holidays.countries.{module_name}")
                return getattr(module, class_name)
            except (ImportError, AttributeError):
                break
    return lambda **kwargs: holidays_lib.country_holidays(country, **kwargs)


_EAGER_FOLDERS = ("countries", "calendars", "groups")  # of `holidays`: see _country_class
_SETUP = threading.Lock()  # packs may be loaded in threads (several communes at once)


def _holidays_package() -> types.ModuleType:
    """The `holidays` package, its eager folders registered first as packages whose
    `__init__` is not run: a module inside loads when imported, and a name the `__init__`
    would have imported (`from holidays.groups import ChristianHolidays`) loads its own
    module when asked for. A folder already imported (the package loaded elsewhere first)
    is left as it is.
    """
    with _SETUP:
        lazy: dict[str, types.ModuleType] = {}
        found = importlib.util.find_spec("holidays")  # a top-level name: nothing is imported
        if found is not None and found.submodule_search_locations:
            root = Path(next(iter(found.submodule_search_locations)))
            for folder in _EAGER_FOLDERS:
                name = f"holidays.{folder}"
                init = root / folder / "__init__.py"
                if name in sys.modules or not init.is_file():
                    continue
                spec = importlib.util.spec_from_file_location(
                    name, init, submodule_search_locations=[str(init.parent)]
                )
                if spec is not None:
                    package = importlib.util.module_from_spec(spec)
                    package.__getattr__ = _names_imported_by(name, init)  # type: ignore[method-assign]
                    sys.modules[name] = lazy[folder] = package
        # Imported here, not at the top: the folders must be set up before the package loads.
        import holidays

        for folder, package in lazy.items():  # bound as the package's own imports bind them
            setattr(holidays, folder, package)
        return holidays


def _names_imported_by(package: str, init: Path) -> Callable[[str], Any]:
    """A module `__getattr__` giving the names that `init` imports from the package's own
    modules (`from holidays.groups.christian import ChristianHolidays`), each loaded with
    its module at first use; the `__init__` itself is read, never run."""
    origins: dict[str, str] = {}
    for node in ast.parse(init.read_bytes()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            module = f"{package}.{node.module}" if node.level == 1 else node.module
            if module.startswith(f"{package}."):
                for alias in node.names:
                    origins[alias.asname or alias.name] = module

    def __getattr__(name: str) -> Any:  # noqa: N807 (PEP 562)
        if name not in origins:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(origins[name]), name)

    return __getattr__


def school_zone(commune: Commune) -> str | None:
    """The commune's school zone: declared, or deduced from its postcode's département."""
    if commune.school_zone:
        return commune.school_zone
    match = re.search(r"\b(\d{2})\d{3}\b", commune.contact.address or "")
    return ZONE_OF_DEPARTEMENT.get(match.group(1)) if match else None


class HolidayCalendar:
    """Named public holidays and school holidays of one commune, in French.

    Years are computed on first use and kept (a pack snapshot lives for hours or days).
    """

    def __init__(self, commune: Commune, years: range | None = None) -> None:
        self._commune = commune
        self._public: dict[int, dict[date, str]] = {}
        self._school: dict[int, dict[date, str]] = {}
        for year in years or ():
            self._public_year(year)

    def _public_year(self, year: int) -> dict[date, str]:
        if year not in self._public:
            country = self._commune.holidays.country
            subdivision = self._commune.holidays.subdivision
            if country == "FR":
                subdivision = _ALSACE_MOSELLE.get(subdivision or "", subdivision)
            table = _country_class(country)(subdiv=subdivision, years=year, language="fr")
            self._public[year] = {day: _french_name(name) for day, name in table.items()}
        return self._public[year]

    def _school_year(self, year: int) -> dict[date, str]:
        if year not in self._school:
            zone = school_zone(self._commune)
            table: dict[date, str] = {}
            if self._commune.holidays.country == "FR" and zone is not None:
                found = _country_class("FR")(
                    subdiv=f"Zone {zone}", years=year, categories=("school",), language="fr"
                )
                table = dict(found.items())
            self._school[year] = table
        return self._school[year]

    def public_holiday(self, day: date) -> str | None:
        """The French name of the public holiday on `day` ("Noël"), or None."""
        return self._public_year(day.year).get(day)

    def public_holidays(self, years: range | None = None) -> dict[date, str]:
        """Every public holiday of `years` (by default, the years already looked at)."""
        for year in years or ():
            self._public_year(year)
        return {day: name for table in self._public.values() for day, name in table.items()}

    def school_holiday(self, day: date) -> str | None:
        """The name of the school holidays covering `day` ("Vacances de Noël"), or None."""
        return self._school_year(day.year).get(day)


def _french_name(name: str) -> str:
    # The package joins two holidays on one day with "; " (rare in France).
    return name.split(";")[0].strip()
