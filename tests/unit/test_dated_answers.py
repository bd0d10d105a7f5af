"""Dated answers on the project's example pack, with a frozen clock in the commune's time.

Facts come from the comments of knowledge/example/collecte.yaml and its other files.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import example_pack_path
from bot.dispatcher import Dispatcher
from bot.messages import Address, Inbound
from knowledge.answers.horaires import _GIVES_HOURS
from knowledge.places import Place, StreetIndex
from knowledge.reply import Context, Reply
from knowledge.snapshot import Knowledge
from knowledge.text import fold

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def ask(knowledge: Knowledge, question: str, now: datetime) -> tuple[str | None, str]:
    reply = knowledge.answer(question, now)
    return reply.source, fold(reply.text)


def without_faq(knowledge: Knowledge, question: str, now: datetime) -> Reply | None:
    """The router's reply when no FAQ entry answers with confidence."""
    terms = knowledge.matcher.query_terms(question)
    return knowledge.dated.answer(knowledge.dated.read(question, now, terms), Context(), None)


@pytest.mark.parametrize(
    ("question", "now", "kind", "expected", "forbidden"),
    [
        # Christmas and New Year weeks: Friday collections move to Saturday.
        (
            "J'habite quai de l'Arvelle, quand passe la poubelle grise cette semaine ?",
            "2026-12-22T18:00",
            "collecte",
            ["samedi 26 decembre", "noel"],
            ["vendredi 25 decembre"],
        ),
        (
            "rue du Moulin-Neuf : les ordures menageres c'est quel jour cette semaine ?",
            "2026-12-29T19:00",
            "collecte",
            ["samedi 2 janvier"],
            ["vendredi 1er janvier"],
        ),
        (
            "Rue des Halles, le bac jaune passe quand avec Noël ?",
            "2026-12-21T12:00",
            "collecte",
            ["samedi 26 decembre"],
            [],
        ),
        # Easter Monday cascade through the week, across zones.
        (
            "rue des Halles : le bac gris cette semaine ?",
            "2027-03-28T10:00",
            "collecte",
            ["mercredi 31 mars"],
            ["mardi 30 mars"],
        ),
        (
            "Rue des Genêts, c'est quand la poubelle grise avec le lundi de Pâques ?",
            "2027-03-26T18:00",
            "collecte",
            ["mardi 30 mars"],
            [],
        ),
        # Ascension moves Thursday's packaging to Friday; Whit Monday is maintained.
        (
            "rue des Genêts : le bac jaune avec l'Ascension jeudi ?",
            "2027-05-04T19:00",
            "collecte",
            ["vendredi 7 mai"],
            [],
        ),
        (
            "Rue des Genêts, la poubelle grise passe bien lundi de Pentecôte ?",
            "2027-05-14T18:00",
            "collecte",
            ["lundi 17 mai"],
            ["mardi 18 mai"],
        ),
        # One-off exception: cancelled, with the next collection.
        (
            "Chemin des Écureuils : le bac jaune passe jeudi ?",
            "2027-02-09T18:00",
            "collecte",
            ["annulee", "jeudi 25 fevrier"],
            [],
        ),
        # A day without collection, the next one cancelled: both said, then the next held.
        (
            "le bac jaune passe le mardi 9 février rue des Genêts ?",
            "2027-01-20T10:00",
            "collecte",
            ["pas de collecte", "11 fevrier est annulee", "prochaine collecte : jeudi 25 fevrier"],
            [],
        ),
        # Glass is brought to drop-off points of the zone.
        (
            "Où jeter mes bouteilles en verre ? J'habite rue des Halles.",
            "2026-12-10T18:00",
            "collecte",
            ["champ-de-foire"],
            [],
        ),
        # Canteen: a served day, a Wednesday, school holidays.
        (
            "Qu'est-ce qu'ils mangent à la cantine demain ?",
            "2026-11-30T18:00",
            "menus",
            ["merlu"],
            ["porc", "pois chiches"],
        ),
        ("Le menu de la cantine mercredi ?", "2026-12-07T18:00", "menus", ["mercredi"], []),
        ("Quel est le menu de la cantine lundi ?", "2026-12-18T17:00", "menus", ["vacances"], []),
        # Opening hours: Christmas Eve morning only, closed between the holidays.
        (
            "La mairie est-elle ouverte cet après-midi ?",
            "2026-12-24T10:00",
            "horaires",
            ["ferme"],
            [],
        ),
        ("Quand rouvre l'agence postale ?", "2026-12-29T09:00", "horaires", ["janvier"], []),
        # Agenda.
        ("C'est quand, la foire aux dindes ?", "2026-12-01T12:00", "agenda", ["15 decembre"], []),
    ],
)
def test_dated_answers(
    example_knowledge: Knowledge,
    question: str,
    now: str,
    kind: str,
    expected: list[str],
    forbidden: list[str],
) -> None:
    source, text = ask(example_knowledge, question, at(now))
    assert source == kind, text
    for part in expected:
        assert part in text, (part, text)
    for part in forbidden:
        assert part not in text, (part, text)


