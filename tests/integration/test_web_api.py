"""The web channel over real HTTP: answers, a JSON 4xx for every malformed request, the
`push` field, CORS, rate limits, the demo site, the widget and the security headers."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dispatcher import Dispatcher
from bot.messages import Address, Answer, Inbound
from channels.web import create_web_app
from channels.web.api import OriginPolicy, SlidingWindow, client_ip, normalise_origin
from knowledge.snapshot import Knowledge

ALLOWED = "https://www.morvelay.example"
JSON = {"Content-Type": "application/json"}
WIDGET_MAX_GZIPPED = 30 * 1024

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def client(example_knowledge: Knowledge) -> AsyncIterator[TestClient]:
    dispatcher = Dispatcher(lambda: example_knowledge)

    def feeds(zone: str) -> bytes | None:
        return b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" if zone == "vallee" else None

    app = create_web_app(dispatcher.handle, "Morvelay <b>&", max_body_bytes=4_096, feeds=feeds)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


class Recorder:
    """A core stand-in that records what reached it."""

    def __init__(self) -> None:
        self.inbound: list[Inbound] = []

    async def __call__(self, inbound: Inbound) -> Answer:
        self.inbound.append(inbound)
        return Answer("Bonjour", "accueil")


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Builds a client on an app with a recording core and the given keyword options."""
    clients: list[TestClient] = []

    async def make(recorder: Recorder, **options: Any) -> TestClient:
        async def key(request: web.Request) -> web.Response:
            return web.json_response({"publicKey": "BElided"})

        extra = [web.get("/api/push/key", key)]
        app = create_web_app(recorder, "Morvelay", extra_routes=extra, **options)
        test_client = TestClient(TestServer(app, host="127.0.0.1"))
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        await test_client.close()


async def test_chat_answers_from_the_pack(client: TestClient, example_knowledge: Knowledge) -> None:
    entry = example_knowledge.pack.faq[0]
    response = await client.post("/api/chat", json={"session": "abc-1", "text": entry.question})
    assert response.status == 200
    body = await response.json()
    assert body["entry"] == entry.id and body["text"] == entry.answer.strip()
    assert isinstance(body["suggestions"], list)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_fallback_and_suggestion_round_trip(client: TestClient) -> None:
    response = await client.post(
        "/api/chat", json={"session": "s", "text": "capitale de l'Australie"}
    )
    body = await response.json()
    assert response.status == 200 and body["entry"] is None


@pytest.mark.parametrize(
    ("data", "headers", "status"),
    [
        (b"{not json", JSON, 400),
        (b"\xff\xfe", JSON, 400),
        (b"[1, 2]", JSON, 400),
        (b'{"text": "bonjour"}', JSON, 400),
        (b'{"session": "s"}', JSON, 400),
        (b'{"session": "s", "text": 12}', JSON, 400),
        (b'{"session": "../../etc", "text": "x"}', JSON, 400),
        (b'{"session": "s", "text": "x", "push": "a/b"}', JSON, 400),
        (b'{"session": "s", "text": "x", "push": 7}', JSON, 400),
        (b'{"session": "s", "text": "x"}', {"Content-Type": "text/plain"}, 415),
        (
            b'{"session": "s", "text": "' + b"a" * 10_000 + b'"}',
            JSON,
            413,
        ),
    ],
)
async def test_malformed_requests_get_a_json_4xx(
    client: TestClient, data: bytes, headers: dict[str, str], status: int
) -> None:
    response = await client.post("/api/chat", data=data, headers=headers)
    assert response.status == status
    body = await response.json()
    assert body["error"]


async def test_push_field_selects_the_web_push_address(make_client: MakeClient) -> None:
    recorder = Recorder()
    client = await make_client(recorder)
    response = await client.post("/api/chat", json={"session": "s1", "text": "/abonner"})
    assert response.status == 200
    response = await client.post(
        "/api/chat", json={"session": "s1", "text": "/abonner", "push": "dev_ice-1"}
    )
    assert response.status == 200
    response = await client.post("/api/chat", json={"session": "s1", "text": "x", "push": "p" * 65})
    assert response.status == 400 and "push" in (await response.json())["error"]
    assert [i.address for i in recorder.inbound] == [
        Address("web", "s1"),
        Address("webpush", "dev_ice-1"),
    ]


