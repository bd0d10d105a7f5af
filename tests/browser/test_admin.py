"""The agents' back-office (/admin) in a real browser, against its own `crieur run`.

An administrator account is made with `crieur admin create-user` on the same data
directory; the agent logs in with the keyboard, edits a FAQ answer, and the widget gives the
new answer at once (no restart). axe-core must find nothing on any back-office page; a
forged form is refused; markup typed into an answer stays text in the widget.

Why a dedicated `crieur run` (not the package's `crieur` fixture): these tests change the
served pack (FAQ answers), post announcements and create accounts, which the other browser
tests must not see.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Dialog, Locator, Page, Route, expect

from knowledge.pack.models import FaqEntry
from knowledge.snapshot import Knowledge
from tests.browser.conftest import ROOT, start_crieur
from tests.browser.widget import HOST, ask, axe, chat, csp_violations

USERNAME = "chef.service"
PASSWORD = "un-mot-de-passe-tres-solide"
# Questions no entry of the example pack answers: they fill "Questions des habitants".
UNANSWERED = (
    "Quand passe le marchand de glaces ambulant ?",
    "À quelle heure passe le marchand de glaces ?",
    "Peut-on faire voler un cerf-volant géant au stade ?",
)
XSS_ANSWER = (
    "Réponse piégée : <script>window.__pwned=1;alert(1)</script> et "
    '<img src=x onerror="window.__pwned=2"> puis <b>gras</b> [lien](javascript:window.__pwned=3)'
)


@dataclass
class Backoffice:
    url: str
    data: Path
    process: subprocess.Popen[str]
    cli_output: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def admin(self) -> str:
        return self.url + "/admin"


def _env(data: Path) -> dict[str, str]:
    env = {**os.environ, "CRIEUR_DATA_DIR": str(data), "CRIEUR_WEBPUSH_ENABLED": "false"}
    env.pop("CRIEUR_CONFIG", None)
    return env


@pytest.fixture(scope="module")
def backoffice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backoffice]:
    """`crieur admin create-user` then `crieur run`, both on one fresh data directory."""
    tmp = tmp_path_factory.mktemp("crieur-admin")
    config = tmp / "crieur.toml"
    config.write_text('[web]\nhost = "127.0.0.1"\nport = 0\n', encoding="utf-8")
    env = _env(tmp / "data")
    started = time.monotonic()
    # First the CLI: it creates (and migrates) the store that `crieur run` then opens.
    created = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "create-user", USERNAME, "--role", "admin",
         "--password-stdin", "--config", str(config)],
        input=PASSWORD + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert f"Compte « {USERNAME} » créé (rôle : administrateur)." in created.stdout
    cli_seconds = time.monotonic() - started
    process, url = start_crieur(config, env)
    site = Backoffice(url, tmp / "data", process, created.stdout)
    site.timings = {"cli": cli_seconds, "run": time.monotonic() - started - cli_seconds}
    for number, question in enumerate(UNANSWERED):  # recorded now, flushed within a second
        chat(url, f"habitant-{number}", question)
    yield site
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Audit:
    """axe-core and the CSP watcher on each page; every finding is kept, so one run reports
    all the pages with violations, then `assert_clean` fails with the whole list."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.findings: list[str] = []

    def check(self, page: Page, name: str) -> None:
        results: dict[str, Any] = axe(page)
        blocked = csp_violations(page)
        with self.capsys.disabled():
            print(
                f"\naxe-core on {name}: {len(results['violations'])} violations, "
                f"{results['passes']} rules passed, {results['incomplete']} to review by hand"
            )
        for violation in results["violations"]:
            nodes = "\n      ".join(violation["nodes"])
            self.findings.append(
                f"[{name}] {page.url}\n  {violation['id']} ({violation['impact']}): "
                f"{violation['help']}\n      {nodes}"
            )
        for item in blocked:
            self.findings.append(f"[{name}] {page.url}\n  CSP blocked: {item}")

    def assert_clean(self) -> None:
        assert self.findings == [], "\n".join(self.findings)


@pytest.fixture
def audit(capsys: pytest.CaptureFixture[str]) -> Audit:
    return Audit(capsys)


def _entry_path(entry: FaqEntry) -> str:
    return f"/admin/faq/entree/{entry.id}"


