"""The matcher finds the right entry despite typos, missing accents and SMS spelling,
and declines questions the pack does not answer."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from knowledge.matcher import (
    AMBIGUITY_FROM,
    AMBIGUITY_PENALTY,
    BODY_WEIGHT,
    CANDIDATES,
    CLEAR_CREDIT,
    CLEAR_LEAD,
    CLEAR_UNKNOWN,
    FOCUS_WEIGHT,
    LENGTH_CREDIT,
    LONG_QUESTION_TERMS,
    MAX_LENGTH_CREDIT,
    PASSAGE_WEIGHT,
    TOPIC_WEIGHT,
    UNKNOWN_IDF_SHARE,
    UNKNOWN_LONG_FLOOR,
    WEAK_IDF_SHARE,
    FaqMatcher,
    Match,
)
from knowledge.snapshot import ANSWER_THRESHOLD, Knowledge
from knowledge.text import words

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
    {
        "id": "accessibilite",
        "question": "La mairie est-elle accessible en fauteuil roulant ?",
        "variants": ["Accès PMR de l'hôtel de ville", "Place handicapé près de la mairie"],
        "answer": "Une rampe mène à l'accueil, de plain-pied.",
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
        # "hôtel" is a topic (a business) that "hôtel de ville" does not name
        "Y a-t-il un hôtel près de la gare ?",
        "Où renouveler mon titre de séjour ?",  # the préfecture's
    ],
)
def test_declines_what_the_pack_does_not_say(knowledge: Knowledge, question: str) -> None:
    reply = knowledge.answer(question, NOW)
    assert reply.source is None, (question, reply.score)
    assert reply.text.startswith(knowledge.fallback)


def test_an_entry_only_its_answer_relates_to_is_a_suggestion(knowledge: Knowledge) -> None:
    # "encombrants" is in the answer about the déchetterie, in none of its questions.
    matches = knowledge.matcher.search("et des encombrants ?")
    assert matches[0].entry.id == "decheterie" and matches[0].score < ANSWER_THRESHOLD
    reply = knowledge.answer("et des encombrants ?", NOW)
    assert reply.source is None and reply.suggestions


def test_a_question_of_weak_words_only_is_not_answered(example_knowledge: Knowledge) -> None:
    # "temps" (time, weather) is in a question of the pack, but names no subject.
    assert example_knowledge.matcher.search("quel temps fera-t-il demain ?")
    assert example_knowledge.answer("quel temps fera-t-il demain ?", NOW).source is None


def test_numbers_and_hours_qualify_a_question_like_weak_words(
    example_knowledge: Knowledge,
) -> None:
    matcher = example_knowledge.matcher
    unknown = UNKNOWN_IDF_SHARE * matcher._max_idf
    weights = matcher._weights({"18h": 1.0, "8h30": 1.0, "85": 1.0, "cantin": 1.0})
    for term in ("18h", "8h30", "85"):
        assert weights[term] == matcher._idf.get(term, unknown) * WEAK_IDF_SHARE, term
    assert weights["cantin"] == matcher._idf["cantin"]


def test_a_long_question_gets_back_what_its_circumstances_took(
    example_knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who, where and since when are words no entry says: past a few terms, each gives
    back a little confidence, within a bound; a short question gets none."""
    matcher = example_knowledge.matcher
    short = matcher.query_terms("inscrire mon enfant à la cantine")
    long = matcher.query_terms(
        "Bonjour, nous arrivons de Lyon en mars avec nos deux garçons de six et huit ans "
        "et ma compagne travaille tôt : comment inscrire notre aîné à la cantine ?"
    )
    assert len(short) <= LONG_QUESTION_TERMS < len(long)
    with_credit = [matcher.search_terms(t)[0].score for t in (short, long)]
    monkeypatch.setattr("knowledge.matcher.LENGTH_CREDIT", 0.0)
    without = [matcher.search_terms(t)[0].score for t in (short, long)]
    assert with_credit[0] == without[0]
    expected = min(LENGTH_CREDIT * (len(long) - LONG_QUESTION_TERMS), MAX_LENGTH_CREDIT)
    assert with_credit[1] == pytest.approx(without[1] + expected, abs=1e-4)


def test_words_the_pack_never_uses_weigh_less_in_a_long_question(
    example_knowledge: Knowledge,
) -> None:
    """In a short question a word the pack never uses is likely the subject ("permis de
    conduire"); in a long story more likely a circumstance: a town, a relative, a detail."""
    matcher = example_knowledge.matcher
    known = matcher.query_terms("permis")
    short = {"zorglub": 1.0} | known
    long = {f"inconnu{n}": 1.0 for n in range(LONG_QUESTION_TERMS + 3)} | short
    in_short, in_long = matcher._weights(short)["zorglub"], matcher._weights(long)["zorglub"]
    assert in_short == UNKNOWN_IDF_SHARE * matcher._max_idf
    assert in_long == pytest.approx(in_short * UNKNOWN_LONG_FLOOR)
    for term in known:
        assert matcher._weights(long)[term] == matcher._weights(short)[term] == matcher._idf[term]


