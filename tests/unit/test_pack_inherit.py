"""A commune's pack inherits its intercommunality's (`inherit:` in commune.yaml)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.pack_editor import Draft, PackEditor
from knowledge.calendars.collection import CollectionCalendar
from knowledge.check import check_pack
from knowledge.pack import PackError, load_pack

FALLBACK = "  fallback: Contactez la mairie.\n"


def _commune(folder: Path, name: str, inherit: str | None = None, kind: str = "commune") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = f"name: {name}\nkind: {kind}\n"
    if inherit is not None:
        text += f"inherit: {inherit}\n"
    (folder / "commune.yaml").write_text(text + "contact:\n" + FALLBACK, encoding="utf-8")


def _faq(folder: Path, *entries: tuple[str, str]) -> None:
    text = "".join(
        f"- id: {ident}\n  question: Question {ident} ?\n  answer: {answer}\n"
        for ident, answer in entries
    )
    (folder / "faq.yaml").write_text(text, encoding="utf-8")


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def _collecte(zone: str, rule: str = "{weekday: lundi}") -> str:
    return f"""period: {{from: 2027-01-01, to: 2027-06-30}}
streams:
  ordures: {{name: Ordures ménagères}}
zones:
  - id: {zone}
    name: Zone {zone}
    streets: [rue {zone}]
    rules:
      ordures: {rule}
