"""The FAQ editor: surgical YAML edits, round trips, history, validation and rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.pack_editor import (
    Draft,
    EditError,
    PackEditor,
    dump_entry,
    fingerprint,
    render_file,
    validate,
)
from knowledge.pack import PackError, load_pack
from knowledge.pack.models import FaqEntry
from knowledge.pack.yamldoc import parse_yaml

HEADER = "# Foire aux questions\n# (commentaire d'en-tête)\n\n"
SMALL = (
    HEADER
    + """- id: un
  question: "Première question ?"
  answer: |
    Réponse une.
  tags: [a]

# --- section deux : ce commentaire doit rester ---

- id: deux
  question: Deuxième question
  variants:
    - autre façon   # commentaire dans l'entrée
  answer: Réponse deux.

- id: trois
  question: "Troisième ?"
  answer: |
    Réponse trois.
# fin du fichier
"""
)


class Moment:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "faq.yaml").write_text(SMALL, encoding="utf-8")
    return tmp_path


def _editor(folder: Path, reload: object = None, keep: int = 50) -> PackEditor:
    return PackEditor(folder, reload or (lambda: None), Moment(), keep)  # type: ignore[arg-type]


def _entries(text: str) -> list[FaqEntry]:
    return [FaqEntry.model_validate(item) for item in yaml.safe_load(text)]


def test_an_update_only_rewrites_that_entry(folder: Path) -> None:
    editor = _editor(folder)
    entry = editor.get("deux")
    assert entry is not None
    draft = Draft(
        entry.id, "Deuxième question, revue", "autre façon\nencore une", "Nouvelle\n- liste"
    )
    editor.update("deux", draft, fingerprint(entry))
    text = (folder / "faq.yaml").read_text(encoding="utf-8")
    before_lines, after_lines = SMALL.split("\n"), text.split("\n")
    assert after_lines[:12] == before_lines[:12]  # header, entry one, the section comment
    assert text.endswith(
        '  question: "Troisième ?"\n  answer: |\n    Réponse trois.\n# fin du fichier\n'
    )
    assert (
        '- id: deux\n  question: "Deuxième question, revue"\n  variants:\n'
        '    - "autre façon"\n    - "encore une"\n  answer: |\n    Nouvelle\n    - liste\n'
    ) in text
    assert [e.id for e in _entries(text)] == ["un", "deux", "trois"]


@pytest.mark.parametrize(
    "awkward",
    [
        'guillemets " et \\ barre',
        "deux-points: dièse # et crochets [a, b] {c}",
        "- commence par un tiret",
        "yes",
        "null",
        "0123",
        "« français » œuvre — émoji 🗑️",
        "    espaces au début",
        "<script>alert('x')</script>",
        "%YAML",
        "@arobase `accent grave`",
    ],
)
def test_any_text_round_trips(folder: Path, awkward: str) -> None:
    editor = _editor(folder)
    answer = f"{awkward}\n\nLigne suivante : {awkward}\n- {awkward}"
    draft = Draft(
        "", f"Question {awkward}", f"{awkward}\nvariante", answer, f"{awkward[:20]}, b", ""
    )
    created = editor.create(draft)
    again = editor.get(created.id)
    assert again == created
    assert again.answer == answer.strip() and again.variants[0] == awkward.strip()
    load_pack_entries = _entries((folder / "faq.yaml").read_text(encoding="utf-8"))
    assert load_pack_entries[-1] == created


def test_dumped_entries_are_readable_block_yaml() -> None:
    entry = FaqEntry(
        id="cantine",
        question="Quel est le prix de la cantine ?",
        variants=("tarif cantine",),
        answer="Le repas coûte **3,20 €**.\n- quotient familial",
        tags=("enfance",),
        links=("https://famille.example/tarifs",),
    )
    assert dump_entry(entry) == [
        "- id: cantine",
        '  question: "Quel est le prix de la cantine ?"',
        "  variants:",
        '    - "tarif cantine"',
        "  answer: |",
        "    Le repas coûte **3,20 €**.",
        "    - quotient familial",
        "  tags: [enfance]",
        "  links: ['https://famille.example/tarifs']",
    ]


def test_create_and_delete_keep_the_rest(folder: Path) -> None:
    editor = _editor(folder)
    created = editor.create(Draft("", "Où est la poste ?", "", "Place de l'église."))
    assert created.id == "ou-est-la-poste"
    text = (folder / "faq.yaml").read_text(encoding="utf-8")
    assert text.startswith(SMALL.rstrip("\n"))
    assert text.endswith(
        '\n\n- id: ou-est-la-poste\n  question: "Où est la poste ?"\n'
        "  answer: |\n    Place de l'église.\n"
    )
    second = editor.create(Draft("", "Où est la poste ?", "", "Ailleurs."))
    assert second.id == "ou-est-la-poste-2"
    deux = editor.get("deux")
    assert deux is not None
    editor.delete("deux", fingerprint(deux))
    text = (folder / "faq.yaml").read_text(encoding="utf-8")
    assert "id: deux" not in text and "autre façon" not in text
    assert "# --- section deux : ce commentaire doit rester ---" in text
    assert "\n\n\n" not in text
    assert [e.id for e in _entries(text)] == ["un", "trois", "ou-est-la-poste", "ou-est-la-poste-2"]


def test_history_keeps_the_last_versions(folder: Path) -> None:
    editor = _editor(folder, keep=3)
    versions = []
    for number in range(5):
        versions.append((folder / "faq.yaml").read_text(encoding="utf-8"))
        editor.add_variant("un", f"formulation numéro {number}")
    history = editor.history()
    assert len(history) == 3
    assert [p.read_text(encoding="utf-8") for p in history] == versions[-3:]
    assert all(
        p.parent == folder / ".historique" and p.name.startswith("faq-2026") for p in history
    )


def test_a_failing_reload_restores_the_previous_file(folder: Path) -> None:
    def reload() -> None:
        raise PackError([])

    editor = _editor(folder, reload)
    with pytest.raises(EditError) as raised:
        editor.add_variant("un", "variante refusée")
    assert raised.value.kind == "broken"
    assert (folder / "faq.yaml").read_text(encoding="utf-8") == SMALL
    assert editor.history() == []


def test_validation_messages_name_the_field() -> None:
    with pytest.raises(EditError) as raised:
        validate(
            Draft("Pas Bon", "", "ok\n" + "v" * 301, "", "", "ftp://x.fr\nhttps://ok.fr"),
            taken=set(),
        )
    fields = raised.value.fields
    assert (
        fields["id"]
        == '"Pas Bon" n\'est pas un identifiant valide (minuscules, chiffres et tirets)'
    )
    assert fields["question"] == "ne doit pas être vide"
    assert fields["answer"] == "ne doit pas être vide"
    assert fields["variants"] == "ligne 2 : trop longue (300 caractères au plus)"
    assert fields["links"] == 'lien invalide "ftp://x.fr" (il doit commencer par https://)'
    with pytest.raises(EditError) as raised:
        validate(Draft("", "Q ?", "", "x" * 4_001), taken=set())
    assert raised.value.fields == {"answer": "trop long : 4000 caractères au plus (ici 4001)"}


def test_control_characters_and_line_ends_are_cleaned(folder: Path) -> None:
    editor = _editor(folder)
    entry = editor.create(
        Draft(
            "", "Question\x00 avec\tcontrôle\u2028?", "", "Ligne 1   \r\nLigne 2\u2029Ligne 3\x1b"
        )
    )
    assert entry.question == "Question avec contrôle ?"
    assert entry.answer == "Ligne 1\nLigne 2\nLigne 3"


def test_conflicts_and_missing_entries(folder: Path) -> None:
    editor = _editor(folder)
    entry = editor.get("un")
    assert entry is not None
    old = fingerprint(entry)
    editor.update("un", Draft("un", "Première question ?", "", "Changée."), old)
    with pytest.raises(EditError) as raised:
        editor.update("un", Draft("un", "Première question ?", "", "Écrasée ?"), old)
    assert raised.value.kind == "conflict"
    with pytest.raises(EditError) as raised:
        editor.update("absente", Draft("absente", "Q ?", "", "R."), None)
    assert raised.value.kind == "missing"
    with pytest.raises(EditError) as raised:
        editor.add_variant("un", "PREMIÈRE question ?")
    assert "figure déjà" in raised.value.message


def test_a_flow_style_file_is_rewritten_whole_with_its_header(tmp_path: Path) -> None:
    (tmp_path / "faq.yaml").write_text(
        '# en-tête gardé\n[{id: a, question: "Q ?", answer: "R."}]\n', encoding="utf-8"
    )
    editor = _editor(tmp_path)
    editor.add_variant("a", "autre")
    text = (tmp_path / "faq.yaml").read_text(encoding="utf-8")
    assert text == (
        '# en-tête gardé\n\n- id: a\n  question: "Q ?"\n'
        '  variants:\n    - "autre"\n  answer: |\n    R.\n'
    )


def test_the_example_pack_survives_a_full_rewrite(example_pack: Path) -> None:
    entries = list(load_pack(example_pack).faq)
    text = render_file(entries, ["# en-tête"])
    assert [FaqEntry.model_validate(item) for item in parse_yaml(text).data] == entries