def test_daylight_saving_change_uses_the_local_date(example_knowledge: Knowledge) -> None:
    # 22:30 UTC on Sunday 28 March 2027 is already Monday 29 (Easter Monday) in Paris (+02:00).
    utc = datetime(2027, 3, 28, 22, 30, tzinfo=ZoneInfo("UTC"))
    source, text = ask(example_knowledge, "rue des Genêts : la poubelle grise aujourd'hui ?", utc)
    assert source == "collecte"
    assert "mardi 30 mars" in text  # Monday's collection moved by Easter Monday
    # 00:30 UTC on 28 March is 01:30 in Paris, before the change: still Sunday 28.
    early = datetime(2027, 3, 28, 0, 30, tzinfo=ZoneInfo("UTC"))
    source, text = ask(example_knowledge, "Qu'est-ce qu'il y a à la cantine demain ?", early)
    assert source == "menus" and "lundi 29 mars" in text


def test_alsace_moselle_adds_good_friday_and_saint_stephen(pack_copy: Path) -> None:
    commune = pack_copy / "commune.yaml"
    question = "quai de l'Arvelle : la poubelle grise cette semaine ?"
    plain = Knowledge.load(pack_copy)
    _, text = ask(plain, question, at("2027-03-23T18:00"))
    assert "vendredi 26 mars" in text  # Good Friday is not a holiday in most of France
    commune.write_text(
        commune.read_text(encoding="utf-8").replace("subdivision: null", 'subdivision: "57"'),
        encoding="utf-8",
    )
    moselle = Knowledge.load(pack_copy)
    _, text = ask(moselle, question, at("2027-03-23T18:00"))
    assert "samedi 27 mars" in text and "vendredi saint" in text
    assert moselle.holidays.public_holiday(datetime(2026, 12, 26).date()) is not None


async def test_the_bot_asks_for_the_street_and_remembers_it(example_knowledge: Knowledge) -> None:
    dispatcher = Dispatcher(lambda: example_knowledge)
    address = Address("test", "habitant-1")
    now = at("2026-12-22T18:00")

    async def say(text: str) -> tuple[str | None, str]:
        answer = await dispatcher.handle(Inbound(address, text, now))
        return answer.source, fold(answer.text)

    source, text = await say("Quand passe la poubelle grise cette semaine ?")
    assert source == "collecte" and "quelle rue" in text
    source, text = await say("quai de l'arvelle")
    assert source == "collecte" and "samedi 26 decembre" in text
    source, text = await say("et le bac jaune, c'est quand ?")
    assert source == "collecte" and "vallee" in text  # the street was remembered
    other = Address("test", "habitant-2")
    answer = await dispatcher.handle(Inbound(other, "et le bac jaune, c'est quand ?", now))
    assert "quai de l" not in fold(answer.text)  # nothing leaks between residents


