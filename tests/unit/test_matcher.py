"""The matcher finds the right entry despite typos, missing accents and SMS spelling,
and declines questions the pack does not answer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from knowledge.snapshot import ANSWER_THRESHOLD, Knowledge

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
FAQ = [
    {
        "id": "carte-identite",
        "question": "Comment faire ou renouveler ma carte d'identité ?",
        "variants": ["Refaire sa CNI", "Pièces à fournir pour une carte d'identité"],
        "answer": "Prenez rendez-vous en mairie après une pré-demande sur le site de l'ANTS.",
        "tags": ["identite"],
    },
    {
        "id": "passeport",
        "question": "Comment obtenir un passeport ?",
        "variants": ["Prix d'un passeport", "Passeport pour un enfant"],
        "answer": "Timbre fiscal, photo, pré-demande puis rendez-vous en mairie.",
    },
    {
        "id": "decheterie",
        "question": "Quels sont les horaires de la déchetterie ?",
        "variants": ["Déchets acceptés à la déchetterie"],
        "answer": "La déchetterie ouvre le mercredi et le samedi. Gravats et encombrants acceptés.",
    },
    {
        "id": "permis-construire",
        "question": "Faut-il un permis de construire pour agrandir ma maison ?",
        "variants": ["Extension de maison", "Dépôt d'un permis de construire"],
        "answer": "Au-delà de 20 m², un permis de construire est nécessaire ; dossier en mairie.",
    },
    {
        "id": "salle",
        "question": "Comment louer la salle des fêtes ?",
        "variants": ["Réserver la salle polyvalente"],
        "answer": "Réservation à l'accueil de la mairie, caution de 300 €.",
    },
]


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    folder: Path = tmp_path_factory.mktemp("pack")
    (folder / "commune.yaml").write_text(
        "name: Testville\ncontact:\n  fallback: Contactez la mairie au 01 00 00 00 00.\n",
        encoding="utf-8",
    )
    (folder / "faq.yaml").write_text(yaml.safe_dump(FAQ, allow_unicode=True), encoding="utf-8")
    (folder / "synonymes.yaml").write_text("- [salle des fêtes, la Grange]\n", encoding="utf-8")
    return Knowledge.load(folder)


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Comment renouveler ma carte d'identité ?", "carte-identite"),
        ("ma carte d'identite est perimee je la refais comment", "carte-identite"),
        ("refaire ma cni svp", "carte-identite"),
        ("combien coute un passport", "passeport"),
        ("horaires dechetterie", "decheterie"),
        ("la décheterie est ouverte quand ?", "decheterie"),
        ("je veux agrandir ma maison, il faut un permis ?", "permis-construire"),
        ("on peut louer la Grange pour un anniversaire ?", "salle"),
    ],
)
def test_answers_residents_wording(knowledge: Knowledge, question: str, entry: str) -> None:
    reply = knowledge.answer(question, NOW)
    assert reply.source == entry, (question, reply.score)
    assert reply.score >= ANSWER_THRESHOLD


@pytest.mark.parametrize(
    "question",
    [
        "Comment renouveler mon permis de conduire ?",
        "Quelle est la capitale de l'Australie ?",
        "Donne-moi une recette de crêpes",
        "Comment obtenir la carte européenne d'assurance maladie ?",
        "Quel temps fera-t-il ce week-end ?",
    ],
)
def test_declines_what_the_pack_does_not_say(knowledge: Knowledge, question: str) -> None:
    reply = knowledge.answer(question, NOW)
    assert reply.source is None, (question, reply.score)
    assert reply.text.startswith(knowledge.fallback)


def test_fallback_offers_close_entries(knowledge: Knowledge) -> None:
    reply = knowledge.answer("papiers pour mon enfant", NOW)
    if reply.source is None:
        ids = {e["id"] for e in FAQ}
        assert all(s.payload.removeprefix("faq:") in ids for s in reply.suggestions)


def test_tapped_suggestion_gives_the_entry(knowledge: Knowledge) -> None:
    reply = knowledge.entry("passeport")
    assert reply is not None and reply.source == "passeport"
    assert knowledge.entry("inconnue") is None


def test_a_street_named_in_the_question_does_not_hide_the_subject(
    example_knowledge: Knowledge,
) -> None:
    question = "un lampadaire en panne rue du Moulin-Neuf"
    places = tuple(example_knowledge.dated.streets.find(question))
    assert [place.name for place in places] == ["rue du Moulin-Neuf"]
    terms = example_knowledge.matcher.query_terms(question)
    kept = example_knowledge._without_places(terms, places)
    assert "moulin" not in kept and "neuf" not in kept and "ru" not in kept
    assert kept.keys() < terms.keys() and any("lampadair" in term for term in kept)
    hall = "louer la Tuilerie"  # a place that is also the village hall's name stays
    hall_terms = example_knowledge.matcher.query_terms(hall)
    hall_places = tuple(example_knowledge.dated.streets.find(hall))
    assert example_knowledge._without_places(hall_terms, hall_places) == hall_terms
