"""The Web Push channel over real HTTP: VAPID keys, the subscribe routes, encrypted pushes to a
fake push service that checks and decrypts them as a browser's would, and the outbox end to end."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from bot.channel import Push, RateLimited, RecipientGone, Rejected, TransientError
from bot.delivery import DeliverySettings, DeliveryWorker
from bot.messages import Address, Answer, Inbound
from bot.outbox import Outbox, OutgoingNotice
from bot.store import Store
from bot.store.schema import push_subscriptions, subscribers
from bot.subscriptions import Subscriptions
from channels.webpush import WebPushChannel, WebPushOptions
from channels.webpush.keys import b64url, b64url_decode
from channels.webpush.render import plain_text, shorten
from tests.fakes.push_service import FakeBrowser, FakePushService

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 23, 18, 0, tzinfo=UTC)
COMMUNE = "Morvelay"


async def _no_inbound(message: Inbound) -> Answer:
    raise AssertionError("Web Push carries nothing inbound")


def _options(tmp_path: Path, **changes: Any) -> WebPushOptions:
    values: dict[str, Any] = {
        "key_path": tmp_path / "data" / "webpush-vapid.pem",
        "contact": "mairie@morvelay.example",
        "title": COMMUNE,
        "click_url": "https://www.morvelay.example/",
        "allow_insecure_endpoints": True,
        "timeout_seconds": 5.0,
    }
    values.update(changes)
    return WebPushOptions(**values)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    yield opened
    await opened.close()


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


Factory = Callable[..., Awaitable[WebPushChannel]]


@pytest.fixture
async def make_channel(tmp_path: Path) -> AsyncIterator[Factory]:
    started: list[WebPushChannel] = []

    async def make(store: Store | None, **changes: Any) -> WebPushChannel:
        channel = WebPushChannel(store, _options(tmp_path, **changes))
        await channel.start(_no_inbound)
        started.append(channel)
        return channel

    yield make
    for channel in started:
        await channel.stop()


@pytest.fixture
async def channel(make_channel: Factory, store: Store) -> WebPushChannel:
    return await make_channel(store)


@pytest.fixture
async def client(
    channel: WebPushChannel,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    app.router.add_routes(channel.routes())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _subscribe(client: TestClient[web.Request, web.Application], browser: FakeBrowser) -> str:
    response = await client.post(
        "/api/push/subscribe", json={"session": "abc-123", "subscription": browser.subscription()}
    )
    assert response.status == 200, await response.text()
    push_id = (await response.json())["push"]
    assert isinstance(push_id, str)
    return push_id


def _push(
    chat_id: str, text: str = "Coupure d'eau rue des Lilas de 9h à 12h.", **extra: Any
) -> Push:
    values: dict[str, Any] = {
        "key": "annonce:1/1",
        "to": Address("webpush", chat_id),
        "topic": "alertes",
        "kind": "annonce",
        "text": text,
    }
    values.update(extra)
    return Push(**values)


async def _stored(store: Store) -> list[str]:
    async with store.connect() as connection:
        rows = await connection.execute(select(push_subscriptions.c.chat_id))
        return [row[0] for row in rows]


# ---------------------------------------------------------------------------------- keys


async def test_the_vapid_key_is_created_once_private_and_reused_after_a_restart(
    make_channel: Factory, store: Store, tmp_path: Path
) -> None:
    first = await make_channel(store)
    path = tmp_path / "data" / "webpush-vapid.pem"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = first.public_key
    assert key is not None and len(key) == 87
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point, as browsers want
    await first.stop()

    again = await make_channel(store)
    assert again.public_key == key
    assert again.health()["state"] == "prêt"


async def test_an_unreadable_key_file_is_reported_without_stopping_crieur(
    make_channel: Factory, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "webpush-vapid.pem"
    path.parent.mkdir(parents=True)
    path.write_text("pas une clé")
    channel = await make_channel(store)
    health = channel.health()
    assert health["state"] == "clé VAPID inutilisable"
    assert str(path) in str(health["last_error"])
    with pytest.raises(TransientError):
        await channel.push(_push("x" * 43))


# A fresh interpreter starts the channel on a key file and serves the key route, then says
# which of the heavy modules it imported: cryptography and http_ece cost ~10 MB of memory.
_START_IN_A_NEW_PROCESS = """
import asyncio, json, sys
from pathlib import Path
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from channels.webpush import WebPushChannel, WebPushOptions