async def test_ambiguous_street_offers_choices(example_knowledge: Knowledge) -> None:
    places = example_knowledge.dated.streets.find("rue du Moulin")
    assert places, "the example pack has a rue du Moulin-Neuf"
    reply = example_knowledge.answer(
        "la poubelle grise demain rue inconnue des Lilas", at("2026-12-22T18:00")
    )
    assert reply.source == "collecte" and reply.awaiting_street


def test_hours_of_a_place_without_a_date_list_its_week(example_knowledge: Knowledge) -> None:
    now = at("2026-12-22T10:00")
    source, text = ask(example_knowledge, "quels sont les horaires de la poste ?", now)
    assert source == "horaires" and "agence postale" in text and "jour par jour" in text
    assert "vendredi 25 decembre : ferme (noel" in text  # the week as it really is
    assert "prochaine ouverture : lundi 4 janvier" in text
    # The mairie's own entry says where and how to reach it as well: it keeps the question.
    source, _ = ask(example_knowledge, "la mairie est ouverte quand ?", now)
    assert source == "mairie-contact-horaires"
    # A word every municipal service shares names none of them.
    source, _ = ask(example_knowledge, "horaires de la piscine municipale ?", now)
    assert source != "horaires"


def test_a_place_name_inside_a_street_name_is_not_the_street() -> None:
    streets = StreetIndex([Place("rue de la Poste", "bourg"), Place("rue des Peupliers", "nord")])
    assert streets.find("quels sont les horaires de la poste ?") == []
    assert streets.find("j'habite rue de la poste") == [Place("rue de la Poste", "bourg")]
    assert streets.find("ruedelaposte") == [Place("rue de la Poste", "bourg")]
    assert streets.find("les peupliers") == [Place("rue des Peupliers", "nord")]


def test_what_to_do_about_a_meal_is_not_asking_the_menu(example_knowledge: Knowledge) -> None:
    now = at("2026-12-14T10:00")
    source, _ = ask(example_knowledge, "qu'est-ce qu'ils mangent à la cantine demain ?", now)
    assert source == "menus"
    source, _ = ask(example_knowledge, "ma fille est malade demain, j'annule son repas ?", now)
    assert source != "menus"


def test_a_collection_question_without_street_asks_for_it(example_knowledge: Knowledge) -> None:
    """When no FAQ entry answers with confidence, the router asks for the street."""
    now = at("2026-12-14T10:00")
    reply = without_faq(
        example_knowledge, "Le camion poubelle passe quel jour dans mon quartier ?", now
    )
    assert reply is not None and reply.source == "collecte" and reply.awaiting_street
    reply = without_faq(example_knowledge, "Le camion-benne passe quand dans mon quartier ?", now)
    assert reply is not None and reply.source == "collecte" and reply.awaiting_street
    assert (
        without_faq(example_knowledge, "quand le bac à sable du square sera nettoyé ?", now) is None
    )


def test_a_shop_taking_bottles_back_is_no_collection(example_knowledge: Knowledge) -> None:
    """ "Reprendre" is taking back, not the collection resuming."""
    now = at("2026-12-14T10:00")
    question = "Est-ce que le supermarché reprend les emballages ?"
    assert without_faq(example_knowledge, question, now) is None


def test_picked_up_is_not_asking_the_collection_day(example_knowledge: Knowledge) -> None:
    """ "Ramassée" names a collection without asking when: with no FAQ entry to answer,
    the router does not ask for the street."""
    now = at("2026-12-14T10:00")
    assert (
        without_faq(example_knowledge, "Notre chatte a disparu, a-t-elle été ramassée ?", now)
        is None
    )
    reply = without_faq(example_knowledge, "La poubelle grise est ramassée quel jour ?", now)
    assert reply is not None and reply.awaiting_street


