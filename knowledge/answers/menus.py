"""Canteen answers: the menu of the day meant, a week's menus, or when a dish is served."""

from __future__ import annotations

from datetime import date, timedelta

from knowledge import phrases
from knowledge.answers.question import Question
from knowledge.calendars.canteen import CanteenCalendar, CanteenDay
from knowledge.pack.calendar_models import MenuDay
from knowledge.pack.fields import WEEKDAYS
from knowledge.text import fold

CANTEEN_WORDS = (
    r"cantine|cantoche|menus?|repas|dejeuner|dejeunent|restaurant scolaire|"
    r"restauration scolaire|self"
)
# The school or the children name the canteen only with a word of eating ("qu'est-ce qu'ils
# mangent à l'école demain ?"), not "par quoi commencer avec les enfants le mois prochain".
PUPIL_WORDS = r"ecole|enfants|eleves|ecoliers?|maternelles?"
EATING_WORDS = r"manger|mangent|mangeront|mange|au menu|plats?"
MENU_WORDS = (
    r"menus?|au menu|repas|manger|mangent|mangeront|mange|quoi|koi|plat|plats|desserts?|"
    r"servi|servis|servie|sert|servent|servira|serviront|"
    r"entrees?|gouter|fromage|laitage|"
    r"qu est ce qu il y a|ce qu il y a|qu est ce qui|y a quoi|il y a quoi|il y a du|"
    r"il y a de la|il y a des|y a t il du|y a t il de la|y a t il des|y a du|y a de la|"
    r"ya quoi|ya du|ya de la|ya des|ya t il"
)
DISH_WHEN = r"quand|quel jour|quels jours|c est quand|prochaine fois"
# A question on what to do about the canteen (cancel, enrol, pay, its price, whether or how a
# child could eat there, a PAI) is the FAQ's, even dated; so are meals delivered at home, the
# canteens of secondary schools, which are not the commune's, a restaurant's menu, meals
# residents organise, and what a child who does not eat a dish gets instead.
NOT_ABOUT_MENUS = (
    r"annul\w*|decommand\w*|desinscri\w*|inscri\w*|pay\w*|paie\w*|paiement|factur\w*|"
    r"tarifs?|prix|coute\w*|combien|reserv\w*|absent\w*|absence|malade|allergi\w*|pai|"
    r"livr\w*|portage|domicile|colleg\w*|lycee\w*|restaurants?(?! scolaires?)|traiteur|"
    r"brasserie|pourrai\w*|possible|que faire|demarches?|je m y prends|s y prendre|"
    r"organis\w*|preter|prete|pret|repas de quartier|repas des aines|repas partage|"
    r"mange pas|regimes?|sans porc|recettes?|restes|sans (?:le |son |leur )?repas|fievre|gastro|"
    r"enlev\w*|retir\w*|supprim\w*|prevenir|previen\w*|jusqu a quand|avant quelle date|"
    # how to go about it ("comment faire ?", "je fais comment ?"), not how the meal is
    r"comment(?! est| sera| c est)|"
    r"(?:il|elle|ils|elles) (?:peut|peuvent)|(?:peut|peuvent) (?:il|elle|ils|elles)"
)
LABEL_WORDS = {"vegetarien": r"vegetariens?|vegetariennes?|veggie|vege|sans viande", "bio": r"bio",
               "local": r"locale?s?|local"}  # fmt: skip
_NOT_DISH_WORDS = frozenset({
    "cantine", "cantoche", "menu", "menus", "repas", "manger", "mangent", "mangeront", "mange",
    "dejeuner", "ecole", "enfants", "semaine", "jour", "quel", "quelle", "quels", "quoi", "est",
    "elle", "midi", "aujourd", "demain", "prochain", "prochaine", "cette", "vegetarien", "bio",
    "local", "noel", "quand", "rentree", "comment", *WEEKDAYS,
})  # fmt: skip