def test_a_clear_winner_among_known_words_gains_confidence(
    example_knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry far ahead of the next, for a question the pack understands, is more surely
    the answer; not when the runner-up is close, nor when the subject is a word the pack
    never uses (« détartrer une bouilloire » is not about bringing it to the déchetterie)."""
    matcher = example_knowledge.matcher
    questions = {
        "papa est mort hier": True,
        "Comment détartrer une bouilloire ?": False,
        "Mes voisins mettent la musique à fond jusqu'à 2h du matin, que faire ?": False,
    }
    with_credit = {q: matcher.search(q, 2) for q in questions}
    monkeypatch.setattr("knowledge.matcher.CLEAR_CREDIT", 0.0)
    for question, clear in questions.items():
        best, runner_up = matcher.search(question, 2)
        if clear:
            assert runner_up.score <= CLEAR_LEAD * best.score
        gained = with_credit[question][0].score - best.score
        assert gained == pytest.approx(CLEAR_CREDIT if clear else 0.0, abs=1e-4), question
        assert with_credit[question][1].score == runner_up.score


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


def _plain_search(matcher: FaqMatcher, terms: dict[str, float], limit: int) -> list[Match]:
    """The matcher's formula written plainly: every sentence and passage of each candidate
    is scored, where the matcher skips those that share no term with the question."""
    if not terms:
        return []
    idf = matcher._weights(terms)
    total = sum(idf.values()) or 1.0
    topics = {
        t: max(TOPIC_WEIGHT * matcher._max_idf - idf[t], 0.0)
        for t in matcher.analyzer.topic_terms & terms.keys()
    }
    mass: defaultdict[int, float] = defaultdict(float)
    for term in terms:
        for position in matcher._title_postings.get(term, ()):
            mass[position] += idf[term]
        for position in matcher._body_postings.get(term, ()):
            mass[position] += BODY_WEIGHT * idf[term]
    query = terms.keys()
    scored = []
    for position, value in heapq.nlargest(CANDIDATES, mass.items(), key=itemgetter(1)):
        item = matcher._entries[position]
        coverage = value / (total + sum(v for t, v in topics.items() if t not in item.named))
        focus = max(sum(idf[t] for t in s & query) / weight for s, weight in item.sentences)
        passage = max((sum(idf[t] for t in p & query) for p in item.passages), default=0.0)
        score = coverage + FOCUS_WEIGHT * focus + PASSAGE_WEIGHT * passage / total
        if focus == 0:
            score *= BODY_WEIGHT
        scored.append((score / (1 + FOCUS_WEIGHT + PASSAGE_WEIGHT), coverage, focus, item))
    scored.sort(key=itemgetter(0), reverse=True)
    if not scored:
        return []
    if all(t in matcher.analyzer.weak_terms or any(c.isdigit() for c in t) for t in terms):
        scored = [(s * WEAK_IDF_SHARE, c, f, i) for s, c, f, i in scored]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    closeness = runner_up / scored[0][0] if scored[0][0] else 0.0
    penalty = 1 - AMBIGUITY_PENALTY * max(0.0, closeness - AMBIGUITY_FROM)
    credit = min(LENGTH_CREDIT * max(0, len(terms) - LONG_QUESTION_TERMS), MAX_LENGTH_CREDIT)
    first = scored[0][0] * penalty + credit
    unknown = sum(v for t, v in idf.items() if t not in matcher._idf)
    if runner_up + credit <= CLEAR_LEAD * first and unknown <= CLEAR_UNKNOWN * total:
        first += CLEAR_CREDIT
    return [
        Match(
            item.entry,
            round(min(first if rank == 0 else score + credit, 1.0), 4),
            coverage,
            focus,
        )
        for rank, (score, coverage, focus, item) in enumerate(scored[:limit])
    ]


def test_search_gives_exactly_the_plain_formula(example_knowledge: Knowledge) -> None:
    """Skipping the sentences and passages a question does not touch changes no score,
    to the last bit, on the pack's questions, word salads and topic or unknown words."""
    matcher = example_knowledge.matcher
    questions = [q for e in example_knowledge.pack.faq for q in (e.question, *e.variants)]
    vocabulary = sorted({w for q in questions for w in words(q)})
    rng = random.Random(7)
    questions += [" ".join(rng.sample(vocabulary, rng.randint(1, 12))) for _ in range(400)]
    questions += ["permis de conduire collège", "zzzz inconnu 2026", "18h", "à 8h30", ""]
    for question in questions:
        terms = matcher.query_terms(question)
        for limit in (1, 4, CANDIDATES):
            assert matcher.search_terms(terms, limit) == _plain_search(matcher, terms, limit)