def log_in(page: Page, site: Backoffice) -> None:
    """Log in through the form (mouse-free but not keystroke by keystroke)."""
    page.goto(site.admin + "/connexion")
    page.get_by_role("textbox", name="Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def open_entry(page: Page, entry: FaqEntry) -> None:
    """From any page: the menu, the FAQ list, then the entry's edit form."""
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Foire aux questions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Foire aux questions")
    page.get_by_role("link", name=entry.question, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Modifier l'entrée « {entry.id} »")


def answer_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name=re.compile(r"^Réponse"))


def save(page: Page, path: str) -> int:
    """Press Enregistrer (with the keyboard); the status of the POST."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and urllib.parse.urlsplit(r.url).path == path
    ) as posted:
        page.get_by_role("button", name="Enregistrer").focus()
        page.keyboard.press("Enter")
    status: int = posted.value.status
    return status


def widget_answer(page: Page, site: Backoffice, question: str) -> Locator:
    page.goto(site.url + "/")
    page.get_by_role("button", name="Ouvrir l’assistant de la mairie").click()
    return ask(page, question)


def test_cli_account_logs_in_with_the_keyboard(
    page: Page, backoffice: Backoffice, audit: Audit, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(
            f"\nbackoffice: create-user {backoffice.timings['cli']:.2f} s, "
            f"crieur run ready {backoffice.timings['run']:.2f} s"
        )
    response = page.goto(backoffice.admin + "/faq")
    assert response is not None and response.status == 200
    expect(page).to_have_url(backoffice.admin + "/connexion?suivant=/admin/faq")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    audit.check(page, "login")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("textbox", name="Identifiant").fill(USERNAME)
        page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
        page.keyboard.press("Enter")
    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    audit.check(page, "login with an error")

    page.goto(backoffice.admin + "/faq")  # back to the redirect, keyboard only from here
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("textbox", name="Identifiant")).to_be_focused()
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Se connecter")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(backoffice.admin + "/faq")  # back where the agent was going
    expect(page.get_by_role("heading", level=1)).to_have_text("Foire aux questions")
    expect(page.locator(".entete")).to_contain_text(f"Connecté(e) : {USERNAME} (administrateur)")

    page.goto(backoffice.admin + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    audit.check(page, "dashboard")
    audit.assert_clean()


def test_an_edited_answer_is_served_at_once(
    page: Page,
    context: BrowserContext,
    backoffice: Backoffice,
    example_knowledge: Knowledge,
    example_pack: Path,
    audit: Audit,
) -> None:
    entry = example_knowledge.pack.faq[0]
    before = chat(backoffice.url, "avant", entry.question)
    assert before["entry"] == entry.id  # the bot answers this question with this entry
    marker = "horaires-modifies-42"
    new_answer = (
        f"Nouvelle réponse ({marker}) : l'état civil est **au rez-de-chaussée**.\n"
        "- Le lundi de 9 h à 12 h\n"
        "- Le jeudi de 14 h à 18 h"
    )

    log_in(page, backoffice)
    open_entry(page, entry)
    audit.check(page, "FAQ edit")
    page.get_by_role("link", name="Retour à la liste").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("entrées"))).to_be_visible()
    audit.check(page, "FAQ list")
    page.get_by_role("searchbox", name="Mots à chercher").fill("acte de naissance")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=entry.question, exact=True)).to_be_visible()
    audit.check(page, "FAQ list searched")
    page.get_by_role("link", name=entry.question, exact=True).click()

    # A validation error first: the question emptied, the new answer kept in the form.
    page.get_by_role("textbox", name=re.compile(r"^Question")).fill("")
    answer_box(page).fill(new_answer)
    assert save(page, _entry_path(entry)) == 422
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 champ à corriger")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#question")
    expect(page.get_by_role("textbox", name=re.compile(r"^Question"))).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(answer_box(page)).to_have_value(new_answer)
    audit.check(page, "FAQ edit with a validation error")

    page.get_by_role("textbox", name=re.compile(r"^Question")).fill(entry.question)
    assert save(page, _entry_path(entry)) == 303
    expect(page.get_by_role("status")).to_have_text(
        "L'entrée a été enregistrée : le bot répond déjà avec cette version."
    )
    expect(answer_box(page)).to_have_value(new_answer)
    expect(page.locator(".apercu .bulle strong")).to_have_text("au rez-de-chaussée")
    audit.check(page, "FAQ edit after saving")

    # "Tester une question", from the FAQ list's form.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Foire aux questions"
    ).click()
    page.get_by_role("textbox", name="Question d'un habitant").fill(entry.question)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tester une question")
    expect(page.locator("main")).to_contain_text(
        f"Le bot répond avec l'entrée « {entry.question} »"
    )
    expect(page.locator("main .bulle")).to_contain_text(f"Nouvelle réponse ({marker})")
    audit.check(page, "tester une question (answered)")
    page.get_by_role("textbox", name="Question d'un habitant").fill(UNANSWERED[2])
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("Aucune entrée de la FAQ n'atteint le seuil")
    audit.check(page, "tester une question (not answered)")

    # Residents get the new answer: from the widget on the demo page, and from the API.
    widget = context.new_page()
    answer = widget_answer(widget, backoffice, entry.question)
    expect(answer).to_contain_text(
        f"Nouvelle réponse ({marker}) : l'état civil est au rez-de-chaussée."
    )
    items = answer.locator("li")
    expect(items.nth(0)).to_have_text("Le lundi de 9 h à 12 h")
    expect(items.nth(1)).to_have_text("Le jeudi de 14 h à 18 h")
    after = chat(backoffice.url, "apres", entry.question)
    assert after["entry"] == entry.id
    assert after["text"].startswith(new_answer), after["text"]

    # The edit landed in the data directory's copy of the pack, not in the example pack.
    assert marker in (backoffice.data / "pack" / "faq.yaml").read_text(encoding="utf-8")
    assert marker not in (example_pack / "faq.yaml").read_text(encoding="utf-8")
    audit.assert_clean()


def test_markup_typed_in_an_answer_is_text_in_the_widget(
    page: Page, context: BrowserContext, backoffice: Backoffice, example_knowledge: Knowledge
) -> None:
    entry = example_knowledge.pack.faq[1]
    dialogs: list[str] = []

    def opened(dialog: Dialog) -> None:  # alert(), confirm()… : a script ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    log_in(page, backoffice)
    open_entry(page, entry)
    answer_box(page).fill(XSS_ANSWER)
    assert save(page, _entry_path(entry)) == 303
    expect(page.get_by_role("status")).to_contain_text("L'entrée a été enregistrée")
    preview = page.locator(".apercu .bulle")
    expect(preview).to_contain_text("<script>window.__pwned=1;alert(1)</script>")
    expect(preview).to_contain_text('<img src=x onerror="window.__pwned=2">')
    assert preview.locator("script, img, b").count() == 0
    assert preview.locator("a[href^='javascript']").count() == 0

    widget = context.new_page()
    widget.on("dialog", opened)
    answer = widget_answer(widget, backoffice, entry.question)
    expect(answer).to_contain_text("<script>window.__pwned=1;alert(1)</script>")
    expect(answer).to_contain_text('<img src=x onerror="window.__pwned=2"> puis <b>gras</b>')
    elements = widget.evaluate(
        "() => document.querySelector('crieur-assistant').shadowRoot"
        ".querySelectorAll('script, img, b, iframe, a[href^=\"javascript\"]').length"
    )
    assert elements == 0
    assert widget.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert csp_violations(widget) == []
    assert chat(backoffice.url, "xss", entry.question)["text"].startswith(XSS_ANSWER)
    expect(widget.locator(f"{HOST} .msg.bot").last).to_be_visible()


FORGED_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Gagnez un vélo</title></head>
<body><main><h1>Gagnez un vélo</h1>
<form method="post" action="{action}">
<input type="hidden" name="question" value="{question}">
<input type="hidden" name="answer" value="Réponse piratée par un site tiers.">
<input type="hidden" name="csrf" value="jeton-devine">
<button type="submit">Participer</button>
</form></main></body></html>
"""


def test_a_forged_form_post_is_refused(
    page: Page,
    context: BrowserContext,
    backoffice: Backoffice,
    example_knowledge: Knowledge,
    audit: Audit,
) -> None:
    entry = example_knowledge.pack.faq[2]
    before = chat(backoffice.url, "csrf-avant", entry.question)["text"]
    log_in(page, backoffice)
    path = _entry_path(entry)

    # A page of another origin on the same site (loopback, another port, played by the
    # test: nothing is listening there), so the SameSite=Strict session cookie goes along.
    trap = "http://127.0.0.1:9/concours"

    def forged(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html",
            body=FORGED_PAGE.format(
                action=backoffice.url + path, question=html.escape(entry.question)
            ),
        )

    page.route(trap, forged)
    page.goto(trap)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Participer").click()
    assert posted.value.status == 403
    # 403, not a redirect to the login page: the cookie went along, the token did not match
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    expect(page.locator("main")).to_contain_text("Le jeton de sécurité du formulaire")
    audit.check(page, "403 page (forged form)")

    # The same post from the agent's own browser, without a token or with an empty one.
    for fields in ({}, {"csrf": ""}):
        refused = context.request.post(
            backoffice.url + path,
            form={"question": entry.question, "answer": "Réponse piratée.", **fields},
            max_redirects=0,
        )
        assert refused.status == 403, (fields, refused.status)
    sent = context.request.post(
        backoffice.admin + "/annonces/envoyer",
        form={"texte": "Annonce piratée", "theme": "alertes", "quand": "maintenant",
              "csrf": "jeton-devine"},
        max_redirects=0,
    )  # fmt: skip
    assert sent.status == 403

    # Nothing changed: same answer for residents, same text in the form, no announcement.
    assert chat(backoffice.url, "csrf-apres", entry.question)["text"] == before
    page.goto(backoffice.url + path)
    expect(answer_box(page)).to_have_value(entry.answer)
    page.goto(backoffice.admin + "/annonces")
    expect(page.locator("main")).not_to_contain_text("Annonce piratée")
    audit.assert_clean()


def _questions_page(page: Page, site: Backoffice) -> None:
    """The questions list, once the recorder has flushed the residents' questions (it
    writes every second): reloaded until the groups are there, within 5 s."""
    deadline = time.monotonic() + 5
    while True:
        page.goto(site.admin + "/questions")
        if page.locator("li.groupe").count() >= 2 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions des habitants")
    groups = page.get_by_role("heading", level=2, name=re.compile("marchand de glaces"))
    expect(groups.first).to_be_visible()


def test_every_other_page_has_no_violations(
    page: Page, backoffice: Backoffice, example_knowledge: Knowledge, audit: Audit
) -> None:
    log_in(page, backoffice)
    menu = page.get_by_role("navigation", name="Menu principal")

    _questions_page(page, backoffice)
    expect(menu.get_by_role("link", name="Questions des habitants")).to_have_attribute(
        "aria-current", "page"
    )
    audit.check(page, "questions list")

    page.goto(backoffice.admin + "/")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    audit.check(page, "dashboard with questions")

    menu.get_by_role("link", name="Foire aux questions").click()
    page.get_by_role("link", name="Nouvelle entrée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle entrée")
    audit.check(page, "FAQ new entry")
    page.goto(backoffice.admin + f"/faq/entree/{example_knowledge.pack.faq[3].id}/supprimer")
    expect(page.get_by_role("button", name="Supprimer définitivement")).to_be_visible()
    audit.check(page, "FAQ delete confirmation")

    # Announcements: compose (empty, then with errors), audience and preview, detail, list.
    menu.get_by_role("link", name="Annonces").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annonces")
    audit.check(page, "broadcasts compose (nothing sent yet)")
    compute = page.get_by_role("button", name="Calculer l'audience et voir l'aperçu")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        compute.click()
    assert posted.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("Texte de l'annonce : le texte")
    audit.check(page, "broadcasts compose with an error")
    page.get_by_role("textbox", name=re.compile(r"^Texte de l'annonce")).fill(
        "Coupure d'eau **demain** rue des Lilas, de 8 h à 12 h.\n- Prévoyez des réserves\n"
        "- Détails : https://www.exemple.fr/eau"
    )
    page.get_by_role("combobox", name="Thème").select_option("alertes")
    compute.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier l'annonce avant l'envoi")
    expect(page.locator(".chiffre-cle")).to_contain_text("abonné")
    audit.check(page, "broadcast audience and preview")
    page.get_by_role("button", name="Envoyer maintenant").click()
    expect(page.get_by_role("status")).to_have_text("L'annonce a été confiée à la file d'envoi.")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Annonce n° \d+$"))
    audit.check(page, "broadcast detail")
    page.get_by_role("link", name="Retour aux annonces").click()
    expect(page.get_by_role("region", name="Tableau des annonces, défilable")).to_be_visible()
    audit.check(page, "broadcasts list")

    # Agents: the list, a creation refused then accepted, a deletion's confirmation.
    menu.get_by_role("link", name="Comptes des agents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes des agents")
    audit.check(page, "agents")
    form = page.locator("form", has=page.get_by_role("button", name="Créer le compte"))
    form.get_by_role("textbox", name=re.compile(r"^Identifiant")).fill("agent.accueil")
    form.get_by_label(re.compile(r"^Mot de passe")).fill("mot-de-passe-accueil")
    form.get_by_label(re.compile(r"^Confirmation")).fill("autre-mot-de-passe")
    form.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("alert")).to_contain_text("1 champ à corriger")
    audit.check(page, "agents with a validation error")
    form.get_by_label(re.compile(r"^Mot de passe")).fill("mot-de-passe-accueil")
    form.get_by_label(re.compile(r"^Confirmation")).fill("mot-de-passe-accueil")
    form.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("status")).to_have_text("Le compte a été créé.")
    expect(page.get_by_role("row", name=re.compile("agent.accueil"))).to_be_visible()
    audit.check(page, "agents with two accounts")
    page.get_by_role("link", name="Supprimer le compte agent.accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Supprimer le compte « agent.accueil »"
    )
    audit.check(page, "agent delete confirmation")

    for path in ("/nexiste-pas", "/faq/entree/entree-inconnue"):
        response = page.goto(backoffice.admin + path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        audit.check(page, f"404 ({path})")
    audit.assert_clean()