@pytest.mark.parametrize(
    ("kind", "near_misses", "meant"),
    [
        # who must act, or whether one may: about the bins, not their collection day
        (
            "collecte",
            [
                "Le camion a cassé la roue de ma poubelle grise ce matin : qui doit la remplacer ?",
                "Rue des Halles, on a laissé un matelas sur le trottoir : à qui le signaler ?",
                "J'ai le droit de laisser ma poubelle jaune dehors la semaine rue des Halles ?",
                # a bin stolen, a collection missed, the bin tax, what goes in which bin,
                # whether one may
                "Bac jaune volé cette nuit rue des Halles, je fais quoi ?",
                "Le camion n'est pas passé ce matin rue des Halles, mon bac est resté plein.",
                "Combien coûte la taxe d'ordures ménagères et quand est-elle prélevée ?",
                "Les barquettes, je les mets dans le bac jaune ? Le camion passe jeudi rue des "
                "Halles.",
                "La collecte des déchets verts est finie : je peux faire un feu de feuilles "
                "samedi ?",
                "Quelqu'un a laissé des sacs poubelles rue des Halles depuis lundi, ça traîne "
                "encore.",
                "Avant de sortir ma poubelle jaune jeudi rue des Halles : les pots de yaourt "
                "vont dedans ?",
                # an animal picked up is at the pound
                "Mon chien a été ramassé rue des Halles hier, comment je le récupère ?",
                # the opening hours of the place one brings cardboard to
                "Est-ce que la déchetterie est ouverte cet après-midi ? j'ai des cartons à "
                "déposer",
            ],
            ["Rue des Halles, la poubelle jaune passe quand ?",
             "Qui ramasse la poubelle grise rue des Halles, quand ?",
             "Où est-ce que je peux jeter mes bouteilles en verre ? J'habite rue des Halles.",
             "poubelle jaune rue du Moulin-Neuf demain ?"],
        ),
        # meals delivered at home, whether or how a child could eat there, children without
        # eating
        (
            "menus",
            [
                "Des repas peuvent-ils être livrés chez mon père demain ?",
                "Mon fils pourrait-il manger à la cantine seulement le mardi ?",
                "On emménage le mois prochain avec les enfants : par quoi commencer ?",
                "Mon fils entre au CP en septembre : comment faire pour qu'il mange à la cantine ?",
                "On organise un repas de quartier en juin : la mairie prête-t-elle des tables ?",
                "Je vois du rôti de porc au menu de la cantine le 30 novembre, mon fils n'en "
                "mange pas, comment ça se passe pour lui ?",
                # whether the child can, how to go about it, what it costs
                "Ma fille est allergique aux œufs, est-ce qu'elle peut quand même manger à la "
                "cantine demain ?",
                "Ma fille entre en CP en septembre et je voudrais qu'elle mange à l'école le "
                "midi, je fais comment ?",
                "C'est combien le repas de la cantine mercredi ?",
                "comment décommander le repas de demain midi ? c trop tard ?",
                "Ma fille est allergique aux noix et il y en a au menu du 15 décembre : comment "
                "mettre en place un PAI ?",
                "Quel est le menu du restaurant du Relais pour le réveillon du 31 décembre ?",
                # taking a meal off, warning of an absence, a day without the meal
                "Jusqu'à quand je peux enlever le repas de mon fils pour lundi prochain ?",
                "Mon fils a de la fièvre et reste à la maison demain, je dois prévenir pour son "
                "repas du midi ?",
                "Mon fils peut venir le mercredi matin au centre de loisirs, sans le repas ?",
                # what is asked is said before the request for help
                "Mon fils devra manger à la cantine dès lundi. Je ne sais pas comment "
                "l'inscrire. Pouvez-vous m'aider ?",
                # cooking at home
                "une recette pour finir les restes du repas de Noël ?",
            ],
            ["les enfants mangent quoi à l'école demain ?",
             "C'est quoi le dessert à la cantine demain ?",
             "C'est quel jour la galette des rois à la cantine ?",
             "Bonjour, mon fils ne mange pas de poisson. Quel est le plat principal à la "
             "cantine le lundi 30 novembre ?",
             "Est-ce qu'il y a du poisson à la cantine le mardi 1er décembre ?",
             "Qu'est-ce qu'ils ont servi à la cantine lundi ?",
             # SMS, a label, the pupils by their class
             "ya du poisson a la cantine cette semaine ?", "cantine ajd c koi",
             "Mon fils veut savoir ce qu'il y a au déjeuner à l'école mardi",
             "Les enfants ont du bio à la cantine mardi ?",
             "qu'est-ce que mangent les maternelles vendredi ?"],
        ),
        # a way out, how a procedure goes, what one must do: not what is on
        (
            "agenda",
            [
                "Une voiture bloque la sortie de mon garage depuis ce matin",
                "On veut se marier l'été prochain, comment ça se passe ?",
                "On emménage samedi, qu'est-ce qu'il faut faire en arrivant ?",
                # something planned that is no event; something lost at an event
                "Coupure d'eau prévue mardi dans le quartier, jusqu'à quelle heure ?",
                "J'ai perdu mes clés au spectacle de Noël des enfants samedi, quelqu'un les a "
                "rapportées ?",
                "Après le conseil municipal du 17 décembre, où est-ce que je pourrai lire les "
                "délibérations ?",
                # a duty, not what is on
                "Mon fils aura 16 ans en janvier, il y a un truc obligatoire à faire à la "
                "mairie ?",
                "Nous nous installons le mois prochain, quelles sont les démarches à faire ?",
                # something else about an event than when and where it is
                "Les chiens sont-ils acceptés au spectacle de Noël des enfants samedi ?",
                "Qui joue au spectacle de Noël des enfants samedi ?",
                # a child who "passera" to another school: no "qu'est-ce qui se passera"
                "Mon fils passera en sixième l'an prochain, quel est le collège prévu ?",
            ],
            ["Quelles sorties ce week-end ?", "Qu'est-ce qui se passe samedi ?",
             "Qu'est-ce qui est prévu ce week-end ?", "Rien d'organisé samedi ?",
             "Le spectacle de Noël des enfants c'est quand ? je voudrais aider",
             "Y a-t-il un concert en décembre ?", "Foire aux dindes dimanche ?",
             "Le spectacle de Noël des enfants est maintenu samedi ?",
             # where it is, which days, what there is this weekend
             "Le spectacle de Noël des enfants, ça se passe où ?",
             "La foire aux dindes, c'est quels jours ?",
             "Qu'est-ce qu'il y a ce week-end ?",
             # an event's hours, not those of the place named beside it
             "Le spectacle de Noël des enfants à la bibliothèque, c'est quel jour et à quelle "
             "heure ?"],
        ),
        # going to work is not going to a place; booking or getting a pass is not opening
        # hours
        (
            "horaires",
            [
                "Ce matin une camionnette bloque la sortie de la salle de sport, je ne peux plus "
                "aller travailler : que faire ?",
                "Le gymnase est ouvert pendant les vacances de Noël ? il faut réserver ?",
                "Je n'ai pas de badge pour la déchetterie et je voudrais y aller samedi : "
                "comment je l'obtiens ?",
                "Comment avoir la carte d'accès à la déchetterie ? Je voudrais y aller samedi.",
                "J'ai égaré mon pass pour la déchetterie et je dois y aller samedi.",
                # closed is said, not asked
                "La mairie est fermée le vendredi ; est-ce que je peux quand même déposer mon "
                "dossier de PACS ?",
                "Mon grand-père est décédé cette nuit et la mairie est fermée cet après-midi, "
                "comment on déclare le décès ?",
                "La bibliothèque est fermée samedi, est-ce que je peux rendre mes livres plus "
                "tard ?",
                "La mairie est ouverte le samedi matin : est-ce que je peux venir faire "
                "légaliser ma signature ?",
            ],
            ["on peut y aller samedi à la déchetterie ?",
             "peut-on aller à la bibliothèque demain ?",
             "la poste ouvre le lundi ?",
             "On peut aller nager au Pré-Vert samedi ?",
             "Le CCAS tient-il sa permanence le mardi 15 décembre ?",
             "Est-ce que la déchetterie est ouverte cet après-midi ? j'ai des cartons à déposer"],
        ),
    ],
)  # fmt: skip
def test_a_question_near_a_calendar_is_not_answered_from_it(
    example_knowledge: Knowledge, kind: str, near_misses: list[str], meant: list[str]
) -> None:
    now = at("2026-12-14T10:00")
    for question in near_misses:
        source, _ = ask(example_knowledge, question, now)
        assert source != kind, question
    for question in meant:
        source, _ = ask(example_knowledge, question, now)
        assert source == kind, question


