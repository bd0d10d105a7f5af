"""Canteen days (served or why not), dish search, and menus.csv in simple or SCDL format."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from knowledge.calendars.canteen import CanteenCalendar
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.check import check_pack
from knowledge.pack import load_pack
from knowledge.pack.menus_csv import read_menus
from knowledge.pack.models import Commune, Contact
from knowledge.text import fold

SIMPLE = """\
date;entree;plat;accompagnement;laitage;dessert;labels
2026-12-01;Salade de lentilles;Dos de colin au citron;Purée de carottes;Coulommiers;Compote;bio
2026-12-03;Betteraves;Lasagnes aux légumes;Salade verte;Petit-suisse;Clémentines;vegetarien,bio
2026-12-04;Céleri rémoulade;Bœuf bourguignon;Frites;Saint-Paulin;Crème vanille;local
2026-12-08;Taboulé;Omelette;Haricots verts;Emmental;Banane;vegetarien
2026-12-18;Mâche aux noix;Brandade de morue;Salade verte;Carré de l'Est;Mandarine;
2027-01-04;Potage;Blanquette de veau;Carottes Vichy;Yaourt;Pomme;local
2027-01-05;Œuf mayonnaise;Couscous de légumes;Semoule;Cantal;Orange;vegetarien
2027-01-07;Salade de chou;Sauté de porc;Lentilles;Yaourt;Galette des rois;local
2027-01-08;Carottes râpées;Pavé de saumon;Boulgour;Gouda;Compote;bio
"""

SCDL_HEADER = (
    "menuCollNom,menuRestaurantNom,menuDate,menuRepasType,menuPlatType,menuPlatNom,"
    "menuPlatSiqo,menuPlatLabel,menuPlatRegime"
)
SCDL_ROWS = [
    'Brumeval,École,2026-12-01,déjeuner,entrée,Lentilles,"[""agriculture biologique""]",,',
    "Brumeval,École,2026-12-01,déjeuner,plat principal,Dos de colin,,local,",
    "Brumeval,École,2026-12-01,déjeuner,garniture,Purée de carottes,,,",
    "Brumeval,École,2026-12-01,déjeuner,garniture,Riz,,,",
    "Brumeval,École,2026-12-01,déjeuner,produit laitier,Coulommiers,,,",
    "Brumeval,École,2026-12-01,déjeuner,dessert,Compote,,,",
    "Brumeval,École,2026-12-01,goûter,dessert,Gâteau au yaourt,,,",
    "Brumeval,École,2026-12-01,déjeuner,pain,Pain de campagne,,,",
    'Brumeval,École,2026-12-03,déjeuner,plat principal,Lasagnes aux légumes,,,"[""végétarien""]"',
    "Brumeval,École,2026-12-03,déjeuner,dessert,Clémentines,,,",
]


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    commune = Commune(name="Testville", school_zone="B", contact=Contact(fallback="Appelez."))
    return HolidayCalendar(commune, range(2026, 2028))


@pytest.fixture(scope="module")
def canteen(holidays: HolidayCalendar) -> CanteenCalendar:
    menus, problems = read_menus(SIMPLE)
    assert problems == []
    return CanteenCalendar(menus, holidays)


# --- reasons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason", "label"),
    [
        (date(2026, 12, 1), "served", None),
        (date(2026, 12, 5), "weekend", None),
        (date(2026, 12, 6), "weekend", None),
        (date(2026, 12, 2), "wednesday", None),
        (date(2026, 12, 25), "public_holiday", "Noël"),
        (date(2027, 3, 29), "public_holiday", "Lundi de Pâques"),
        (date(2026, 12, 21), "school_holidays", "Vacances de Noël"),
        (date(2026, 12, 31), "school_holidays", "Vacances de Noël"),
        (date(2026, 11, 30), "not_published", None),
        (date(2027, 1, 11), "not_published", None),
        (date(2026, 12, 10), "no_service", None),
        (date(2026, 12, 26), "weekend", "Vacances de Noël"),
    ],
)
def test_canteen_reasons(
    canteen: CanteenCalendar, day: date, reason: str, label: str | None
) -> None:
    result = canteen.day(day)
    assert (result.reason, result.label) == (reason, label)
    assert result.served is (reason == "served")
    assert (result.menu is not None) is (reason == "served")


def test_week_is_monday_to_friday(canteen: CanteenCalendar) -> None:
    week = canteen.week(date(2026, 11, 30))
    assert [d.day for d in week] == [date(2026, 11, 30), *(date(2026, 12, n) for n in range(1, 5))]
    assert [d.reason for d in week] == [
        "not_published", "served", "wednesday", "served", "served",
    ]  # fmt: skip
    assert canteen.week(date(2026, 12, 3))[0].day == date(2026, 11, 30)  # any day of the week


def test_next_served_across_the_christmas_holidays(canteen: CanteenCalendar) -> None:
    following = canteen.next_served(date(2026, 12, 18))
    assert following is not None and following.day == date(2027, 1, 4)
    assert following.menu is not None and following.menu.plat == "Blanquette de veau"
    assert canteen.next_served(date(2027, 1, 8)) is None


def test_no_menus_means_not_published(holidays: HolidayCalendar) -> None:
    canteen = CanteenCalendar([], holidays)
    assert canteen.day(date(2026, 12, 1)).reason == "not_published"
    assert canteen.next_served(date(2026, 12, 1)) is None


# --- search -----------------------------------------------------------------------------------


def test_search_folds_accents_case_and_plurals(canteen: CanteenCalendar) -> None:
    assert [d.day for d in canteen.search("galette")] == [date(2027, 1, 7)]
    assert [d.day for d in canteen.search("GALETTES DES ROIS")] == [date(2027, 1, 7)]
    assert [d.day for d in canteen.search("oeuf")] == [date(2027, 1, 5)]
    assert [d.day for d in canteen.search("frite")] == [date(2026, 12, 4)]
    assert [d.day for d in canteen.search("boeuf")] == [date(2026, 12, 4)]
    assert canteen.search("poire") == [] and canteen.search("") == []


def test_search_any_word_within_a_date_range(canteen: CanteenCalendar) -> None:
    found = canteen.search(["colin", "saumon", "morue"])
    assert [d.day for d in found] == [date(2026, 12, 1), date(2026, 12, 18), date(2027, 1, 8)]
    assert all(d.reason == "served" for d in found)
    january = canteen.search(["colin", "saumon"], start=date(2027, 1, 1), end=date(2027, 1, 31))
    assert [d.day for d in january] == [date(2027, 1, 8)]


def test_search_does_not_span_two_dishes(canteen: CanteenCalendar) -> None:
    assert canteen.search("compote gouda") == []  # separate dishes of 2027-01-08
    assert [d.day for d in canteen.search("pave de saumon")] == [date(2027, 1, 8)]


# --- menus.csv: simple format -----------------------------------------------------------------


def test_simple_format_unchanged() -> None:
    menus, problems = read_menus("\ufeff" + SIMPLE)
    assert problems == [] and len(menus) == 9
    assert menus[1].labels == ("vegetarien", "bio")
    bad = SIMPLE.replace("2026-12-03", "2026-13-45", 1) + SIMPLE.splitlines()[1] + "\n"
    messages = [str(p) for p in read_menus(bad)[1]]
    assert any(m.startswith("menus.csv, ligne 3") and "2026-13-45" in m for m in messages)
    assert any("ligne 11" in m and "déjà donnée ligne 2" in m for m in messages)


# --- menus.csv: SCDL --------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", ";"])
def test_scdl_groups_dishes_by_day(separator: str) -> None:
    text = "\n".join([SCDL_HEADER, *SCDL_ROWS]) + "\n"
    if separator == ";":
        text = text.replace(",", ";")
    menus, problems = read_menus(text)
    assert problems == []
    assert [m.date for m in menus] == [date(2026, 12, 1), date(2026, 12, 3)]
    first = menus[0]
    assert (first.entree, first.plat, first.laitage, first.dessert) == (
        "Lentilles", "Dos de colin", "Coulommiers", "Compote",
    )  # fmt: skip
    assert first.accompagnement == "Purée de carottes, Riz"
    assert first.labels == ("bio", "local")
    assert menus[1].labels == ("vegetarien",) and menus[1].entree is None


def test_scdl_old_column_names_and_french_dates() -> None:
    text = (
        "menuDate;menuTypeRepas;menuTypePlat;menuNomPlat\n"
        "01/12/2026;déjeuner;Plat principal;Poulet rôti\n"
        "01/12/2026;dîner;plat principal;Soupe\n"
        "2026-12-03T00:00:00;déjeuner;plat principal;Omelette\n"
    )
    menus, problems = read_menus(text)
    assert problems == []
    assert [(m.date, m.plat) for m in menus] == [
        (date(2026, 12, 1), "Poulet rôti"),
        (date(2026, 12, 3), "Omelette"),
    ]


def test_scdl_keeps_the_first_restaurant() -> None:
    rows = [
        "Brumeval,École A,2026-12-01,déjeuner,plat principal,Colin,,,",
        "Brumeval,École B,2026-12-01,déjeuner,plat principal,Poulet,,,",
    ]
    menus, problems = read_menus("\n".join([SCDL_HEADER, *rows]) + "\n")
    assert problems == [] and [m.plat for m in menus] == ["Colin"]


def test_scdl_bad_rows_name_line_and_field() -> None:
    rows = [
        "Brumeval,École,2026-12-01,déjeuner,plat principal,Colin,,,",
        "Brumeval,École,2026-13-01,déjeuner,dessert,Compote,,,",
        "Brumeval,École,2026-12-01,déjeuner,boisson,Jus de pomme,,,",
        "Brumeval,École,2026-12-01,déjeuner,dessert,,,,",
        "Brumeval,École,,déjeuner,dessert,Pomme,,,",
        "Brumeval,École,2026-12-04,déjeuner,dessert,Pomme,,,",
    ]
    menus, problems = read_menus("\n".join([SCDL_HEADER, *rows]) + "\n")
    messages = [str(p) for p in problems]
    assert messages == [
        'menus.csv, ligne 3 : champ "menuDate" : date invalide "2026-13-01"'
        " (attendu AAAA-MM-JJ, une date qui existe)",
        'menus.csv, ligne 4 : champ "menuPlatType" : type de plat inconnu "boisson" ;'
        " valeurs possibles : entrée, plat principal, garniture, produit laitier, dessert,"
        " pain, autre",
        'menus.csv, ligne 5 : champ "menuPlatNom" : nom du plat manquant',
        'menus.csv, ligne 6 : champ "menuDate" : date manquante',
        'menus.csv, ligne 7 : champ "menuPlatType" : aucun plat principal le 2026-12-04',
    ]
    assert menus == []  # 2026-12-01 had a bad row: it is reported, not half-read


def test_scdl_missing_column() -> None:
    _, problems = read_menus("menuDate,menuPlatType\n2026-12-01,dessert\n")
    assert [str(p) for p in problems] == [
        'menus.csv, ligne 1 : colonne "menuPlatNom" manquante (format SCDL menus-collectifs)'
    ]


def test_loader_reads_scdl_menus(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "commune.yaml").write_text(
        "name: Testville\ncontact:\n  fallback: Appelez la mairie.\n", encoding="utf-8"
    )
    (folder / "faq.yaml").write_text(
        "- id: cantine\n  question: La cantine ?\n  answer: Voir les menus.\n", encoding="utf-8"
    )
    menus = folder / "menus.csv"
    menus.write_text("\n".join([SCDL_HEADER, *SCDL_ROWS]) + "\n", encoding="utf-8")
    assert [m.plat for m in load_pack(folder).menus] == ["Dos de colin", "Lasagnes aux légumes"]
    bad = SCDL_ROWS[1].replace("2026-12-01", "2026-02-30")
    menus.write_text(f"{SCDL_HEADER}\n{bad}\n", encoding="utf-8")
    assert any('"menuDate"' in str(p) and "2026-02-30" in str(p) for p in check_pack(folder))


# --- the shared Brumeval pack -----------------------------------------------------------------


def test_brumeval_canteen(brumeval_pack: Path) -> None:
    pack = load_pack(brumeval_pack)
    canteen = CanteenCalendar(pack.menus, HolidayCalendar(pack.commune, range(2026, 2028)))
    december_first = canteen.day(date(2026, 12, 1))
    assert december_first.menu is not None and "colin" in fold(december_first.menu.plat)
    assert canteen.day(date(2026, 12, 21)).reason == "school_holidays"
