"""Every sentence the knowledge layer writes for residents, in one place to review (French),
and the French formatting of days and hours ("samedi 26 décembre", "8h30")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

from knowledge.pack.fields import WEEKDAYS

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

SUGGESTIONS_INTRO = "Votre question porte peut-être sur l'un de ces sujets :"


def day(moment: date, today: date | None = None) -> str:
    """'samedi 26 décembre', 'jeudi 1er avril'; the year is added when it is not obvious."""
    number = "1er" if moment.day == 1 else str(moment.day)
    text = f"{WEEKDAYS[moment.weekday()]} {number} {MONTHS[moment.month - 1]}"
    if today is not None and abs((moment - today).days) > 300:
        text += f" {moment.year}"
    return text


def hour(moment: time) -> str:
    """'8h30', '12h', '23h59' for the end of the day."""
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


def hours(ranges: Sequence[tuple[time, time]]) -> str:
    """'de 8h30 à 12h et de 13h30 à 17h30'."""
    return " et ".join(f"de {hour(start)} à {hour(end)}" for start, end in ranges)


def join(items: Sequence[str]) -> str:
    """'a', 'a et b', 'a, b et c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_OF_HOLIDAY = {
    "Noël": "de Noël",
    "Pâques": "de Pâques",
    "Ascension": "de l'Ascension",
    "Assomption": "de l'Assomption",
    "Armistice": "de l'Armistice",
    "Toussaint": "de la Toussaint",
    "Saint-Étienne": "de la Saint-Étienne",
}


def of_holiday(name: str) -> str:
    """'Lundi de Pâques' -> 'du lundi de Pâques', 'Noël' -> 'de Noël' (after 'en raison')."""
    if name in _OF_HOLIDAY:
        return _OF_HOLIDAY[name]
    first = name.split()[0].lower()
    lowered = name[:1].lower() + name[1:]
    if first in ("lundi", "vendredi", "jour"):
        return "du " + lowered
    if first == "fête":
        return "de la " + lowered
    return "de " + name


# Waste collection
ASK_STREET = (
    "Pour vous donner les jours de collecte, j'ai besoin de votre adresse : dans quelle rue "
    "ou quel lieu-dit habitez-vous ?"
)
ASK_STREET_AMBIGUOUS = "Plusieurs rues correspondent : {choices}. Laquelle est la vôtre ?"
COLLECTE_PLACE = "{place} (secteur {zone})"
COLLECTE_ON = "la collecte des {stream} a lieu {day}"
COLLECTE_MOVED_HOLIDAY = "la collecte des {stream} est décalée au {day} en raison de {reason}"
COLLECTE_MOVED_NOTE = "la collecte des {stream} est déplacée au {day}"
COLLECTE_CANCELLED = "la collecte des {stream} prévue {day} est annulée"
COLLECTE_NONE_IN_RANGE = "pas de collecte des {stream} {period}"
COLLECTE_NEXT = "prochaine collecte : {day}"
COLLECTE_START = "Le camion passe à partir de {hour} : sortez votre {container} la veille au soir."
COLLECTE_OUT_OF_SEASON = (
    "La collecte des {stream} est saisonnière : elle reprend {day}. D'ici là : {instructions}"
)
COLLECTE_NO_MORE = (
    "Je n'ai pas de date de collecte des {stream} après le {day} : le calendrier publié "
    "s'arrête là."
)
COLLECTE_DROP_OFF = (
    "Le {stream} ne se collecte pas à domicile. Points d'apport près de chez vous "
    "(secteur {zone}) : {places}."
)
COLLECTE_APPOINTMENT = "Les {stream} sont enlevés uniquement sur rendez-vous : {booking}."
PERIOD_OUT_OF_RANGE = (
    "Je n'ai pas le calendrier de collecte pour cette date : il couvre la période du {start} "
    "au {end}."
)

