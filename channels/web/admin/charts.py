"""Server-rendered SVG charts for the dashboard: no JavaScript library, nothing downloaded.

Why SVG from the server: a few kilobytes, works without scripts under a strict CSP, prints
well. Each chart is an image with a title and a description for assistive technologies
(`role="img"`, `aria-labelledby`); the page always shows the same figures in a table too.
Colours come from the stylesheet (classes), with at least 3:1 contrast against white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 720
HEIGHT = 260
MARGIN_LEFT = 44
MARGIN_BOTTOM = 40
MARGIN_TOP = 34
BAR_HEIGHT = 26


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a stacked column chart: its label and the value of each series."""

    label: str
    values: tuple[int, ...]


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="graphique" viewBox="0 0 {w} {h}" '
        'role="img" aria-labelledby="{id}-titre {id}-desc" focusable="false">'
        '<title id="{id}-titre">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(w=width, h=height, id=chart_id, title=title, desc=desc)


def _nice_max(value: int) -> int:
    """A round top for the axis, at least 1."""
    if value <= 5:
        return max(value, 1)
    magnitude = int(10 ** (len(str(value)) - 1))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def column_chart(
    chart_id: str,
    title: str,
    desc: str,
    columns: Sequence[Column],
    series: Sequence[str],
    label_every: int = 5,
) -> Markup:
    """Stacked columns (e.g. answered and unanswered questions per day), with a legend."""
    top = _nice_max(max((sum(c.values) for c in columns), default=0))
    plot_w = WIDTH - MARGIN_LEFT - 10
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_w / max(len(columns), 1)
    bar_w = max(step * 0.7, 1.0)
    parts = [_open(chart_id, title, desc, WIDTH, HEIGHT)]
    base = MARGIN_TOP + plot_h
    for fraction in (0, 0.5, 1):
        y = base - plot_h * fraction
        value = round(top * fraction)
        parts.append(
            Markup(
                '<line class="axe" x1="{x1}" y1="{y:.1f}" x2="{x2}" y2="{y:.1f}"/>'
                '<text class="etiquette" x="{tx}" y="{ty:.1f}" text-anchor="end">{v}</text>'
            ).format(x1=MARGIN_LEFT, x2=WIDTH - 10, y=y, tx=MARGIN_LEFT - 6, ty=y + 4, v=value)
        )
    for index, column in enumerate(columns):
        x = MARGIN_LEFT + index * step + (step - bar_w) / 2
        y = float(base)
        for number, value in enumerate(column.values):
            if value <= 0:
                continue
            height = plot_h * value / top
            y -= height
            parts.append(
                Markup(
                    '<rect class="serie-{n}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                    'height="{h:.1f}"/>'
                ).format(n=number, x=x, y=y, w=bar_w, h=height)
            )
        if index % label_every == 0 or index == len(columns) - 1:
            parts.append(
                Markup(
                    '<text class="etiquette" x="{x:.1f}" y="{y}" text-anchor="middle">{t}</text>'
                ).format(x=x + bar_w / 2, y=base + 18, t=column.label)
            )
    x = MARGIN_LEFT
    for number, name in enumerate(series):
        parts.append(
            Markup(
                '<rect class="serie-{n}" x="{x}" y="8" width="14" height="14"/>'
                '<text class="legende" x="{tx}" y="20">{name}</text>'
            ).format(n=number, x=x, tx=x + 20, name=name)
        )
        x += 28 + 8 * len(name)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def bar_chart(chart_id: str, title: str, desc: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their value (e.g. subscribers per topic)."""
    label_w = 200
    height = MARGIN_TOP // 2 + BAR_HEIGHT * max(len(items), 1) + 10
    top = _nice_max(max((value for _, value in items), default=0))
    plot_w = WIDTH - label_w - 60
    parts = [_open(chart_id, title, desc, WIDTH, height)]
    for index, (label, value) in enumerate(items):
        y = MARGIN_TOP // 2 + index * BAR_HEIGHT
        width = plot_w * value / top if top else 0
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            Markup(
                '<text class="etiquette" x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
                '<rect class="serie-0" x="{x}" y="{y}" width="{w:.1f}" height="{h}"/>'
                '<text class="etiquette" x="{vx:.1f}" y="{ty}">{value}</text>'
            ).format(
                lx=label_w - 8,
                ty=y + BAR_HEIGHT * 0.65,
                label=short,
                x=label_w,
                y=y + 3,
                w=width,
                h=BAR_HEIGHT - 6,
                vx=label_w + width + 6,
                value=value,
            )
        )
    if not items:
        parts.append(
            Markup('<text class="etiquette" x="{x}" y="{y}">{t}</text>').format(
                x=label_w, y=MARGIN_TOP // 2 + 18, t="Aucune donnée"
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def percent(share: float) -> str:
    """'87 %' (French spacing, no decimals)."""
    return f"{round(share * 100)}\u00a0%"


__all__ = ["Column", "bar_chart", "column_chart", "percent"]
