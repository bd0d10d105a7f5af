"""The `holidays` package is loaded piecemeal (see knowledge.calendars.holidays._country_class):
the same holidays as the package's own `country_holidays`, without its other calendars."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Printed by a fresh interpreter: each case's holidays, then the `holidays` modules loaded.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    cases = [("FR", None, ()), ("FR", "57", ()), ("FR", "6AE", ()), ("FR", "Zone B", ("school",)),
             ("BE", None, ()), ("MC", None, ()), ("MA", None, ()), ("IN", None, ()),
             ("Germany", "BY", ())]
    if sys.argv[1] == "crieur":
        from knowledge.calendars.holidays import _country_class
        def make(country, **options):
            return _country_class(country)(**options)
    else:
        import holidays
        make = holidays.country_holidays
    found = {}
    for country, subdivision, categories in cases:
        options = {"subdiv": subdivision, "years": range(2025, 2028), "language": "fr"}
        if categories:
            options["categories"] = categories
        table = make(country, **options)
        found[f"{country} {subdivision} {categories}"] = sorted(
            (day.isoformat(), name) for day, name in table.items()
        )
    print(json.dumps(found, ensure_ascii=False))
    """
)

FRENCH_ONLY = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    from knowledge.calendars.holidays import _country_class
    table = _country_class("FR")(subdiv="Zone B", years=2026, categories=("school",))
    assert date(2026, 12, 28) in table
    import holidays
    from holidays.groups import ChristianHolidays
    print(json.dumps({
        "loaded": sorted(m for m in sys.modules if m.startswith("holidays.")),
        "bound": [holidays.groups.ChristianHolidays is ChristianHolidays,
                  holidays.calendars.__name__, holidays.countries.France.__name__],
    }))
    """
)


def _run(script: str, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_holidays_are_those_of_the_whole_package() -> None:
    ours = _run(SCRIPT, "crieur")
    assert ours == _run(SCRIPT, "package")
    assert isinstance(ours, dict) and all(ours.values())


def test_a_french_commune_loads_no_other_calendar() -> None:
    result = _run(FRENCH_ONLY)
    assert isinstance(result, dict)
    loaded = set(result["loaded"])
    assert "holidays.countries.france" in loaded
    assert not {"holidays.calendars.islamic", "holidays.calendars.hindu"} & loaded
    assert not any(
        m.startswith("holidays.countries.") for m in loaded - {"holidays.countries.france"}
    )
    assert not {"holidays.groups.islamic", "holidays.groups.chinese"} & loaded
    assert result["bound"] == [True, "holidays.calendars", "France"]
