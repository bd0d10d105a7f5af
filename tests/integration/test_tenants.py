"""Several communes in one process: their files, their isolation, and changes without restart."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from bot.agents import Agents
from bot.cli import main
from bot.config import Settings, load_settings
from bot.host import Host
from bot.messages import Address
from bot.store import Store
from bot.store.schema import deliveries, subscribers
from bot.subscriptions import Subscriptions
from bot.tenants import read_tenants
from channels.web.admin.security import SESSION_COOKIE
from tests.integration.test_admin_support import csrf_of
from tests.postgres import create_database, drop_database

PASSWORD = "un mot de passe assez long"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def _commune(root: Path, name: str, body: str = "") -> Path:
    pack = root / f"pack-{name}"
    if not pack.exists():
        shutil.copytree(Path(__file__).parents[2] / "knowledge" / "example", pack)
    path = root / "communes" / f"{name}.toml"
    path.write_text(f'[pack]\npath = "../pack-{name}"\n{body}', encoding="utf-8")
    return path


def _settings(root: Path, env: dict[str, str] | None = None) -> Settings:
    (root / "communes").mkdir(exist_ok=True)
    config = root / "crieur.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\n[webpush]\nenabled = false\n[tenants]\ndir = "communes"\n',
        encoding="utf-8",
    )
    return load_settings(config, env=env or {})


def test_each_commune_gets_its_own_store_data_and_accounts(tmp_path: Path) -> None:
    base = _settings(tmp_path)
    _commune(tmp_path, "alpha", '[web]\nwidget_key = "alpha-web"\n')
    _commune(tmp_path, "beta", '[telegram]\nmode = "polling"\n')
    env = {"CRIEUR_TENANT_BETA_TELEGRAM_TOKEN": "123:beta"}
    tenants, refused = read_tenants(base, env)
    assert refused == []
    alpha, beta = tenants
    assert (alpha.id, alpha.key, beta.key) == ("alpha", "alpha-web", "beta")
    assert alpha.settings.storage_url() != beta.settings.storage_url()
    assert alpha.settings.data_path() == tmp_path / "data" / "tenants" / "alpha"
    assert alpha.settings.pack.path == tmp_path / "communes" / ".." / "pack-alpha"
    assert beta.settings.telegram.token == "123:beta" and alpha.settings.telegram.token is None
    assert beta.settings.webpush.enabled is False  # the process's defaults still apply


def test_postgresql_communes_share_the_database_in_schemas_of_their_own(tmp_path: Path) -> None:
    base = _settings(tmp_path, {"CRIEUR_STORAGE_URL": "postgresql://crieur@db/crieur"})
    _commune(tmp_path, "val-d-or")
    (tenant,), _ = read_tenants(base, {})
    assert tenant.settings.storage_url() == "postgresql://crieur@db/crieur"
    assert tenant.settings.storage.schema_name == "commune_val_d_or"


def test_bad_communes_are_refused_by_name_and_the_others_kept(tmp_path: Path) -> None:
    base = _settings(tmp_path)
    _commune(tmp_path, "alpha")
    _commune(tmp_path, "beta", '[web]\nwidget_key = "alpha"\n')
    _commune(tmp_path, "gamma", '[whatsapp]\nphone_number_id = "1234"\n')
    _commune(tmp_path, "delta", "[storage]\nurl = 'sqlite:///x.db'\n")
    (tmp_path / "communes" / "epsilon.toml").write_text("[web]\nport = 9\n", encoding="utf-8")
    (tmp_path / "communes" / "zeta.toml").write_text("[web]\n", encoding="utf-8")
    tenants, refused = read_tenants(base, {})
    assert [t.id for t in tenants] == ["alpha"]
    reasons = {problem.id: problem.reason for problem in refused}
    assert "beta.toml" in reasons["beta"] and "[web.widget_key] « alpha »" in reasons["beta"]
    assert "déjà prise par la commune « alpha »" in reasons["beta"]
    assert "gamma.toml" in reasons["gamma"] and "access_token" in reasons["gamma"]
    assert "CRIEUR_TENANT_GAMMA_WHATSAPP" in reasons["gamma"]
    assert "[storage] se règle pour tout le serveur" in reasons["delta"]
    assert "[web] port se règle pour tout le serveur" in reasons["epsilon"]
    assert "[pack] path manquante" in reasons["zeta"]


def test_commands_act_on_the_commune_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(tmp_path)
    _commune(tmp_path, "alpha")
    config = str(tmp_path / "crieur.toml")
    monkeypatch.setenv("CRIEUR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    argv = ["admin", "create-user", "agente", "--password-stdin", "--config", config]
    assert main([*argv, "--tenant", "alpha"]) == 0
    assert (tmp_path / "data" / "tenants" / "alpha" / "crieur.db").is_file()
    assert not (tmp_path / "data" / "crieur.db").exists()
    assert main(["gdpr", "registre", "--config", config, "--tenant", "alpha"]) == 0
    assert "Morvelay" in capsys.readouterr().out
    _commune(tmp_path, "beta")
    (tmp_path / "pack-beta" / "commune.yaml").write_text(
        (tmp_path / "pack-beta" / "commune.yaml")
        .read_text(encoding="utf-8")
        .replace("Morvelay", "Bourg-Lointain"),
        encoding="utf-8",
    )
    assert main(["gdpr", "registre", "--config", config]) == 0  # every commune's entry
    both = capsys.readouterr().out
    assert "Morvelay" in both and "Bourg-Lointain" in both
    assert main(["gdpr", "registre", "--config", config, "--tenant", "omega"]) == 2
    assert "commune inconnue : omega" in capsys.readouterr().err


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Host, TestClient, Path]]:
    settings = _settings(tmp_path)
    _commune(tmp_path, "alpha")
    _commune(tmp_path, "beta")
    host = Host(settings)
    await host.sync()
    client = TestClient(TestServer(host.web_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        yield host, client, tmp_path
    finally:
        await client.close()
        await host.stop()


def _store(host: Host, tenant: str) -> Store:
    store = host.running[tenant].app.store
    assert store is not None
    return store


async def _login(client: TestClient, tenant: str, username: str) -> None:
    page = await client.get(f"/t/{tenant}/admin/connexion")
    response = await client.post(
        f"/t/{tenant}/admin/connexion",
        data={"csrf": csrf_of(await page.text()), "identifiant": username,
              "mot_de_passe": PASSWORD},
        allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303 and response.headers["Location"] == f"/t/{tenant}/admin/"


async def test_an_agent_of_one_commune_cannot_reach_another_communes_residents(
    served: tuple[Host, TestClient, Path],
) -> None:
    host, client, _ = served
    await Agents(_store(host, "alpha")).create("agent-alpha", PASSWORD, "admin")
    at = datetime(2026, 11, 20, tzinfo=UTC)
    resident = Address("telegram", "4242")
    await Subscriptions(_store(host, "beta")).subscribe(resident, "alertes", at, "alertes")
    await _login(client, "alpha", "agent-alpha")

    dashboard = await client.get("/t/alpha/admin/")
    assert dashboard.status == 200
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/t/alpha/admin/"))
    assert SESSION_COOKIE in stolen
    for path in ("/t/beta/admin/", "/t/beta/admin/questions", "/t/beta/admin/annonces"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path  # to beta's own login: no cookie for this path
        assert response.headers["Location"].startswith("/t/beta/admin/connexion")
        forged = await client.get(
            path,
            headers={"Cookie": f"{SESSION_COOKIE}={stolen[SESSION_COOKIE].value}"},
            allow_redirects=False,
        )
        assert forged.status == 303  # beta's store knows no such session
    assert (await client.get("/t/beta/admin/connexion")).status == 200
    login = await client.get("/t/beta/admin/connexion")
    refused = await client.post(
        "/t/beta/admin/connexion",
        data={"csrf": csrf_of(await login.text()), "identifiant": "agent-alpha",
              "mot_de_passe": PASSWORD},
        allow_redirects=False,
    )  # fmt: skip
    assert refused.status != 303 or "connexion" in refused.headers.get("Location", "")

    # A broadcast from alpha's back-office reaches alpha's subscribers only: none.
    form = await client.get("/t/alpha/admin/annonces")
    preview = await client.post(
        "/t/alpha/admin/annonces/apercu",
        data={"csrf": csrf_of(await form.text()), "texte": "Coupure d'eau demain.",
              "theme": "alertes", "secteur": "", "quand": "maintenant", "date": ""},
    )  # fmt: skip
    html = await preview.text()
    assert "atteindra <strong>0</strong> abonné" in html
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(html)}
    sent = await client.post(
        "/t/alpha/admin/annonces/envoyer",
        data={**fields, "action": "envoyer"},
        allow_redirects=False,
    )
    assert sent.status == 303
    for tenant in ("alpha", "beta"):
        async with _store(host, tenant).connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(deliveries)) == 0
    async with _store(host, "alpha").connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(subscribers)) == 0


async def test_each_commune_answers_from_its_own_pack(
    served: tuple[Host, TestClient, Path],
) -> None:
    host, client, root = served
    faq = root / "pack-beta" / "faq.yaml"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace("Morvelay", "Bourg-Lointain"), encoding="utf-8"
    )
    host.running["beta"].app.reload()
    answers = {}
    for tenant in ("alpha", "beta"):
        response = await client.post(
            f"/t/{tenant}/api/chat", json={"session": "s1", "text": "où est la mairie ?"}
        )
        assert response.status == 200
        answers[tenant] = (await response.json())["text"]
    assert "Bourg-Lointain" in answers["beta"] and "Bourg-Lointain" not in answers["alpha"]
    unknown = await client.post("/t/nulle-part/api/chat", json={"session": "s", "text": "x"})
    assert unknown.status == 404 and "inconnue" in (await unknown.json())["error"]
    widget = await client.get("/t/alpha/widget.js")
    assert widget.status == 200


async def test_communes_come_change_and_go_without_a_restart(
    served: tuple[Host, TestClient, Path],
) -> None:
    host, client, root = served
    assert (await client.get("/t/gamma/healthz")).status == 404
    _commune(root, "gamma", '[web]\nwidget_key = "gamma-web"\n')
    await host.sync()
    assert (await client.get("/t/gamma-web/healthz")).status == 200
    health = await (await client.get("/healthz")).json()
    assert health["tenants"] == {"alpha": "alpha", "beta": "beta", "gamma": "gamma-web"}

    _commune(root, "gamma", '[web]\nwidget_key = "gamma-2"\n')  # an edit restarts it
    await host.sync()
    assert (await client.get("/t/gamma-web/healthz")).status == 404
    assert (await client.get("/t/gamma-2/healthz")).status == 200

    # A broken edit is refused and the commune goes on as it was: a typo takes nobody offline.
    _commune(root, "alpha", '[web]\nwidget_key = "gamma-2"\n')
    await host.sync()
    assert "gamma-2" in host.refused["alpha"].reason
    assert host.running["alpha"].tenant.key == "alpha"
    assert (await client.get("/t/alpha/healthz")).status == 200
    assert (await client.get("/t/gamma-2/healthz")).status == 200
    health = await (await client.get("/healthz")).json()
    assert "déjà prise" in health["refused"]["alpha"]

    (root / "communes" / "gamma.toml").unlink()
    (root / "communes" / "alpha.toml").unlink()
    await host.sync()
    assert sorted(host.running) == ["beta"] and host.refused == {}
    assert (await client.get("/t/gamma-2/healthz")).status == 404
    assert (await client.get("/t/beta/healthz")).status == 200


async def test_on_postgresql_each_commune_lives_in_its_own_schema(tmp_path: Path) -> None:
    url = await asyncio.to_thread(create_database)
    try:
        settings = _settings(tmp_path, {"CRIEUR_STORAGE_URL": url})
        _commune(tmp_path, "alpha")
        _commune(tmp_path, "beta")
        host = Host(settings)
        await host.sync()
        try:
            assert sorted(host.running) == ["alpha", "beta"]
            await Agents(_store(host, "alpha")).create("agente", PASSWORD)
            assert [a.username for a in await Agents(_store(host, "alpha")).all()] == ["agente"]
            assert await Agents(_store(host, "beta")).all() == []
            async with _store(host, "alpha").connect() as connection:
                schemas = await connection.scalar(
                    text(
                        "SELECT string_agg(DISTINCT table_schema, ',' ORDER BY table_schema) "
                        "FROM information_schema.tables WHERE table_name = 'agents'"
                    )
                )
            assert schemas == "commune_alpha,commune_beta"
        finally:
            await host.stop()
    finally:
        await asyncio.to_thread(drop_database, url)


async def test_communes_share_their_intercommunalitys_pack_and_see_its_edits(
    served: tuple[Host, TestClient, Path],
) -> None:
    host, client, root = served
    interco = root / "interco"
    interco.mkdir()
    shutil.copy(root / "pack-alpha" / "commune.yaml", interco / "commune.yaml")
    faq = interco / "faq.yaml"
    entry = (
        "- id: renovation-habitat\n  question: Qui conseille pour la rénovation énergétique ?\n"
        "  answer: Le guichet de l'habitat de la communauté de communes, {who}.\n"
    )
    faq.write_text(entry.format(who="un conseiller gratuit"), encoding="utf-8")
    for name in ("alpha", "beta"):
        commune = root / f"pack-{name}" / "commune.yaml"
        commune.write_text(
            commune.read_text(encoding="utf-8") + "inherit: ../interco\n", encoding="utf-8"
        )
    await host.sync()  # the communes' packs changed on disk: both are loaded again

    async def answer() -> dict[str, str]:
        texts = {}
        for tenant in ("alpha", "beta"):
            response = await client.post(
                f"/t/{tenant}/api/chat",
                json={"session": "s", "text": "aide renovation energetique maison"},
            )
            body = await response.json()
            assert body["entry"] == "renovation-habitat", body
            texts[tenant] = body["text"]
        return texts

    assert all("conseiller gratuit" in text for text in (await answer()).values())
    faq.write_text(entry.format(who="permanence le mardi"), encoding="utf-8")
    await host.sync()
    assert all("permanence le mardi" in text for text in (await answer()).values())
    faq.write_text("- id: renovation-habitat\n  question: sans réponse\n", encoding="utf-8")
    await host.sync()  # broken: refused, and the communes keep the last good pack
    assert all("permanence le mardi" in text for text in (await answer()).values())