async def test_unknown_push_id_is_answered_as_the_web_session(make_client: MakeClient) -> None:
    recorder = Recorder()

    async def registered(push: str) -> bool:
        return push == "known"

    client = await make_client(recorder, push_registered=registered)
    body = {"session": "s2", "text": "/abonner"}
    response = await client.post("/api/chat", json={**body, "push": "known"})
    assert response.status == 200 and "push" not in await response.json()
    response = await client.post("/api/chat", json={**body, "push": "gone"})
    assert response.status == 200 and (await response.json())["push"] is None
    assert [i.address for i in recorder.inbound] == [
        Address("webpush", "known"),
        Address("web", "s2"),
    ]


async def test_unknown_route_and_method(client: TestClient) -> None:
    response = await client.get("/api/chat")
    assert response.status == 405 and (await response.json())["error"]
    response = await client.get("/nulle-part")
    assert response.status == 404 and (await response.json())["error"]


async def test_demo_page_escapes_the_commune_name_and_embeds_the_widget(
    client: TestClient,
) -> None:
    response = await client.get("/")
    page = await response.text()
    assert response.status == 200 and "Morvelay &lt;b&gt;&amp;" in page and "<b>&" not in page
    assert '<script src="/widget.js" data-commune="Morvelay &lt;b&gt;&amp;" defer></script>' in page
    assert (await client.get("/static/demo.css")).status == 200
    assert (await client.get("/healthz")).status == 200


@pytest.mark.parametrize("path", ["/", "/abonnement"])
async def test_pages_have_a_strict_csp_and_no_inline_code(client: TestClient, path: str) -> None:
    response = await client.get(path)
    page = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None  # no inline script
    assert "<style" not in page and re.search(r"\sstyle=", page) is None
    assert re.search(r"\son[a-z]+=", page) is None  # no inline event handler


