"""The pack loader accepts valid packs and names file, line, entry and field of every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from knowledge.check import check_pack
from knowledge.pack import PackError, load_pack


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _messages(folder: Path) -> list[str]:
    return [str(problem) for problem in check_pack(folder)]


def test_example_pack_is_complete_and_valid(example_pack: Path) -> None:
    pack = load_pack(example_pack)
    assert len(pack.faq) >= 40
    assert pack.services and pack.events and pack.menus and pack.synonyms
    assert pack.collecte is not None and len(pack.collecte.zones) >= 2
    assert len({entry.id for entry in pack.faq}) == len(pack.faq)


def test_shared_brumeval_pack_is_valid(brumeval_pack: Path) -> None:
    assert check_pack(brumeval_pack) == []


def test_missing_answer_names_file_entry_and_field(pack_copy: Path) -> None:
    faq = pack_copy / "faq.yaml"
    first_id = load_pack(pack_copy).faq[0].id
    _replace(faq, "  answer:", "  reponse:")
    messages = _messages(pack_copy)
    assert any(
        m.startswith("faq.yaml, ligne ")
        and f'entrée 1 (id "{first_id}")' in m
        and 'champ "answer" : manquant' in m
        for m in messages
    ), messages
    assert any('champ "reponse" : clé inconnue' in m for m in messages), messages


def test_duplicate_id_names_both_entries(pack_copy: Path) -> None:
    pack = load_pack(pack_copy)
    first, second = pack.faq[0].id, pack.faq[1].id
    _replace(pack_copy / "faq.yaml", f"- id: {second}\n", f"- id: {first}\n")
    messages = _messages(pack_copy)
    assert any(
        f'entrée 2 (id "{first}")' in m and "déjà utilisé par l'entrée 1" in m for m in messages
    ), messages


def test_impossible_date_is_reported_not_raised(pack_copy: Path) -> None:
    services = pack_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    import re

    match = re.search(r"date: (\d{4}-\d{2}-\d{2})", text)
    assert match
    services.write_text(text.replace(match.group(0), "date: 2027-02-30", 1), encoding="utf-8")
    messages = _messages(pack_copy)
    assert any(
        m.startswith("services.yaml, ligne")
        and 'date invalide "2027-02-30"' in m
        and "closures" in m
        for m in messages
    ), messages


def test_yaml_syntax_error_gives_the_line(pack_copy: Path) -> None:
    (pack_copy / "events.yaml").write_text("- id: a\n  title: [pas fermé\n", encoding="utf-8")
    messages = _messages(pack_copy)
    assert any(m.startswith("events.yaml, ligne") and "YAML invalide" in m for m in messages)


def test_duplicate_yaml_key_is_reported(pack_copy: Path) -> None:
    faq = pack_copy / "faq.yaml"
    _replace(faq, "  question:", "  question: Doublon ?\n  question:")
    assert any('clé "question" écrite deux fois' in m for m in _messages(pack_copy))


def test_file_not_utf8_and_missing_required_file(pack_copy: Path) -> None:
    (pack_copy / "events.yaml").write_bytes("- id: été\n".encode("latin-1"))
    (pack_copy / "commune.yaml").unlink()
    messages = _messages(pack_copy)
    assert any(m.startswith("events.yaml") and "UTF-8" in m for m in messages)
    assert "commune.yaml : fichier manquant (il est obligatoire)" in messages


def test_bad_hours_and_unknown_weekday(pack_copy: Path) -> None:
    services = pack_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    import re

    match = re.search(r"(lundi|mardi|mercredi|jeudi|vendredi): \[\"(\d\d:\d\d)-(\d\d:\d\d)\"", text)
    assert match
    broken = match.group(0).replace(match.group(1), "lundy", 1)
    broken = broken.replace(
        f"{match.group(2)}-{match.group(3)}", f"{match.group(3)}-{match.group(2)}"
    )
    services.write_text(text.replace(match.group(0), broken, 1), encoding="utf-8")
    messages = _messages(pack_copy)
    assert any('"hours > lundy"' in m and "valeurs possibles" in m for m in messages), messages
    assert any("la fin de la plage horaire doit être après son début" in m for m in messages)


def test_collecte_cross_references(pack_copy: Path) -> None:
    pack = load_pack(pack_copy)
    assert pack.collecte is not None
    exception = pack.collecte.exceptions[0]
    collecte = pack_copy / "collecte.yaml"
    text = collecte.read_text(encoding="utf-8")
    zones_line = f"zones: [{', '.join(exception.zones)}]"
    assert zones_line in text
    text = text.replace(zones_line, "zones: [atlantide]", 1)
    first, second = pack.collecte.zones[0], pack.collecte.zones[1]
    text = text.replace(
        f"      - {second.streets[0]}\n",
        f"      - {second.streets[0]}\n      - {first.streets[0]}\n",
        1,
    )
    collecte.write_text(text, encoding="utf-8")
    messages = _messages(pack_copy)
    assert any('aucune zone ne s\'appelle "atlantide"' in m for m in messages), messages
    assert any(f'"{first.streets[0]}" est déjà dans la zone "{first.id}"' in m for m in messages)


def test_menus_csv_rows_are_checked(pack_copy: Path) -> None:
    menus = pack_copy / "menus.csv"
    lines = menus.read_text(encoding="utf-8").splitlines()
    day = lines[1].split(";")[0]
    lines[1] = lines[1].replace(day, "2026-13-45", 1)
    lines.append(lines[2])
    menus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    messages = _messages(pack_copy)
    assert any(m.startswith("menus.csv, ligne 2") and "2026-13-45" in m for m in messages)
    assert any(f"ligne {len(lines)}" in m and "déjà donnée" in m for m in messages)


def test_check_command_exit_codes(
    example_pack: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(example_pack)]) == 0
    assert "Pack valide" in capsys.readouterr().out
    _replace(pack_copy / "faq.yaml", "  answer:", "  answr:")
    assert main(["check", str(pack_copy)]) == 1
    out = capsys.readouterr().out
    assert "faq.yaml" in out and "Traceback" not in out


def test_load_pack_raises_with_every_problem(pack_copy: Path) -> None:
    _replace(pack_copy / "faq.yaml", "  answer:", "  answr:", count=2)
    with pytest.raises(PackError) as raised:
        load_pack(pack_copy)
    assert len([p for p in raised.value.problems if p.field == "answer"]) == 2
