"""FAQ editing in the back-office: saved to faq.yaml with history, live without a restart."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest
import yaml

from tests.integration.test_admin_support import START, BackOffice, audit, back_office

XSS = "<script>alert('x')</script>"


@pytest.fixture
async def office(pack_copy: Path, tmp_path: Path) -> AsyncIterator[BackOffice]:
    async with back_office(pack_copy, tmp_path) as built:
        await built.login()
        yield built


def _form(office: BackOffice, entry_id: str, **changes: str) -> dict[str, str]:
    entry = next(e for e in office.knowledge.pack.faq if e.id == entry_id)
    form = {
        "question": entry.question,
        "variants": "\n".join(entry.variants),
        "answer": entry.answer,
        "tags": ", ".join(entry.tags),
        "links": "\n".join(entry.links),
    }
    form.update(changes)
    return form


async def _edit_page(office: BackOffice, entry_id: str) -> tuple[str, str]:
    """The edit page's HTML and the fingerprint it carries."""
    page = await office.client.get(f"/admin/faq/entree/{entry_id}")
    assert page.status == 200
    html = await page.text()
    found = re.search(r'name="empreinte" value="([^"]*)"', html)
    assert found
    return html, found.group(1)


async def test_list_search_and_pages_are_accessible(office: BackOffice) -> None:
    page = await office.client.get("/admin/faq")
    html = await page.text()
    assert page.status == 200
    audit(html)
    assert len(re.findall(r'href="/admin/faq/entree/', html)) == len(office.knowledge.pack.faq)
    found = await office.client.get("/admin/faq", params={"q": "mariage"})
    html = await found.text()
    assert 'href="/admin/faq/entree/mariage"' in html
    assert 'href="/admin/faq/entree/acte-naissance"' not in html
    for path in (
        "/admin/faq/entree/mariage",
        "/admin/faq/nouvelle",
        "/admin/faq/entree/mariage/supprimer",
    ):
        response = await office.client.get(path)
        assert response.status == 200, path
        audit(await response.text())


async def test_an_edit_is_saved_kept_in_history_and_answered_at_once(office: BackOffice) -> None:
    faq = office.pack / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    _, expected = await _edit_page(office, "mariage")
    answer = (
        "Prenez **rendez-vous** à l'état civil.\n- pièce d'identité ;\n- justificatif « récent »."
    )
    form = _form(office, "mariage", answer=answer, empreinte=expected)
    form["variants"] += "\nOn veut se pacser ou se marier, on fait comment"
    response = await office.post("/admin/faq/entree/mariage", form)
    assert response.status == 303
    assert response.headers["Location"] == "/admin/faq/entree/mariage?ok=enregistree"
    after = faq.read_text(encoding="utf-8")
    assert (
        "  answer: |\n    Prenez **rendez-vous** à l'état civil.\n    - pièce d'identité ;" in after
    )
    assert "justificatif « récent »" in after  # unicode kept, not escaped
    assert before.splitlines()[:15] == after.splitlines()[:15]  # header comments untouched
    data = yaml.safe_load(after)
    assert next(e for e in data if e["id"] == "mariage")["answer"].strip() == answer
    history = list((office.pack / ".historique").glob("faq-*.yaml"))
    assert len(history) == 1 and history[0].read_text(encoding="utf-8") == before
    assert office.reloads == ["ok"]
    reply = office.knowledge.answer("Comment préparer un mariage civil à Morvelay ?", START)
    assert reply.source == "mariage" and reply.text == answer
    variant = office.knowledge.answer("On veut se pacser ou se marier, on fait comment", START)
    assert variant.source == "mariage"
    page = await office.client.get(response.headers["Location"])
    html = await page.text()
    assert "le bot répond déjà avec cette version" in html
    assert "<strong>rendez-vous</strong>" in html  # the preview renders the light Markdown


async def test_validation_errors_are_shown_next_to_the_fields(office: BackOffice) -> None:
    faq = office.pack / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    form = _form(office, "mariage", question="   ", links="ftp://exemple.fr", answer="a" * 4_001)
    response = await office.post("/admin/faq/entree/mariage", form)
    assert response.status == 422
    html = await response.text()
    audit(html)
    assert 'id="question-erreur"' in html and "ne doit pas être vide" in html
    assert 'aria-describedby="question-aide question-erreur" aria-invalid="true"' in html
    assert "trop long : 4000 caractères au plus" in html
    assert 'lien invalide "ftp://exemple.fr"' in unescape(html)
    assert 'href="#question"' in html  # the summary links to the field
    assert faq.read_text(encoding="utf-8") == before
    assert not (office.pack / ".historique").exists() and office.reloads == []


