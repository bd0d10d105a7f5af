"""The widget in a real browser: embedded cross-origin by its one-line tag, used with the
keyboard alone, laid out at 320 px and 200 % zoom, and never executing what it shows."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from knowledge.snapshot import Knowledge
from tests.browser.conftest import WATCH, HostSite
from tests.browser.widget import (
    BOT,
    HOST,
    ask,
    csp_violations,
    focused,
    plain,
    tab_to,
    wait_answer,
)


def test_keyboard_only_from_another_origin(
    page: Page,
    host_site: HostSite,
    crieur: str,
    example_knowledge: Knowledge,
    suggesting_question: tuple[str, dict[str, str]],
) -> None:
    page.goto(host_site.url + "/")
    launcher = page.locator(f"{HOST} .launcher")
    expect(launcher).to_be_visible()  # the host's `button {display: none}` does not reach it
    expect(launcher).to_have_accessible_name("Ouvrir l’assistant de la mairie")
    expect(launcher).to_have_attribute("aria-expanded", "false")

    tab_to(page, "launcher")
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    dialog = page.get_by_role("dialog", name="Assistant de la mairie de Morvelay")
    expect(dialog).to_be_visible()
    assert focused(page) == "crieur-question"
    expect(page.get_by_role("textbox", name="Votre question")).to_be_focused()
    log = page.locator(f"{HOST} [role=log]")
    expect(log).to_have_attribute("aria-live", "polite")

    entry = example_knowledge.pack.faq[0]
    answer = ask(page, entry.question)
    expect(answer).to_contain_text(plain(entry.answer.splitlines()[0])[:60])
    expect(page.locator(f"{HOST} .msg.me").last).to_contain_text(entry.question)
    assert focused(page) == "crieur-question"  # ready for the next question

    question, suggestion = suggesting_question
    answer = ask(page, question)
    choice = answer.get_by_role("button", name=suggestion["label"])
    expect(choice).to_be_visible()
    page.keyboard.press("Shift+Tab")  # from the text box back into the log's buttons
    for _ in range(5):
        if page.evaluate(
            "(label) => document.querySelector('crieur-assistant')"
            ".shadowRoot.activeElement?.textContent === label",
            suggestion["label"],
        ):
            break
        page.keyboard.press("Shift+Tab")
    else:
        raise AssertionError("Shift+Tab never reached the first suggestion")
    count = page.locator(BOT).count()
    page.keyboard.press("Enter")
    chosen = wait_answer(page, count)
    entry_id = suggestion["payload"].removeprefix("faq:")
    expected = next(e for e in example_knowledge.pack.faq if e.id == entry_id)
    expect(chosen).to_contain_text(plain(expected.answer.splitlines()[0])[:60])
    expect(page.locator(f"{HOST} .msg.me").last).to_contain_text(suggestion["label"])

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert focused(page) == "launcher"
    assert csp_violations(page) == []  # the host page's strict CSP lets the widget work


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(320, 640, 1), (640, 360, 2)],  # a 320 px phone; a 1280×720 screen zoomed to 200 %
    ids=["320px", "zoom200"],
)
def test_panel_fits_small_and_zoomed_viewports(
    browser: Browser, axe_source: str, host_site: HostSite, crieur: str,
    width: int, height: int, scale: int,
) -> None:  # fmt: skip
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale, locale="fr-FR"
    )
    context.add_init_script(WATCH)
    try:
        page = context.new_page()
        page.goto(host_site.url + "/")
        launcher = page.locator(f"{HOST} .launcher")
        box = launcher.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        launcher.click()
        ask(page, "https://www.exemple.fr/" + "tres-long-chemin-sans-espace-" * 6)
        overflow = page.evaluate(
            """() => {
              const root = document.querySelector("crieur-assistant").shadowRoot;
              const panel = root.querySelector(".panel");
              const rect = panel.getBoundingClientRect();
              let right = 0, left = Infinity;
              for (const el of root.querySelectorAll(".panel *:not(.sr-only)")) {
                const r = el.getBoundingClientRect();
                if (r.width) { right = Math.max(right, r.right); left = Math.min(left, r.left); }
              }
              return {
                panelLeft: rect.left, panelRight: rect.right, width: innerWidth,
                contentLeft: left, contentRight: right,
                panelScroll: panel.scrollWidth - panel.clientWidth,
                pageScroll: document.documentElement.scrollWidth - innerWidth,
              };
            }"""
        )
        assert overflow["panelLeft"] >= 0 and overflow["panelRight"] <= width, overflow
        assert overflow["contentLeft"] >= 0 and overflow["contentRight"] <= width, overflow
        assert overflow["panelScroll"] <= 0, overflow
        send = page.get_by_role("button", name="Envoyer")
        send.scroll_into_view_if_needed()
        expect(send).to_be_in_viewport()
        expect(page.get_by_role("button", name="Fermer l’assistant")).to_be_visible()
        assert csp_violations(page) == []
    finally:
        context.close()


def _hostile_answer(route: Route) -> None:
    route.fulfill(
        status=200,
        content_type="application/json",
        body=json.dumps(
            {
                "text": (
                    'Voici <img src=x onerror="window.__pwned=1"> et **<b>gras</b>** :\n'
                    "- <script>window.__pwned=2</script>\n"
                    "1. javascript:window.__pwned=3 puis https://exemple.fr/page.html.\n"
                    "<a href=javascript:window.__pwned=4>clic</a>"
                ),
                "entry": "x",
                "suggestions": [{"label": "<img src=y onerror=window.__pwned=5>", "payload": "p"}],
                "links": ["javascript:window.__pwned=6", "https://exemple.fr/autre"],
            }
        ),
    )


def test_markup_in_questions_and_answers_is_text(page: Page, crieur: str) -> None:
    page.goto(crieur + "/")
    page.get_by_role("button", name="Ouvrir l’assistant de la mairie").click()
    question = '<img src=q onerror="window.__pwned=7"><script>window.__pwned=8</script>'
    answer = ask(page, question)
    expect(page.locator(f"{HOST} .msg.me").last).to_have_text(re.compile(re.escape(question)))
    expect(answer).to_be_visible()

    page.route("**/api/chat", _hostile_answer)
    answer = ask(page, "montrez-moi du HTML")
    expect(answer).to_contain_text('Voici <img src=x onerror="window.__pwned=1">')
    expect(answer.locator("strong")).to_have_text("<b>gras</b>")
    expect(answer.locator("ul li").first).to_have_text("<script>window.__pwned=2</script>")
    expect(answer.locator("ol li")).to_contain_text("javascript:window.__pwned=3")
    expect(answer.get_by_role("button")).to_have_text("<img src=y onerror=window.__pwned=5>")
    links = answer.locator("a")
    assert links.evaluate_all("(all) => all.map((a) => a.href)") == [
        "https://exemple.fr/page.html",
        "https://exemple.fr/autre",
    ]
    for number in range(links.count()):
        expect(links.nth(number)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(number)).to_have_attribute("target", "_blank")
    elements = page.evaluate(
        "() => document.querySelector('crieur-assistant').shadowRoot"
        ".querySelectorAll('img, script, b, iframe').length"
    )
    assert elements == 0
    assert page.evaluate("() => window.__pwned") is None
    assert csp_violations(page) == []
