"""axe-core (WCAG 2.1 A/AA rules and best practices) finds nothing on the widget, in its
shadow root, on a third-party page, nor on Crieur's own demo and /abonnement pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from knowledge.snapshot import Knowledge
from tests.browser.conftest import HostSite
from tests.browser.widget import HOST, ask, axe, csp_violations


def _no_violations(name: str, results: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(
            f"\naxe-core on {name}: {len(results['violations'])} violations, "
            f"{results['passes']} rules passed, {results['incomplete']} to review by hand"
        )
    details = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in results["violations"]
    )
    assert results["violations"] == [], details


def _converse(page: Page, knowledge: Knowledge, suggesting: tuple[str, dict[str, str]]) -> None:
    """Fill the log with an answer with a list and links, and one with suggestions."""
    entry = next(e for e in knowledge.pack.faq if e.links and "\n- " in e.answer)
    ask(page, entry.question)
    answer = ask(page, suggesting[0])
    expect(answer.get_by_role("button").first).to_be_visible()


def test_widget_in_a_third_party_page(
    page: Page,
    host_site: HostSite,
    crieur: str,
    example_knowledge: Knowledge,
    suggesting_question: tuple[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    page.goto(host_site.url + "/")
    expect(page.locator(f"{HOST} .launcher")).to_be_visible()
    _no_violations("the closed widget (third-party page)", axe(page, HOST), capsys)
    page.locator(f"{HOST} .launcher").click()
    _converse(page, example_knowledge, suggesting_question)
    _no_violations("the open widget with answers (third-party page)", axe(page, HOST), capsys)
    assert csp_violations(page) == []


def test_demo_page(
    page: Page,
    crieur: str,
    example_knowledge: Knowledge,
    suggesting_question: tuple[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    page.goto(crieur + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Morvelay")
    expect(page.locator(f"{HOST} .launcher")).to_be_visible()
    _no_violations("the demo page", axe(page), capsys)
    page.get_by_role("button", name="Ouvrir l’assistant de la mairie").click()
    _converse(page, example_knowledge, suggesting_question)
    _no_violations("the demo page with the widget open", axe(page), capsys)
    assert csp_violations(page) == []


def test_subscription_page_opened_from_another_site(
    context: BrowserContext,
    page: Page,
    host_site: HostSite,
    crieur: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page.goto(host_site.url + "/")
    page.locator(f"{HOST} .launcher").click()
    link = page.get_by_role("link", name="Recevoir les alertes sur cet appareil")
    expect(link).to_have_attribute("href", crieur + "/abonnement")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_contain_text("nouvelle fenêtre")
    with context.expect_page() as opened:
        link.click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url == crieur + "/abonnement"
    expect(popup.get_by_role("region", name="Assistant de la mairie de Morvelay")).to_be_visible()
    expect(popup.locator(f"{HOST} .launcher")).to_have_count(0)
    alerts = popup.get_by_role("button", name="Recevoir les alertes sur cet appareil")
    expect(alerts).to_be_visible()
    _no_violations("the /abonnement page", axe(popup), capsys)
    assert csp_violations(popup) == []