async def test_new_entries_are_created_then_deleted(office: BackOffice) -> None:
    prefilled = await office.client.get(
        "/admin/faq/nouvelle", params={"question": "Où garer mon camping-car ?"}
    )
    assert 'value="Où garer mon camping-car ?"' in await prefilled.text()
    form = {
        "id": "",
        "question": "Où garer mon camping-car ?",
        "variants": "aire de camping-car\nstationnement camping car",
        "answer": "L'aire de camping-cars est **route du Lac**, gratuite, 6 places.",
        "tags": "tourisme, stationnement",
        "links": "https://www.morvelay.example/camping-car",
    }
    taken = await office.post("/admin/faq/nouvelle", {**form, "id": "mariage"})
    assert taken.status == 422 and "déjà utilisé" in await taken.text()
    bad_id = await office.post("/admin/faq/nouvelle", {**form, "id": "Pas Un Id"})
    assert bad_id.status == 422 and "identifiant valide" in await bad_id.text()
    created = await office.post("/admin/faq/nouvelle", form)
    assert created.status == 303
    assert created.headers["Location"] == "/admin/faq/entree/ou-garer-mon-camping-car?ok=creee"
    reply = office.knowledge.answer("stationnement camping car", START)
    assert reply.source == "ou-garer-mon-camping-car"
    text = (office.pack / "faq.yaml").read_text(encoding="utf-8")
    assert text.rstrip().endswith("links: ['https://www.morvelay.example/camping-car']")
    _, expected = await _edit_page(office, "ou-garer-mon-camping-car")
    deleted = await office.post(
        "/admin/faq/entree/ou-garer-mon-camping-car/supprimer", {"empreinte": expected}
    )
    assert deleted.status == 303 and deleted.headers["Location"] == "/admin/faq?ok=supprimee"
    assert "camping-car" not in (office.pack / "faq.yaml").read_text(encoding="utf-8")
    assert office.knowledge.answer("stationnement camping car", START).source != (
        "ou-garer-mon-camping-car"
    )
    assert len(list((office.pack / ".historique").iterdir())) == 2
    gone = await office.client.get("/admin/faq/entree/ou-garer-mon-camping-car")
    assert gone.status == 404


async def test_a_change_that_breaks_the_pack_is_rolled_back(office: BackOffice) -> None:
    faq = office.pack / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    commune = office.pack / "commune.yaml"
    commune.write_text(commune.read_text(encoding="utf-8") + "\nclé_inconnue: 1\n", "utf-8")
    response = await office.post(
        "/admin/faq/entree/mariage", _form(office, "mariage", answer="Nouveau")
    )
    assert response.status == 422
    html = await response.text()
    assert "le bot continue de répondre comme avant" in html and "commune.yaml" in html
    assert faq.read_text(encoding="utf-8") == before
    assert not list((office.pack / ".historique").glob("*.yaml"))
    assert office.knowledge.answer("mariage civil à Morvelay", START).text != "Nouveau"


async def test_a_concurrent_edit_is_not_overwritten(office: BackOffice) -> None:
    _, expected = await _edit_page(office, "mariage")
    first = await office.post(
        "/admin/faq/entree/mariage",
        _form(office, "mariage", answer="Version A", empreinte=expected),
    )
    assert first.status == 303
    second = await office.post(
        "/admin/faq/entree/mariage",
        _form(office, "mariage", answer="Version B", empreinte=expected),
    )
    assert second.status == 409
    assert "modifiée par quelqu'un d'autre" in unescape(await second.text())
    assert "Version A" in (office.pack / "faq.yaml").read_text(encoding="utf-8")


async def test_script_in_questions_and_answers_is_shown_as_text(office: BackOffice) -> None:
    form = _form(office, "mariage", question=f"Mariage {XSS} ?", answer=f"Réponse {XSS} **ok**")
    form["variants"] = f"variante {XSS}"
    assert (await office.post("/admin/faq/entree/mariage", form)).status == 303
    for path in (
        "/admin/faq",
        "/admin/faq/entree/mariage",
        "/admin/faq/entree/mariage/supprimer",
        "/admin/faq/tester?question=mariage+script+alert",
        f"/admin/faq/nouvelle?question={XSS}",
        f"/admin/faq?q={XSS}",
    ):
        html = await (await office.client.get(path)).text()
        assert "<script" not in html, path
        assert "&lt;script&gt;" in html, path
    assert XSS in (office.pack / "faq.yaml").read_text(encoding="utf-8")


async def test_the_test_box_shows_scores_and_the_decision(office: BackOffice) -> None:
    page = await office.client.get(
        "/admin/faq/tester", params={"question": "Comment préparer un mariage civil ?"}
    )
    html = await page.text()
    assert page.status == 200
    audit(html)
    assert "Le bot répond avec l'entrée « Comment préparer un mariage civil à Morvelay ? »" in html
    assert re.search(r"<td>0,\d\d</td>", html) and "seuil de 0,41" in html
    nothing = await office.client.get(
        "/admin/faq/tester", params={"question": "capitale de l'Australie"}
    )
    html = await nothing.text()
    assert "Aucune entrée de la FAQ n'atteint le seuil de 0,41" in html
    assert office.knowledge.fallback.split()[0] in html
    too_long = await office.client.get("/admin/faq/tester", params={"question": "a " * 800})
    assert too_long.status == 400 and "1000 caractères au plus" in await too_long.text()


async def test_a_hand_broken_faq_file_is_reported_not_a_crash(office: BackOffice) -> None:
    faq = office.pack / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8") + "\n- id: [cassé\n", "utf-8")
    listing = await office.client.get("/admin/faq")
    assert listing.status == 200
    assert "contient des erreurs" in await listing.text()
    edit = await office.client.get("/admin/faq/entree/mariage")
    assert edit.status == 503 and "contient des erreurs" in await edit.text()
    saved = await office.post("/admin/faq/entree/mariage", _form(office, "mariage"))
    assert saved.status == 422 and "contient des erreurs" in await saved.text()
