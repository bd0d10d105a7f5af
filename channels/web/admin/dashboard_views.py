"""The dashboard: questions per day, share answered, top questions, subscribers.

Why every chart has its table: the SVG is for a glance, the table for exact figures,
screen readers and copying into a report.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.questions import DayCount
from bot.subscribing import topics_of
from channels.web.admin.charts import Column, bar_chart, column_chart, percent
from channels.web.admin.core import admin_of, number, render
from channels.web.admin.figures import channel_label, subscribers_by_channel, subscribers_by_topic
from knowledge.phrases import MONTHS

DAYS = 30
TOP = 10


def _day_label(count: DayCount) -> str:
    return f"{count.day.day:02d}/{count.day.month:02d}"


def _long_day(count: DayCount) -> str:
    return f"{count.day.day} {MONTHS[count.day.month - 1]} {count.day.year}"


async def dashboard(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    now = admin.now()
    since = now - timedelta(days=DAYS)
    days = await admin.questions.daily(DAYS, admin.tz)
    totals = await admin.questions.totals(since)
    top = await admin.questions.top_questions(since, TOP)
    labels = {name: topic.label for name, topic in topics_of(admin.knowledge).items()}
    by_topic = await subscribers_by_topic(admin.store)
    by_channel = await subscribers_by_channel(admin.store)
    total_questions = sum(d.total for d in days)
    daily_chart = column_chart(
        "graphique-jours",
        f"Questions posées par jour, {DAYS} derniers jours",
        f"{number(total_questions)} questions en {DAYS} jours, dont {percent(totals.share)} "
        "avec une réponse. En bas de chaque barre les questions répondues, au-dessus celles "
        "restées sans réponse. Les chiffres exacts sont dans le tableau qui suit.",
        [Column(_day_label(d), (d.answered, d.total - d.answered)) for d in days],
        ("avec réponse", "sans réponse"),
    )
    topic_items = [(labels.get(topic, topic), count) for topic, count in by_topic]
    channel_items = [(channel_label(channel), count) for channel, count in by_channel]
    topic_chart = bar_chart(
        "graphique-themes",
        "Abonnés par thème",
        ", ".join(f"{label} : {count}" for label, count in topic_items) or "Aucun abonné.",
        topic_items,
    )
    channel_chart = bar_chart(
        "graphique-canaux",
        "Abonnés par canal",
        ", ".join(f"{label} : {count}" for label, count in channel_items) or "Aucun abonné.",
        channel_items,
    )
    return render(
        request,
        "tableau.html",
        section="tableau",
        title="Tableau de bord",
        days=days,
        day_name=_long_day,
        totals=totals,
        share=percent(totals.share),
        percent=percent,
        top=top,
        entries={entry.id: entry for entry in admin.knowledge.pack.faq},
        daily_chart=daily_chart,
        topic_chart=topic_chart,
        channel_chart=channel_chart,
        topic_items=topic_items,
        channel_items=channel_items,
        period=DAYS,
    )
