"""The web chat API over real HTTP: answers, and a JSON 4xx for every malformed request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.dispatcher import Dispatcher
from channels.web import create_web_app
from knowledge.snapshot import Knowledge


@pytest.fixture
async def client(example_knowledge: Knowledge) -> AsyncIterator[TestClient]:
    dispatcher = Dispatcher(lambda: example_knowledge)

    def feeds(zone: str) -> bytes | None:
        return b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" if zone == "vallee" else None

    app = create_web_app(dispatcher.handle, "Morvelay <b>&", max_body_bytes=4_096, feeds=feeds)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


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
        (b"{not json", {"Content-Type": "application/json"}, 400),
        (b"\xff\xfe", {"Content-Type": "application/json"}, 400),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400),
        (b'{"text": "bonjour"}', {"Content-Type": "application/json"}, 400),
        (b'{"session": "s"}', {"Content-Type": "application/json"}, 400),
        (b'{"session": "s", "text": 12}', {"Content-Type": "application/json"}, 400),
        (b'{"session": "../../etc", "text": "x"}', {"Content-Type": "application/json"}, 400),
        (b'{"session": "s", "text": "x"}', {"Content-Type": "text/plain"}, 415),
        (
            b'{"session": "s", "text": "' + b"a" * 10_000 + b'"}',
            {"Content-Type": "application/json"},
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


async def test_unknown_route_and_method(client: TestClient) -> None:
    response = await client.get("/api/chat")
    assert response.status == 405 and (await response.json())["error"]
    response = await client.get("/nulle-part")
    assert response.status == 404 and (await response.json())["error"]


async def test_page_escapes_the_commune_name(client: TestClient) -> None:
    response = await client.get("/")
    page = await response.text()
    assert response.status == 200 and "Morvelay &lt;b&gt;&amp;" in page and "<b>&" not in page
    assert (await client.get("/static/chat.js")).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_calendar_feed_route(client: TestClient) -> None:
    response = await client.get("/calendrier/vallee.ics")
    assert response.status == 200 and response.content_type == "text/calendar"
    assert (await response.read()).startswith(b"BEGIN:VCALENDAR")
    response = await client.get("/calendrier/atlantide.ics")
    assert response.status == 404 and (await response.json())["error"]
    response = await client.get("/calendrier/..%2F..%2Fetc.ics")
    assert response.status == 404
