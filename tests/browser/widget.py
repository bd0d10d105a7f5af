"""What the browser tests do to the widget: find focus inside its shadow root, ask, read the
log, run axe-core, and read the CSP violations the page saw."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from playwright.sync_api import Locator, Page, expect

HOST = "crieur-assistant"
BOT = f"{HOST} .msg.bot"
FOCUSED = """() => {
  const host = document.querySelector("crieur-assistant");
  if (!host || document.activeElement !== host) return null;
  const inner = host.shadowRoot.activeElement;
  return inner ? (inner.id || inner.className || inner.tagName) : null;
}"""
AXE = """async (selector) => {
  const context = selector ? document.querySelector(selector) : document;
  const results = await axe.run(context, { resultTypes: ["violations"] });
  return {
    violations: results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ") + " — " + n.failureSummary),
    })),
    passes: results.passes.length,
    incomplete: results.incomplete.length,
  };
}"""


def focused(page: Page) -> str | None:
    """The id (or class) of the element focused inside the widget, None if focus is outside."""
    found: str | None = page.evaluate(FOCUSED)
    return found


def tab_to(page: Page, target: str, limit: int = 15) -> None:
    """Press Tab until the widget's `target` (id or class) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == target:
            return
    raise AssertionError(f"Tab never reached {target!r} (focus on {focused(page)!r})")


def ask(page: Page, text: str) -> Locator:
    """Type a question in the focused text box, press Enter, return the answer's bubble."""
    count = page.locator(BOT).count()
    assert focused(page) == "crieur-question"
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    answer = wait_answer(page, count)
    assert "Le service ne répond pas" not in answer.inner_text(), (
        "the widget's request failed: from another origin, does `crieur run` pass "
        "[web] allowed_origins to create_web_app (CORS)?"
    )
    return answer


def wait_answer(page: Page, count: int) -> Locator:
    """The bot message after the first `count` ones, once it is there."""
    expect(page.locator(BOT)).to_have_count(count + 1)
    expect(page.locator(f"{HOST} .status")).to_have_text("")
    return page.locator(BOT).nth(count)


def axe(page: Page, selector: str | None = None) -> dict[str, Any]:
    """axe-core's results on the page, or on one element and its shadow tree."""
    results: dict[str, Any] = page.evaluate(AXE, selector)
    return results


def csp_violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("() => window.__csp")
    return found


def chat(base: str, session: str, text: str) -> dict[str, Any]:
    """One `POST /api/chat` outside the browser (no Origin header), for setting up tests."""
    request = urllib.request.Request(
        base + "/api/chat",
        json.dumps({"session": session, "text": text}).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def plain(markdown: str) -> str:
    """An answer's text as the widget shows it: no `**`, spaces collapsed."""
    return " ".join(markdown.replace("**", "").split())