class MenuAnswers:
    """Answers about the school canteen, from `menus.csv`."""

    def __init__(self, canteen: CanteenCalendar) -> None:
        self.canteen = canteen

    def is_about_menus(self, question: Question) -> bool:
        names_canteen = question.says(CANTEEN_WORDS) or (
            question.says(PUPIL_WORDS) and question.says(EATING_WORDS)
        )
        if not names_canteen or question.asks(NOT_ABOUT_MENUS):
            return False
        dated = question.when is not None or question.says(
            r"du jour|ce midi|aujourd hui|de la semaine|la semaine|cette semaine"
        )
        start, end = self._period(question)
        if not dated:  # "quand y a-t-il des frites ?": the dish in the menus to come
            return question.says(DISH_WHEN) and bool(self._dish_words(question, start, end))
        return (
            question.says(MENU_WORDS)
            or any(question.says(label) for label in LABEL_WORDS.values())
            or bool(self._dish_words(question, start, end))
        )

    def _period(self, question: Question) -> tuple[date, date]:
        when = question.when
        start = end = question.today
        if when is not None:
            start, end = when.start, when.end
        if question.says(r"de la semaine|la semaine|cette semaine") and start == end:
            start, end = _school_week(question.today)
        elif when is None and question.says(DISH_WHEN):
            end = max(self.canteen.last_published or start, start)
        return start, end

    def answer(self, question: Question) -> str:
        when = question.when
        start, end = self._period(question)
        label = next(
            (name for name, pattern in LABEL_WORDS.items() if question.says(pattern)), None
        )
        dish = self._dish_words(question, start, end)
        if dish:
            return self._dish(question, dish, start, end)
        if start == end:
            return self._day(self.canteen.day(start), question.today)
        return self._range(start, end, label, question.today, when.label if when else "")

    def _dish_words(self, question: Question, start: date, end: date) -> list[str]:
        words = [w for w in question.folded.split() if len(w) > 3 and w not in _NOT_DISH_WORDS]
        served = " ".join(self._dishes_text(day) for day in self._days(start, end))
        return [w for w in words if w.rstrip("s") in served]

    def _days(self, start: date, end: date) -> list[CanteenDay]:
        return [self.canteen.day(start + timedelta(days=n)) for n in range((end - start).days + 1)]

    @staticmethod
    def _dishes_text(day: CanteenDay) -> str:
        if day.menu is None:
            return ""
        menu = day.menu
        dishes = (menu.entree, menu.plat, menu.accompagnement, menu.laitage, menu.dessert)
        return fold(" ".join(d for d in dishes if d))

    def _dish(self, question: Question, words: list[str], start: date, end: date) -> str:
        days = [
            d
            for d in self._days(start, end)
            if any(w.rstrip("s") in self._dishes_text(d) for w in words)
        ]
        names = phrases.join([phrases.day(d.day, question.today) for d in days])
        dish = next(
            (
                name
                for d in days
                if d.menu is not None
                for name in _dishes(d.menu).split(", ")
                if any(w.rstrip("s") in fold(name) for w in words)
            ),
            " ".join(words),
        )
        return phrases.CANTEEN_FOUND.format(dish=phrases.capital(dish), days=names) + (
            "\n" + "\n".join(self._day(d, question.today) for d in days)
        )

    def _day(self, day: CanteenDay, today: date) -> str:
        when = phrases.day(day.day, today)
        if day.menu is not None:
            return self._menu(day.menu, when)
        templates = {
            "wednesday": phrases.CANTEEN_WEDNESDAY,
            "weekend": phrases.CANTEEN_WEEKEND,
            "public_holiday": phrases.CANTEEN_HOLIDAY,
            "school_holidays": phrases.CANTEEN_SCHOOL_HOLIDAYS,
            "not_published": phrases.CANTEEN_NOT_PUBLISHED,
        }
        text = templates.get(day.reason, phrases.CANTEEN_NO_SERVICE).format(
            day=when, label=day.label or ""
        )
        if day.reason in ("school_holidays", "public_holiday"):
            following = self.canteen.next_served(day.day)
            if following is not None:
                text += " " + phrases.CANTEEN_NEXT.format(day=phrases.day(following.day, today))
        return text

    @staticmethod
    def _menu(menu: MenuDay, when: str) -> str:
        text = phrases.CANTEEN_MENU.format(day=when, dishes=_dishes(menu))
        if menu.labels:
            names = [phrases.LABEL_NAMES.get(label, label) for label in menu.labels]
            text = text[:-1] + phrases.CANTEEN_LABELS.format(labels=", ".join(names)) + "."
        return text

    def _range(self, start: date, end: date, label: str | None, today: date, period: str) -> str:
        days = [d for d in self._days(start, end) if d.menu is not None]
        if label is not None:
            days = [d for d in days if d.menu is not None and label in d.menu.labels]
            if not days:
                name = phrases.LABEL_NAMES.get(label, label)
                return phrases.CANTEEN_NONE_WITH_LABEL.format(label=name, period=period or "")
        if not days:
            return self._day(self.canteen.day(start), today)
        return "\n".join(self._menu(d.menu, phrases.day(d.day, today)) for d in days if d.menu)


def _dishes(menu: MenuDay) -> str:
    dishes = [menu.entree, menu.plat, menu.accompagnement, menu.laitage, menu.dessert]
    return ", ".join(d for d in dishes if d)


def _school_week(today: date) -> tuple[date, date]:
    """This week's Monday to Friday, or next week's from Saturday on."""
    monday = today - timedelta(days=today.weekday())
    if today.weekday() >= 5:
        monday += timedelta(days=7)
    return monday, monday + timedelta(days=4)