async def test_widget_and_service_worker_are_served(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    body = await response.read()  # aiohttp's client decompresses
    assert b"attachShadow" in body and b"innerHTML" not in body
    gzipped = len(gzip.compress(body, 9))
    with capsys.disabled():
        print(f"\nwidget.js (CSS included): {len(body)} bytes, {gzipped} bytes gzipped")
    assert gzipped <= WIDGET_MAX_GZIPPED

    etag = response.headers["ETag"]
    again = await client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag

    worker = await client.get("/push-sw.js")
    assert worker.status == 200 and worker.content_type == "text/javascript"
    assert b"notificationclick" in await worker.read()
    assert worker.headers["Cache-Control"] == "no-cache"


async def test_cors_for_an_allowed_origin(make_client: MakeClient) -> None:
    recorder = Recorder()
    client = await make_client(recorder, allowed_origins=[ALLOWED + "/"])
    preflight = await client.options(
        "/api/chat",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = await client.post(
        "/api/chat", json={"session": "s", "text": "bonjour"}, headers={"Origin": ALLOWED}
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    key = await client.get("/api/push/key", headers={"Origin": ALLOWED})  # an extra route
    assert key.status == 200 and key.headers["Access-Control-Allow-Origin"] == ALLOWED
    error = await client.post("/api/chat", json={"x": 1}, headers={"Origin": ALLOWED})
    assert error.status == 400 and error.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_cors_refuses_other_origins_and_stores_nothing(make_client: MakeClient) -> None:
    recorder = Recorder()
    client = await make_client(recorder, allowed_origins=[ALLOWED])
    evil = "https://evil.example"
    preflight = await client.options(
        "/api/chat", headers={"Origin": evil, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    for origin in (evil, "null", "http://www.morvelay.example"):
        response = await client.post(
            "/api/chat", json={"session": "s", "text": "bonjour"}, headers={"Origin": origin}
        )
        assert response.status == 403 and (await response.json())["error"]
        assert "Access-Control-Allow-Origin" not in response.headers
    key = await client.get("/api/push/key", headers={"Origin": evil})
    assert key.status == 403
    assert recorder.inbound == []

    own = f"http://127.0.0.1:{client.port}"
    for headers in ({"Origin": own}, {}):
        response = await client.post(
            "/api/chat", json={"session": "s", "text": "bonjour"}, headers=headers
        )
        assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers
    assert len(recorder.inbound) == 2


async def test_session_rate_limit(make_client: MakeClient) -> None:
    recorder = Recorder()
    client = await make_client(recorder, session_rate_per_minute=2, ip_rate_per_minute=100)
    for _ in range(2):
        response = await client.post("/api/chat", json={"session": "a", "text": "x"})
        assert response.status == 200
    response = await client.post("/api/chat", json={"session": "a", "text": "x"})
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "patienter" in (await response.json())["error"]
    other = await client.post("/api/chat", json={"session": "b", "text": "x"})
    assert other.status == 200
    assert len(recorder.inbound) == 3


async def test_ip_rate_limit(make_client: MakeClient) -> None:
    recorder = Recorder()
    client = await make_client(
        recorder, allowed_origins=[ALLOWED], session_rate_per_minute=100, ip_rate_per_minute=3
    )
    for number in range(3):
        response = await client.post("/api/chat", json={"session": f"s{number}", "text": "x"})
        assert response.status == 200
    response = await client.post(
        "/api/chat", json={"session": "new", "text": "x"}, headers={"Origin": ALLOWED}
    )
    assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED  # the page can read it
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert len(recorder.inbound) == 3


def test_sliding_window_forgets_old_events() -> None:
    now = [0.0]
    window = SlidingWindow(2, 60.0, clock=lambda: now[0])
    window.hit("k")
    now[0] = 10.0
    window.hit("k")
    assert window.check("k") == 50
    now[0] = 60.5
    assert window.check("k") == 0
    now[0] = 200.0
    window.check("other")  # a sweep drops keys idle for a whole window
    assert len(window) == 0


def test_origin_policy() -> None:
    policy = OriginPolicy(["https://Site.example/", "http://x.example:8080", "pas une origine"])
    assert policy.allowed == {"https://site.example", "http://x.example:8080"}
    assert policy.permits(None, "bot.example")
    assert policy.permits("https://site.example", "bot.example")
    assert policy.permits("https://bot.example", "bot.example")  # own origin behind a proxy
    assert policy.permits("http://127.0.0.1:8080", "127.0.0.1:8080")
    assert not policy.permits("http://127.0.0.1:8081", "127.0.0.1:8080")
    assert not policy.permits("https://site.example.evil", "bot.example")
    assert normalise_origin("https://a.example:443") == "https://a.example"
    assert normalise_origin("javascript:alert(1)") == ""


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("80.67.169.12", None, "80.67.169.12"),
        ("80.67.169.12", "90.1.2.3", "80.67.169.12"),  # a client cannot choose its address
        ("127.0.0.1", "90.1.2.3, 90.4.5.6", "90.4.5.6"),  # behind a local proxy
        ("172.18.0.3", "90.4.5.6", "90.4.5.6"),  # behind Caddy in Docker
        ("127.0.0.1", "pas une adresse", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("unix-socket", "90.4.5.6", "unix-socket"),  # not an address: counted as it is
        ("172.18.0.3", "90.7.8.9", "90.7.8.9"),  # the proxy is remembered, not its clients
        (None, None, "inconnue"),
    ],
)
def test_client_ip_for_rate_limits(peer: str | None, forwarded: str | None, expected: str) -> None:
    assert client_ip(peer, forwarded) == expected


async def test_calendar_feed_route(client: TestClient) -> None:
    response = await client.get("/calendrier/vallee.ics")
    assert response.status == 200 and response.content_type == "text/calendar"
    assert (await response.read()).startswith(b"BEGIN:VCALENDAR")
    response = await client.get("/calendrier/atlantide.ics")
    assert response.status == 404 and (await response.json())["error"]
    response = await client.get("/calendrier/..%2F..%2Fetc.ics")
    assert response.status == 404