def test_a_day_in_a_place_s_alias_does_not_name_the_place(tmp_path: Path) -> None:
    """ "Multisport du mercredi" names the gymnasium by "multisport", not by "mercredi": a
    bin put out on Wednesday is no question about its hours."""
    pack = tmp_path / "pack"
    shutil.copytree(example_pack_path(), pack)
    services = (pack / "services.yaml").read_text(encoding="utf-8")
    services = services.replace("le Pré-Vert, dojo]", "le Pré-Vert, dojo, multisport du mercredi]")
    (pack / "services.yaml").write_text(services, encoding="utf-8")
    knowledge = Knowledge.load(pack)
    now = at("2026-12-14T10:00")
    question = "je peux sortir ma poubelle à partir de quelle heure mercredi ?"
    assert ask(knowledge, question, now)[0] != "horaires"
    assert ask(knowledge, "le multisport du mercredi est ouvert mercredi ?", now)[0] == "horaires"


def test_a_word_of_a_place_s_long_name_does_not_name_it(tmp_path: Path) -> None:
    """A place is named by at least half the words of its name, an alias or its id: "Brume"
    names no "Piscine du Val de Brume", and a charity's opening hours are not the pool's."""
    pack = tmp_path / "pack"
    shutil.copytree(example_pack_path(), pack)
    services = (pack / "services.yaml").read_text(encoding="utf-8")
    services = services.replace("Complexe sportif du Pré-Vert", "Piscine du Val de Brume", 1)
    (pack / "services.yaml").write_text(services, encoding="utf-8")
    knowledge = Knowledge.load(pack)
    now = at("2026-12-14T10:00")
    assert ask(knowledge, "l'épicerie de la Brume c'est ouvert quand ?", now)[0] != "horaires"
    for question in ("la piscine c'est ouvert quand ?", "le Val de Brume ouvre quand ?"):
        source, text = ask(knowledge, question, now)
        assert source == "horaires" and "piscine du val de brume" in text, question