"""


def _services(*idents: str, name: str = "Lieu") -> str:
    return "".join(
        f'- id: {i}\n  name: {name} {i}\n  hours: {{lundi: ["09:00-12:00"]}}\n' for i in idents
    )


def _events(*items: tuple[str, str]) -> str:
    return "".join(
        f"- id: {i}\n  title: {title}\n  start: 2027-0{n + 1}-10T10:00:00+01:00\n"
        for n, (i, title) in enumerate(items)
    )


MENUS = "date;entree;plat;accompagnement;laitage;dessert;labels\n2027-03-01;;{plat};;;;\n"


@pytest.fixture
def packs(tmp_path: Path) -> tuple[Path, Path]:
    """`packs/morvelay` inheriting `packs/val-de-brume` (an intercommunality)."""
    epci, commune = tmp_path / "packs" / "val-de-brume", tmp_path / "packs" / "morvelay"
    _commune(epci, "Val de Brume", kind="epci")
    _faq(epci, ("dechets", "Réponse de l'interco."), ("encombrants", "Sur rendez-vous."))
    _commune(commune, "Morvelay", inherit="../val-de-brume")
    _faq(commune, ("etat-civil", "À la mairie."), ("dechets", "Réponse de la commune."))
    return commune, epci


def _messages(folder: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    return [str(problem) for problem in caught.value.problems]


# ------------------------------------------------------------------------ merging


def test_commune_entry_overrides_the_parents_by_id_in_the_communes_position(
    packs: tuple[Path, Path],
) -> None:
    commune, epci = packs
    pack = load_pack(commune)
    assert [e.id for e in pack.faq] == ["etat-civil", "dechets", "encombrants"]
    assert pack.faq[1].answer == "Réponse de la commune."
    assert pack.commune.name == "Morvelay"  # commune.yaml is never inherited
    assert pack.path == commune
    assert pack.inherits == (epci.resolve(),)
    assert pack.source("faq.yaml", "encombrants") == epci.resolve()
    assert pack.source("faq.yaml", "dechets") == commune
    assert pack.inherited == (("faq.yaml#encombrants", epci.resolve()),)


def test_parent_files_apply_when_the_commune_has_none(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _write(epci, "collecte.yaml", _collecte("interco"))
    _write(epci, "menus.csv", MENUS.format(plat="Hachis"))
    _write(epci, "services.yaml", _services("decheterie"))
    _write(epci, "events.yaml", _events(("broyage", "Broyage des végétaux")))
    pack = load_pack(commune)
    assert pack.collecte is not None and pack.collecte.zones[0].id == "interco"
    assert [m.plat for m in pack.menus] == ["Hachis"]
    assert [s.id for s in pack.services] == ["decheterie"]
    assert [e.id for e in pack.events] == ["broyage"]
    for name in ("collecte.yaml", "menus.csv"):
        assert pack.source(name) == epci.resolve()
    assert pack.source("services.yaml", "decheterie") == epci.resolve()
    assert check_pack(commune) == []


def test_commune_files_replace_calendars_and_merge_services_and_events_by_id(
    packs: tuple[Path, Path],
) -> None:
    commune, epci = packs
    _write(epci, "collecte.yaml", _collecte("interco"))
    _write(commune, "collecte.yaml", _collecte("bourg"))
    _write(epci, "menus.csv", MENUS.format(plat="Hachis"))
    _write(commune, "menus.csv", MENUS.format(plat="Gratin"))
    _write(epci, "services.yaml", _services("decheterie", "piscine", name="Interco"))
    _write(commune, "services.yaml", _services("mairie", "piscine", name="Commune"))
    _write(epci, "events.yaml", _events(("broyage", "Broyage"), ("fete", "Fête de l'interco")))
    _write(commune, "events.yaml", _events(("fete", "Fête du village")))
    pack = load_pack(commune)
    assert pack.collecte is not None and [z.id for z in pack.collecte.zones] == ["bourg"]
    assert [m.plat for m in pack.menus] == ["Gratin"]
    assert [(s.id, s.name) for s in pack.services] == [
        ("mairie", "Commune mairie"),
        ("piscine", "Commune piscine"),
        ("decheterie", "Interco decheterie"),
    ]
    assert [(e.id, e.title) for e in pack.events] == [  # by date, as always
        ("fete", "Fête du village"),
        ("broyage", "Broyage"),
    ]
    assert pack.source("collecte.yaml") == commune
    assert pack.source("events.yaml", "broyage") == epci.resolve()


def test_synonyms_are_merged(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _write(epci, "synonymes.yaml", "- [déchetterie, déchèterie, recyclerie]\n")
    _write(commune, "synonymes.yaml", "- [la Tuilerie, salle des fêtes]\n")
    pack = load_pack(commune)
    assert pack.synonyms == (
        ("déchetterie", "déchèterie", "recyclerie"),
        ("la Tuilerie", "salle des fêtes"),
    )


def test_chained_inheritance_and_absolute_paths(packs: tuple[Path, Path], tmp_path: Path) -> None:
    commune, epci = packs
    syndicate = tmp_path / "ailleurs" / "syndicat"
    _commune(syndicate, "Syndicat des déchets", kind="epci")  # no faq.yaml: a parent may
    _write(syndicate, "collecte.yaml", _collecte("syndicat"))
    _write(syndicate, "synonymes.yaml", "- [OM, ordures ménagères]\n")
    _commune(epci, "Val de Brume", inherit=str(syndicate), kind="epci")
    pack = load_pack(commune)
    assert pack.inherits == (epci.resolve(), syndicate.resolve())
    assert pack.collecte is not None and pack.collecte.zones[0].id == "syndicat"
    assert pack.source("collecte.yaml") == syndicate.resolve()
    assert pack.synonyms == (("OM", "ordures ménagères"),)
    assert [e.id for e in pack.faq] == ["etat-civil", "dechets", "encombrants"]
    # a problem in the grandparent names its own folder
    _write(syndicate, "collecte.yaml", _collecte("syndicat", "{weekday: lundy}"))
    messages = _messages(commune)
    assert all(m.startswith(f"{syndicate.as_posix()}/collecte.yaml, ligne ") for m in messages)
    assert any(
        m.startswith(f"{syndicate.as_posix()}/collecte.yaml, ligne 9 : ")
        and 'champ "rules > ordures > weekday" : valeur "lundy" inconnue' in m
        for m in messages
    ), messages


def test_inherited_ical_feeds_are_read_in_the_parents_folder(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _write(epci, "collecte.yaml", _collecte("interco", "{ical: feeds/interco.ics}"))
    (epci / "feeds").mkdir()
    _write(
        epci / "feeds",
        "interco.ics",
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//FR\nBEGIN:VEVENT\nUID:a@t\n"
        "DTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20270301\nSUMMARY:OM\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    pack = load_pack(commune)
    calendar = CollectionCalendar.for_pack(pack)
    assert calendar is not None and calendar.problems() == []
    days = calendar.collections("interco", "ordures", date(2027, 3, 1), date(2027, 3, 31))
    assert [c.planned for c in days] == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15)]
    assert check_pack(commune) == []
    link = epci.parent.parent / "lien-vers-morvelay"  # "../val-de-brume" seen from the link
    link.symlink_to(commune, target_is_directory=True)  # is beside the commune's real folder
    assert check_pack(link) == []
    assert load_pack(link).source("collecte.yaml") == epci.resolve()


# ------------------------------------------------------------------- what is required


def test_inheriting_commune_may_have_an_empty_faq_but_the_pack_needs_entries(
    packs: tuple[Path, Path],
) -> None:
    commune, epci = packs
    _write(commune, "faq.yaml", "# Les réponses viennent de l'intercommunalité.\n")
    assert [e.id for e in load_pack(commune).faq] == ["dechets", "encombrants"]
    _write(epci, "faq.yaml", "[]\n")
    assert _messages(commune) == ["faq.yaml : aucune entrée (ni ici, ni dans les packs hérités)"]
    (commune / "faq.yaml").unlink()  # the commune's own faq.yaml stays required (the editor's)
    assert "faq.yaml : fichier manquant (il est obligatoire)" in _messages(commune)


def test_parent_needs_its_own_commune_yaml(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _write(epci, "commune.yaml", "name: Val de Brume\ncontact: {}\ntimezone: Europe/Brume\n")
    messages = _messages(commune)
    assert any(
        m.startswith("../val-de-brume/commune.yaml, ligne 2 : ")
        and 'champ "contact > fallback" : manquant' in m
        for m in messages
    ), messages
    assert any("../val-de-brume/commune.yaml" in m and "Europe/Brume" in m for m in messages)
    (epci / "commune.yaml").unlink()
    assert _messages(commune) == [
        "../val-de-brume/commune.yaml : fichier manquant (il est obligatoire)"
    ]


def test_commune_without_inherit_is_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "seule"
    _commune(folder, "Seule")
    _write(folder, "faq.yaml", "# rien\n")
    assert _messages(folder) == ["faq.yaml : le fichier est vide"]
    _faq(folder, ("a", "b"))
    pack = load_pack(folder)
    assert (pack.inherits, pack.inherited) == ((), ())
    assert pack.source("faq.yaml", "a") == folder


# ----------------------------------------------------------------------- errors


def test_missing_parent_names_commune_yaml_and_the_inherit_field(tmp_path: Path) -> None:
    commune = tmp_path / "morvelay"
    _commune(commune, "Morvelay", inherit="../nulle-part")
    _faq(commune, ("a", "b"))
    messages = _messages(commune)
    assert len(messages) == 1
    assert messages[0].startswith(
        'commune.yaml, ligne 3 : champ "inherit" : dossier introuvable "../nulle-part" '
        "(chemin complet : "
    ), messages
    assert str(tmp_path / "nulle-part") in messages[0]
    _write(tmp_path, "fichier", "")
    _write(commune, "commune.yaml", "name: M\ninherit: ../fichier\ncontact:\n" + FALLBACK)
    assert 'champ "inherit" : n\'est pas un dossier "../fichier"' in _messages(commune)[0]


def test_a_cycle_is_a_clear_error(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _commune(epci, "Val de Brume", inherit="../morvelay", kind="epci")
    assert _messages(commune) == [
        '../val-de-brume/commune.yaml, ligne 3 : champ "inherit" : héritage en boucle : '
        ". → ../val-de-brume → . ; un pack ne peut pas hériter de lui-même, même par un autre"
    ]
    _commune(commune, "Morvelay", inherit=".")
    assert _messages(commune)[0].startswith(
        'commune.yaml, ligne 3 : champ "inherit" : héritage en boucle : . → .'
    )


def test_problems_in_the_parent_name_the_parents_file(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    _write(epci, "faq.yaml", "- id: x\n  question: Sans réponse ?\n")
    _write(commune, "faq.yaml", "- id: a\n  question: Et ici ?\n")
    _write(commune, "commune.yaml", "name: M\ninherit: ../val-de-brume\ncontact: {}\n")
    messages = _messages(commune)
    # the commune's own problems first, then its parent's, although commune.yaml is invalid
    assert messages == [
        'commune.yaml, ligne 3 : champ "contact > fallback" : manquant',
        'faq.yaml, ligne 1 : entrée 1 (id "a") : champ "answer" : manquant',
        '../val-de-brume/faq.yaml, ligne 1 : entrée 1 (id "x") : champ "answer" : manquant',
    ]


def test_unknown_key_suggests_inherit(tmp_path: Path) -> None:
    commune = tmp_path / "m"
    _commune(commune, "M")
    _faq(commune, ("a", "b"))
    _write(commune, "commune.yaml", "name: M\ninherits: ../x\ncontact:\n" + FALLBACK)
    assert _messages(commune) == [
        'commune.yaml, ligne 2 : champ "inherits" : clé inconnue ; vouliez-vous dire "inherit" ?'
    ]


# -------------------------------------------------------------- the command and the editor


def test_check_command_prints_the_parents_problems(
    packs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    commune, epci = packs
    monkeypatch.chdir(commune)
    assert main(["check", "."]) == 0
    assert "Pack valide : Morvelay, 3 entrées de FAQ" in capsys.readouterr().out
    _write(epci, "faq.yaml", "- id: x\n  question: Sans réponse ?\n")
    assert main(["check", "."]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        '../val-de-brume/faq.yaml, ligne 1 : entrée 1 (id "x") : champ "answer" : manquant\n'
    )
    assert "1 problème(s)" in captured.err


def test_editor_changes_only_the_communes_faq(packs: tuple[Path, Path]) -> None:
    commune, epci = packs
    parent_faq = (epci / "faq.yaml").read_text(encoding="utf-8")

    def reload() -> None:
        load_pack(commune)  # raises PackError if the edit broke the pack: the editor undoes it

    editor = PackEditor(commune, reload)
    editor.create(Draft("encombrants", "Encombrants à Morvelay ?", "", "Le 1er lundi.", "", ""))
    pack = load_pack(commune)
    assert [e.id for e in pack.faq] == ["etat-civil", "dechets", "encombrants"]
    assert pack.faq[2].answer == "Le 1er lundi."
    assert pack.source("faq.yaml", "encombrants") == commune
    assert (epci / "faq.yaml").read_text(encoding="utf-8") == parent_faq
