"""Browser tests: Debian's Chromium, driven by Playwright, against the real `crieur run`.

The tools come from the package registries on first use: Chromium with apt-get, axe-core
with npm (into `.cache/npm`, git-ignored). A tool that cannot be installed fails the tests
with a clear message: they never skip silently, since CI runs them with the whole suite.
Everything stays on loopback: `crieur run` on one port, a third-party test site on another.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
NPM_DIR = ROOT / ".cache" / "npm"
AXE = NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_TIMEOUT = 1_200

# Collects Content-Security-Policy violations, and every dialog a script could open.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""

HOST_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Site d'une autre origine</title>
<link rel="stylesheet" href="/hostile.css">
</head>
<body>
<main>
<h1>Site d'une autre origine</h1>
<p>Une page ordinaire d'un site communal, avec <a href="/">un lien</a> avant l'assistant.</p>
</main>
<script src="{crieur}/widget.js" data-commune="Morvelay" defer></script>
</body>
</html>
"""

# CSS a careless CMS theme could have: none of it may reach the widget's shadow root.
HOSTILE_CSS = """
html { font-size: 10px; }
* { line-height: .9; letter-spacing: .2em; color: #ff00ff; }
button, input { display: none !important; }
section, div, p { background: #000; width: 2000px; }
main p { width: auto; background: none; color: #1b1b1b; }
main, h1, a { color: #1b1b1b; }
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium (Playwright) against `crieur run`"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(command, 1, "", str(exc))


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr).strip()[-1_500:]


@pytest.fixture(scope="package")
def chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q"]
    result = _run([*apt, "install", "-y", "chromium"], env=env)
    if result.returncode != 0:  # a fresh machine may have no package lists yet
        _run([*apt, "update"], env=env)
        result = _run([*apt, "install", "-y", "chromium"], env=env)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(
            "The browser tests need Debian's Chromium at /usr/bin/chromium and "
            f"`apt-get install -y chromium` failed (run as root?):\n{_tail(result)}",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="package")
def axe_source() -> str:
    """axe-core's browser bundle, installed from the npm registry once into .cache/npm."""
    if not AXE.exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        (NPM_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
        result = _run(
            ["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund", "axe-core@4"]
        )
        if result.returncode != 0 or not AXE.exists():
            pytest.fail(
                f"The browser tests need axe-core and `npm install axe-core@4` failed:\n"
                f"{_tail(result)}",
                pytrace=False,
            )
    return AXE.read_text(encoding="utf-8")


class HostSite:
    """A third-party website on its own loopback origin, embedding the widget by its tag,
    with a strict CSP of its own and a hostile stylesheet."""

    def __init__(self) -> None:
        self.crieur = ""
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None

    async def _page(self, request: web.Request) -> web.Response:
        csp = (
            f"default-src 'self'; script-src 'self' {self.crieur}; "
            f"connect-src 'self' {self.crieur}; style-src 'self'; img-src 'self'"
        )
        return web.Response(
            text=HOST_PAGE.format(crieur=self.crieur),
            content_type="text/html",
            headers={"Content-Security-Policy": csp},
        )

    async def _css(self, request: web.Request) -> web.Response:
        return web.Response(text=HOSTILE_CSS, content_type="text/css")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/hostile.css", self._css)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.url = "http://127.0.0.1:{}".format(*self._runner.addresses[0][1:2])
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(15):
            pytest.fail("the test site did not start", pytrace=False)
        return self.url

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)


@pytest.fixture(scope="package")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    site.start()
    yield site
    site.stop()


@pytest.fixture(scope="package")
def crieur(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[str]:
    """The real `crieur run` on a free loopback port, allowing the test site's origin."""
    tmp = tmp_path_factory.mktemp("crieur-browser")
    config = tmp / "crieur.toml"
    config.write_text(
        f'[web]\nhost = "127.0.0.1"\nport = 0\nallowed_origins = ["{host_site.url}"]\n',
        encoding="utf-8",
    )
    # /api/push/* is played by the tests (no push service offline): Web Push stays off here
    env = {**os.environ, "CRIEUR_DATA_DIR": str(tmp / "data"), "CRIEUR_WEBPUSH_ENABLED": "false"}
    env.pop("CRIEUR_CONFIG", None)
    process, url = start_crieur(config, env)
    host_site.crieur = url
    yield url
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, axe_source: str) -> Iterator[BrowserContext]:
    """A fresh profile (no storage) with axe-core and the CSP watcher in every page."""
    created = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    created.add_init_script(axe_source)  # init scripts are not subject to the page's CSP
    created.add_init_script(WATCH)
    created.set_default_timeout(10_000)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# Questions that, with the example pack, end in "I don't know" with close entries offered.
SUGGESTING = ("poubelle square", "déchets square", "papiers square", "poubelle parc")


@pytest.fixture(scope="package")
def suggesting_question(crieur: str) -> tuple[str, dict[str, str]]:
    """A question the example pack answers with suggestions, and its first suggestion."""
    from tests.browser.widget import chat

    for number, question in enumerate(SUGGESTING):
        body = chat(crieur, f"probe-{number}", question)
        if body["suggestions"]:
            return question, body["suggestions"][0]
    raise AssertionError(f"none of {SUGGESTING} gets suggestions from the example pack")


def start_crieur(config: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`crieur run` with this configuration, and the URL it serves (fails the test if not)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    url = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not url:
        line = process.stdout.readline()
        if not line:
            break
        if "http://" in line:
            url = line.strip().split()[-1]
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        stderr = process.stderr.read() if process.stderr else ""
        pytest.fail(f"crieur run did not start:\n{stderr[-2_000:]}", pytrace=False)
    return process, url