def test_a_later_word_of_a_place_s_name_does_not_name_it(tmp_path: Path) -> None:
    """A place is named by the word its name begins with, not by a later one: "les enfants"
    do not name the "Accueil de loisirs Les Loupiots"; nor does one word of a two-word
    alias ("retrait de colis") when the question gives a date."""
    pack = tmp_path / "pack"
    shutil.copytree(example_pack_path(), pack)
    services = (pack / "services.yaml").read_text(encoding="utf-8")
    services = services.replace(
        "Complexe sportif du Pré-Vert", "Accueil de loisirs Les Loupiots", 1
    )
    (pack / "services.yaml").write_text(services, encoding="utf-8")
    knowledge = Knowledge.load(pack)
    now = at("2026-12-14T10:00")
    for question in (
        "Mes enfants entrent à l'école lundi : à quelle heure dois-je les déposer le matin ?",
        "À quelle heure je peux récupérer mon fils lundi après la classe ?",
    ):
        assert ask(knowledge, question, now)[0] != "horaires", question
    source, text = ask(knowledge, "l'accueil de loisirs est ouvert mercredi ?", now)
    assert source == "horaires" and "loupiots" in text


def test_a_line_open_day_and_night_gives_no_opening_hours() -> None:
    """A FAQ answer that gives hours answers "ouvert quand ?" itself; "24 h/24" (the 115's)
    gives none, so the place's own hours are given."""
    assert _GIVES_HOURS.search("Permanence le mardi de 14h à 16h.") is not None
    assert _GIVES_HOURS.search("Appelez le 115 (gratuit, 24 h/24).") is None
    assert _GIVES_HOURS.search("Numéro joignable 24h/24 et 7j/7.") is None