# Canteen
CANTEEN_MENU = "Menu de la cantine {day} : {dishes}."
CANTEEN_LABELS = " ({labels})"
CANTEEN_WEDNESDAY = "Pas de cantine {day} : il n'y a pas d'école le mercredi."
CANTEEN_WEEKEND = "Pas de cantine {day}, c'est le week-end."
CANTEEN_HOLIDAY = "Pas de cantine {day} : c'est un jour férié ({label})."
CANTEEN_SCHOOL_HOLIDAYS = "Pas de cantine {day} : ce sont les vacances scolaires ({label})."
CANTEEN_NOT_PUBLISHED = "Le menu {day} n'est pas encore publié."
CANTEEN_NO_SERVICE = "Pas de service de cantine prévu {day}."
CANTEEN_NEXT = "Reprise de la cantine {day}."
CANTEEN_FOUND = "{dish} : au menu {days}."
CANTEEN_NONE_WITH_LABEL = "Aucun menu {label} {period}."
LABEL_NAMES = {"vegetarien": "végétarien", "bio": "bio", "local": "local"}

# Opening hours
OPEN_DAY = "{name} : ouvert {day} {ranges}{why}."
CLOSED_DAY = "{name} : fermé {day}{why}."
CLOSED_PART = "{name} : fermé {day} {part}{why}."
WHY_HOLIDAY = " ({holiday}, jour férié)"
WHY_NOTE = " ({note})"
NEXT_OPENING = "Prochaine ouverture : {day} {ranges}."
PERIOD_HEADER = "{name}, jour par jour :"
CLOSED_WORD = "fermé"
OPEN_THAT_DAY = "Ce jour-là, ouverture {ranges} seulement."
PARTS = {"matin": "le matin", "midi": "à midi", "apres-midi": "l'après-midi", "soir": "le soir"}

# Agenda
EVENT_ONE = "{title} : {when}{place}."
EVENT_PLACE = ", {place}"
EVENT_SAME_DAY = "{day} de {start} à {end}"
EVENT_SPAN = "du {start} au {end}"
EVENTS_IN_PERIOD = "Au programme {period} :"
EVENTS_NONE = "Je n'ai pas d'événement annoncé {period}."
EVENT_NONE_UPCOMING = "Je n'ai pas de date à venir pour cet événement."

# Scheduled notices (knowledge/notices.py). A notice may be read hours after it is sent:
# every one writes its date out in full, "demain" only ever stands beside that date.
NOTICE_COLLECTION = "Collecte de demain, {day} (secteur {zone}) : {streams}."
NOTICE_STREAM = "{stream} ({details})"
NOTICE_MOVED_LATER = "reportée du {day}"
NOTICE_MOVED_EARLIER = "avancée du {day}"
NOTICE_MOVED_BECAUSE = ", {holiday}"
NOTICE_UNUSUAL_START = "horaire exceptionnel"
NOTICE_START_ONE = "Le camion passe à partir de {hour} : sortez votre bac la veille au soir."
NOTICE_START_MANY = "Les camions passent à partir de {hour} : sortez vos bacs la veille au soir."
NOTICE_SHIFT_MOVED = (
    "Collecte décalée : {because}la collecte des {stream} du {planned} aura lieu le {actual}."
)
NOTICE_SHIFT_CANCELLED = (
    "Collecte annulée : {because}la collecte des {stream} du {planned} est supprimée."
)
NOTICE_SHIFT_BECAUSE = "en raison {holiday}, "
NOTICE_MENU_DAY = "du {day}"  # fills CANTEEN_MENU: "Menu de la cantine du lundi 21 décembre : …"
NOTICE_EVENT = "Rappel : {title}, {when}{place}."
NOTICE_EVENT_AT = "{day} à {hour}"
NOTICE_EVENT_UNTIL = ", jusqu'au {day}"
NOTICE_EVENT_PLACE = ", {place}"
NOTICE_TOMORROW = "demain {day}"
NOTICE_TODAY = "aujourd'hui {day}"


def day_seen_from(moment: date, sent: date) -> str:
    """'demain samedi 26 décembre', 'aujourd'hui lundi 21 décembre', 'jeudi 31 décembre':
    the full date always, the relative word only beside it (a notice may be read late)."""
    text = day(moment, sent)
    gap = (moment - sent).days
    if gap == 1:
        return NOTICE_TOMORROW.format(day=text)
    if gap == 0:
        return NOTICE_TODAY.format(day=text)
    return text
