"""Public and school holidays, from the `holidays` package (no hand-written list).

The pack's `commune.yaml` names the country and subdivision ("57", "67", "68" add the
Alsace-Moselle days). School holidays follow the commune's school zone (A, B or C), given
in `commune.yaml` or deduced from the département of its postcode.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from datetime import date
from typing import Any

import holidays as holidays_lib
from holidays.registry import COUNTRIES

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
    imports all 250 countries (about 6 MB of memory for nothing). The folder is registered as
    a bare namespace instead, so that only the commune's country module is loaded; any
    surprise falls back to the package's own path.
    """
    for module_name, (class_name, *codes) in COUNTRIES.items():
        if country in codes or country == class_name:
            try:
                if "holidays.countries" not in sys.modules:
                    spec = importlib.util.find_spec("holidays.countries")
                    assert spec is not None and spec.submodule_search_locations is not None
                    package = types.ModuleType("holidays.countries")
                    package.__path__ = list(spec.submodule_search_locations)
                    package.__spec__ = spec
                    sys.modules["holidays.countries"] = package
                module = importlib.import_module(f"holidays.countries.{module_name}")
                return getattr(module, class_name)
            except (ImportError, AssertionError, AttributeError):
                break
    return lambda **kwargs: holidays_lib.country_holidays(country, **kwargs)


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