async def main():
    options = WebPushOptions(key_path=Path(sys.argv[1]), contact="mairie@morvelay.example")
    channel = WebPushChannel(None, options)
    async def no_inbound(message):
        raise AssertionError
    await channel.start(no_inbound)
    state = channel.health()["state"]
    app = web.Application()
    app.router.add_routes(channel.routes())
    async with TestClient(TestServer(app)) as client:
        served = await (await client.get("/api/push/key")).json()
    await channel.stop()
    heavy = sorted(name for name in ("cryptography", "http_ece") if name in sys.modules)
    print(json.dumps({"state": state, "served": served, "heavy": heavy}))

asyncio.run(main())
"""


def _start_in_a_new_process(key_path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _START_IN_A_NEW_PROCESS, str(key_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def _sidecar(tmp_path: Path) -> Path:
    return tmp_path / "data" / "webpush-vapid.pem.public.json"


def test_neither_a_first_start_nor_a_restart_imports_cryptography(tmp_path: Path) -> None:
    path = tmp_path / "data" / "webpush-vapid.pem"
    first = _start_in_a_new_process(path)
    assert first["state"] == "prêt"
    assert first["heavy"] == []  # the key was created by a child process
    key = first["served"]["publicKey"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(_sidecar(tmp_path).read_text()) == {
        "public_key": key,
        "pem_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }

    again = _start_in_a_new_process(path)
    assert again == {"state": "prêt", "served": {"publicKey": key}, "heavy": []}


async def test_a_first_start_logs_the_new_key_once(
    make_channel: Factory, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.webpush.keys")
    await (await make_channel(store)).stop()
    await make_channel(store)
    path = tmp_path / "data" / "webpush-vapid.pem"
    assert caplog.messages == [f"webpush: new VAPID key written to {path}"]


async def test_the_key_is_created_in_this_process_if_the_child_cannot_run(
    make_channel: Factory, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    channel = await make_channel(store)
    assert channel.health()["state"] == "prêt"
    path = tmp_path / "data" / "webpush-vapid.pem"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert json.loads(_sidecar(tmp_path).read_text())["public_key"] == channel.public_key


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda sidecar: sidecar.unlink(), id="missing"),
        pytest.param(lambda sidecar: sidecar.write_text("{pas du json"), id="garbled"),
        pytest.param(
            lambda sidecar: sidecar.write_text(
                json.dumps({"public_key": b64url(b"\x04" + b"\x02" * 64), "pem_sha256": "0" * 64})
            ),
            id="from-another-pem",
        ),
        pytest.param(
            lambda sidecar: sidecar.write_text(
                json.dumps({**json.loads(sidecar.read_text()), "public_key": "abc"})
            ),
            id="not-a-point",
        ),
    ],
)
async def test_a_missing_or_stale_public_key_file_is_derived_again_and_rewritten(
    make_channel: Factory, store: Store, tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    first = await make_channel(store)
    sidecar = _sidecar(tmp_path)
    written = sidecar.read_text()
    await first.stop()
    damage(sidecar)

    again = await make_channel(store)
    assert again.health()["state"] == "prêt"
    assert again.public_key == first.public_key
    assert sidecar.read_text() == written


async def test_a_key_replaced_from_a_backup_gets_its_own_public_key(
    make_channel: Factory, store: Store, tmp_path: Path
) -> None:
    first = await make_channel(store)
    await first.stop()
    restored = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "data" / "webpush-vapid.pem"
    path.write_bytes(
        restored.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    expected = b64url(
        restored.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )

    again = await make_channel(store)
    assert again.public_key == expected != first.public_key
    assert json.loads(_sidecar(tmp_path).read_text())["public_key"] == expected


async def test_a_restarted_channel_signs_with_the_key_it_did_not_parse_at_start(
    make_channel: Factory, store: Store, push_service: FakePushService
) -> None:
    await (await make_channel(store)).stop()
    channel = await make_channel(store)  # public key from the sidecar, private key not read
    app = web.Application()
    app.router.add_routes(channel.routes())
    assert channel.public_key is not None
    browser = push_service.browser(channel.public_key)
    async with TestClient(TestServer(app)) as test_client:
        push_id = await _subscribe(test_client, browser)
    await channel.push(_push(push_id))
    assert push_service.refused == []
    assert len(push_service.delivered_to(browser)) == 1


async def test_a_public_key_file_edited_to_another_key_fails_the_pushes_not_the_start(
    make_channel: Factory, store: Store, push_service: FakePushService, tmp_path: Path
) -> None:
    await (await make_channel(store)).stop()
    sidecar = _sidecar(tmp_path)
    other = b64url(b"\x04" + b"\x02" * 64)
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "public_key": other}))

    channel = await make_channel(store)
    assert channel.public_key == other  # trusted at start: its PEM is the one it was made for
    app = web.Application()
    app.router.add_routes(channel.routes())
    async with TestClient(TestServer(app)) as test_client:
        push_id = await _subscribe(test_client, push_service.browser(other))
    with pytest.raises(TransientError, match="clé VAPID"):
        await channel.push(_push(push_id))
    assert channel.health()["state"] == "clé VAPID inutilisable"
    assert push_service.refused == []  # nothing was sent with a token browsers cannot check


def test_a_contact_that_is_not_an_address_is_refused_at_once(tmp_path: Path) -> None:
    assert _options(tmp_path).subject == "mailto:mairie@morvelay.example"
    with pytest.raises(ValueError, match="adresse électronique"):
        WebPushChannel(None, _options(tmp_path, contact="la mairie"))


# ---------------------------------------------------------------------------------- routes


async def test_the_key_route_gives_the_public_key(
    client: TestClient[web.Request, web.Application], channel: WebPushChannel
) -> None:
    response = await client.get("/api/push/key")
    assert response.status == 200
    assert await response.json() == {"publicKey": channel.public_key}


async def test_subscribing_stores_the_browser_under_a_digest_of_its_endpoint(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
    store: Store,
) -> None:
    assert channel.public_key is not None
    browser = push_service.browser(channel.public_key)
    push_id = await _subscribe(client, browser)
    digest = b64url(hashlib.sha256(browser.endpoint.encode()).digest())[:43]
    assert push_id == digest
    assert await _subscribe(client, browser) == push_id  # again: the same row, no duplicate
    assert await _stored(store) == [push_id]
    assert await channel.registered(push_id)

    response = await client.post("/api/push/unsubscribe", json={"push": push_id})
    assert response.status == 200
    assert await _stored(store) == []
    assert not await channel.registered(push_id)


def _with(subscription: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = {**subscription, "keys": dict(subscription["keys"])}
    for name, value in changes.items():
        if name in ("p256dh", "auth"):
            changed["keys"][name] = value
        else:
            changed[name] = value
    return changed


NOT_ON_CURVE = b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"endpoint": "http://push.example.net/push/1"}, 400, id="http-endpoint"),
        pytest.param({"endpoint": "https://10.0.0.8/push/1"}, 400, id="private-ip"),
        pytest.param({"endpoint": "https://localhost/push/1"}, 400, id="localhost"),
        pytest.param({"endpoint": "https://evil.example.com/push/1"}, 400, id="unknown-service"),
        pytest.param(
            {"endpoint": "https://fcm.googleapis.com/fcm/send/" + "a" * 1000}, 400, id="too-long"
        ),
        pytest.param({"endpoint": "https://u:p@fcm.googleapis.com/x"}, 400, id="credentials"),
        pytest.param({"endpoint": 42}, 400, id="endpoint-not-text"),
        pytest.param({"p256dh": "not base64!"}, 400, id="p256dh-not-base64url"),
        pytest.param({"p256dh": b64url(b"\x04" + b"\x01" * 10)}, 400, id="p256dh-short"),
        pytest.param({"p256dh": NOT_ON_CURVE}, 400, id="p256dh-off-curve"),
        pytest.param({"auth": b64url(b"x" * 8)}, 400, id="auth-short"),
        pytest.param({"auth": None}, 400, id="auth-missing"),
        pytest.param({"keys": "p256dh"}, 400, id="keys-not-object"),
        pytest.param({"expirationTime": "demain"}, 400, id="expiration-not-number"),
    ],
)
async def test_a_bad_subscription_is_refused_in_french(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    store: Store,
    change: dict[str, Any],
    status: int,
) -> None:
    assert channel.public_key is not None
    valid = FakeBrowser("b", "http://127.0.0.1:9/push/b", channel.public_key).subscription()
    response = await client.post(
        "/api/push/subscribe", json={"session": "abc", "subscription": _with(valid, **change)}
    )
    assert response.status == status
    assert (await response.json())["error"]
    assert await _stored(store) == []


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        pytest.param("subscribe", b"{not json", None, 400, id="invalid-json"),
        pytest.param("subscribe", b"[" * 3000, None, 400, id="deeply-nested"),
        pytest.param("subscribe", b"[]", None, 400, id="not-an-object"),
        pytest.param("subscribe", b"{}", None, 400, id="no-subscription"),
        pytest.param(
            "subscribe", b'{"session": "<script>", "subscription": {}}', None, 400, id="bad-session"
        ),
        pytest.param("subscribe", b"{}", {"Content-Type": "text/plain"}, 415, id="not-json-type"),
        pytest.param("subscribe", b'{"x": "' + b"a" * 5000 + b'"}', None, 413, id="too-large"),
        pytest.param("unsubscribe", b'{"push": "../../etc"}', None, 400, id="bad-push-id"),
        pytest.param("unsubscribe", b"{}", None, 400, id="no-push-id"),
    ],
)
async def test_a_bad_request_gets_a_4xx_with_a_french_error(
    client: TestClient[web.Request, web.Application],
    path: str,
    body: bytes,
    headers: dict[str, str] | None,
    status: int,
) -> None:
    response = await client.post(
        f"/api/push/{path}",
        data=body,
        headers=headers or {"Content-Type": "application/json"},
    )
    assert response.status == status
    assert (await response.json())["error"]


async def test_http_endpoints_are_refused_unless_insecure_endpoints_are_allowed(
    make_channel: Factory, store: Store, push_service: FakePushService
) -> None:
    strict = await make_channel(store, allow_insecure_endpoints=False)
    app = web.Application()
    app.router.add_routes(strict.routes())
    assert strict.public_key is not None
    async with TestClient(TestServer(app)) as strict_client:
        browser = push_service.browser(strict.public_key)
        response = await strict_client.post(
            "/api/push/subscribe", json={"subscription": browser.subscription()}
        )
        assert response.status == 400
        assert "https" in (await response.json())["error"]
        real = {
            **browser.subscription(),
            "endpoint": "https://fcm.googleapis.com/fcm/send/abc:APA91b",
        }
        response = await strict_client.post("/api/push/subscribe", json={"subscription": real})
        assert response.status == 200


# ---------------------------------------------------------------------------------- push


async def test_a_push_is_signed_encrypted_and_decrypted_by_the_push_service(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
) -> None:
    assert channel.public_key is not None
    browser = push_service.browser(channel.public_key)
    push_id = await _subscribe(client, browser)
    text = "**Coupure d'eau** rue des Lilas.\n\n- de 9h à 12h\n- [détails](https://morvelay.example/eau)"
    await channel.push(_push(push_id, text, urgent=True))

    assert push_service.refused == []
    (delivered,) = push_service.delivered_to(browser)
    assert delivered.json == {
        "title": "Morvelay · Alerte",
        "body": "Coupure d'eau rue des Lilas.\n• de 9h à 12h\n• détails",
        "url": "https://www.morvelay.example/",
        "tag": delivered.headers["Topic"],
    }
    assert delivered.headers["TTL"] == "43200"
    assert delivered.headers["Urgency"] == "high"
    assert delivered.claims["sub"] == "mailto:mairie@morvelay.example"
    assert channel.health()["sent"] == 1


async def test_the_topic_dedupes_a_resent_delivery_or_replaces_a_kind(
    make_channel: Factory, store: Store, push_service: FakePushService
) -> None:
    channel = await make_channel(store, replace_kinds=frozenset({"cantine"}))
    app = web.Application()
    app.router.add_routes(channel.routes())
    assert channel.public_key is not None
    async with TestClient(TestServer(app)) as test_client:
        push_id = await _subscribe(test_client, push_service.browser(channel.public_key))
    await channel.push(_push(push_id, key="annonce:1/7"))
    await channel.push(_push(push_id, key="annonce:1/7"))  # in doubt after a crash: sent again
    await channel.push(_push(push_id, key="annonce:2/7"))
    await channel.push(_push(push_id, key="cantine:2026-12-22/7", kind="cantine", topic="cantine"))
    await channel.push(_push(push_id, key="cantine:2026-12-23/7", kind="cantine", topic="cantine"))
    topics = [d.headers["Topic"] for d in push_service.delivered]
    assert topics[0] == topics[1] != topics[2]  # the same delivery, the same topic
    assert topics[3] == topics[4] not in topics[:3]  # a newer menu replaces the older one
    assert push_service.delivered[3].json["title"] == "Morvelay · Menu de la cantine"
    assert push_service.delivered[0].headers["Urgency"] == "normal"


def test_notice_text_becomes_short_plain_text() -> None:
    assert (
        plain_text("**Menu** : [voir](https://x.fr/m)\r\n\r\n\r\n* frites")
        == "Menu : voir\n• frites"
    )
    long = "Collecte " * 200
    cut = shorten(long.strip(), 100)
    assert len(cut) <= 100 and cut.endswith("Collecte…")


async def test_a_push_to_an_unknown_address_means_the_recipient_is_gone(
    channel: WebPushChannel,
) -> None:
    with pytest.raises(RecipientGone):
        await channel.push(_push("A" * 43))


@pytest.mark.parametrize("status", [404, 410])
async def test_an_expired_subscription_is_deleted_and_the_recipient_gone(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
    store: Store,
    status: int,
) -> None:
    assert channel.public_key is not None
    browser = push_service.browser(channel.public_key)
    push_id = await _subscribe(client, browser)
    push_service.answer_next(status)
    with pytest.raises(RecipientGone):
        await channel.push(_push(push_id))
    assert await _stored(store) == []


async def test_a_429_asks_the_outbox_to_wait_for_retry_after(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
) -> None:
    assert channel.public_key is not None
    push_id = await _subscribe(client, push_service.browser(channel.public_key))
    push_service.answer_next(429, {"Retry-After": "7"})
    with pytest.raises(RateLimited) as raised:
        await channel.push(_push(push_id))
    assert raised.value.retry_after == 7.0
    push_service.answer_next(429)  # no Retry-After: a sane default
    with pytest.raises(RateLimited) as raised:
        await channel.push(_push(push_id))
    assert raised.value.retry_after == 30.0
    later = datetime.now(UTC) + timedelta(seconds=120)
    push_service.answer_next(429, {"Retry-After": format_datetime(later, usegmt=True)})
    with pytest.raises(RateLimited) as raised:
        await channel.push(_push(push_id))
    assert 100 < raised.value.retry_after <= 120


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientError),
        (503, TransientError),
        (400, Rejected),
        (403, Rejected),
        (413, Rejected),
    ],
)
async def test_push_service_errors_map_to_the_outbox_outcomes(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
    store: Store,
    status: int,
    error: type[Exception],
) -> None:
    assert channel.public_key is not None
    push_id = await _subscribe(client, push_service.browser(channel.public_key))
    push_service.answer_next(status)
    with pytest.raises(error, match=str(status)):
        await channel.push(_push(push_id))
    assert await _stored(store) == [push_id]  # only 404/410 forget the browser


async def test_a_key_mismatch_is_refused_by_the_push_service_and_rejected(
    client: TestClient[web.Request, web.Application],
    channel: WebPushChannel,
    push_service: FakePushService,
) -> None:
    browser = push_service.browser(b64url(b"\x04" + b"\x02" * 64))  # subscribed with another key
    push_id = await _subscribe(client, browser)
    with pytest.raises(Rejected, match="403"):
        await channel.push(_push(push_id))
    assert push_service.refused == [
        (403, "k differs from the applicationServerKey of the subscription")
    ]


async def test_an_unreachable_or_silent_push_service_is_a_transient_error(
    make_channel: Factory, store: Store, push_service: FakePushService
) -> None:
    channel = await make_channel(store, timeout_seconds=0.3)
    app = web.Application()
    app.router.add_routes(channel.routes())
    assert channel.public_key is not None
    async with TestClient(TestServer(app)) as test_client:
        push_id = await _subscribe(test_client, push_service.browser(channel.public_key))
    push_service.hold()
    with pytest.raises(TransientError, match="injoignable"):
        await channel.push(_push(push_id))
    push_service.release()
    await push_service.close()  # nobody listens on that port any more
    with pytest.raises(TransientError, match="injoignable"):
        await channel.push(_push(push_id))


async def test_a_push_before_start_is_a_transient_error(tmp_path: Path, store: Store) -> None:
    channel = WebPushChannel(store, _options(tmp_path))
    assert channel.health()["state"] == "non démarré"
    with pytest.raises(TransientError):
        await channel.push(_push("A" * 43))


# ---------------------------------------------------------------------------------- outbox


async def test_a_notice_reaches_the_browser_once_through_the_real_outbox(
    store_url: str, make_channel: Factory, push_service: FakePushService
) -> None:
    store = await Store.open(store_url)
    try:
        channel = await make_channel(store)
        app = web.Application()
        app.router.add_routes(channel.routes())
        async with TestClient(TestServer(app)) as test_client:
            await _deliver_once_end_to_end(store, channel, push_service, test_client)
    finally:
        await store.close()


async def _deliver_once_end_to_end(
    store: Store,
    channel: WebPushChannel,
    push_service: FakePushService,
    test_client: TestClient[web.Request, web.Application],
) -> None:
    assert channel.public_key is not None
    browser = push_service.browser(channel.public_key)
    gone = push_service.browser(channel.public_key)
    push_id = await _subscribe(test_client, browser)
    assert await _subscribe(test_client, browser) == push_id  # keys refreshed, no duplicate
    gone_id = await _subscribe(test_client, gone)
    subscriptions = Subscriptions(store)
    for chat_id in (push_id, gone_id):
        await subscriptions.subscribe(
            Address("webpush", chat_id), "alertes", T0, "/abonner alertes"
        )
    push_service.expire(gone)
    outbox = Outbox(store, clock=lambda: T0)
    notice = OutgoingNotice(
        key="annonce:42",
        kind="annonce",
        topics=("alertes",),
        zone=None,
        text="Coupure d'eau rue des Lilas demain de 9h à 12h.",
        not_before=T0,
        urgent=True,
    )
    published = await outbox.publish(notice)
    assert published.audience == 2
    settings = DeliverySettings(rate_per_second=1000.0)
    worker = DeliveryWorker(outbox, channel, settings, clock=lambda: T0)
    assert await worker.deliver_batch() == 2

    (delivered,) = push_service.delivered
    assert delivered.browser == browser.id
    assert delivered.json["body"] == "Coupure d'eau rue des Lilas demain de 9h à 12h."
    assert delivered.headers["Urgency"] == "high"
    progress = await outbox.progress(published.notice_id)
    assert (progress.sent, progress.gone, progress.pending) == (1, 1, 0)

    assert not (await outbox.publish(notice)).created  # publishing twice adds nothing
    assert await worker.deliver_batch() == 0
    assert len(push_service.delivered) == 1
    assert await _stored(store) == [push_id]  # the expired browser was forgotten
    async with store.connect() as connection:
        rows = await connection.execute(select(subscribers.c.chat_id, subscribers.c.active))
        active = {row.chat_id: row.active for row in rows}
    assert active == {push_id: True, gone_id: False}

    # The resident turns notifications off in the browser: topics dropped, consent recorded.
    response = await test_client.post("/api/push/unsubscribe", json={"push": push_id})
    assert response.status == 200
    assert await subscriptions.of(Address("webpush", push_id)) == []
