"""Alerts on this device, from the widget on Crieur's own origin: the service worker is
registered for real; the push service and the two `/api/push/*` endpoints (another
channel's) are played by the test, since nothing may leave the machine."""

from __future__ import annotations

import base64
import json
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from tests.browser.widget import BOT, HOST, ask, csp_violations, wait_answer

ALERTS = "Recevoir les alertes sur cet appareil"
PUSH_ID = "appareil_42"
# A browser whose push service accepts everything: what a real one returns, minus the network.
FAKE_PUSH_SERVICE = """
PushManager.prototype.getSubscription = async function () { return null; };
PushManager.prototype.subscribe = async function (options) {
  window.__subscribed = {
    userVisibleOnly: options.userVisibleOnly,
    keyBytes: new Uint8Array(options.applicationServerKey).length,
  };
  return { toJSON: () => ({
    endpoint: "https://fcm.googleapis.com/fcm/send/essai",
    expirationTime: null,
    keys: { p256dh: "BNc", auth: "YWJj" },
  }) };
};
"""


def _public_key() -> str:
    """A valid P-256 public key, as VAPID keys are served: the curve's generator point."""
    raw = bytes.fromhex(
        "04"
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _json(route: Route, status: int, body: dict[str, Any]) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


def _open(page: Page, crieur: str) -> None:
    page.goto(crieur + "/")
    page.get_by_role("button", name="Ouvrir l’assistant de la mairie").click()


def _stored_push(page: Page) -> str | None:
    found: str | None = page.evaluate("() => localStorage.getItem('crieur-push')")
    return found


def test_subscribing_remembers_the_device_and_shows_the_topics(
    context: BrowserContext, page: Page, crieur: str
) -> None:
    context.grant_permissions(["notifications"], origin=crieur)
    context.add_init_script(FAKE_PUSH_SERVICE)
    subscribed: list[dict[str, Any]] = []
    chats: list[dict[str, Any]] = []
    page.route("**/api/push/key", lambda route: _json(route, 200, {"publicKey": _public_key()}))

    def subscribe(route: Route) -> None:
        subscribed.append(json.loads(route.request.post_data or "{}"))
        _json(route, 200, {"push": PUSH_ID})

    def record(request: Request) -> None:
        if request.url.endswith("/api/chat"):
            chats.append(json.loads(request.post_data or "{}"))

    page.route("**/api/push/subscribe", subscribe)
    page.on("request", record)
    _open(page, crieur)
    assert _stored_push(page) is None  # nothing is kept before the resident asks

    count = page.locator(BOT).count()
    page.get_by_role("button", name=ALERTS).click()
    expect(page.locator(BOT).nth(count)).to_contain_text("Les alertes sont activées")
    wait_answer(page, count + 1)  # the answer to /abonner: the topics
    expect(page.locator(f"{HOST} .msg.me").last).to_contain_text("Choisir mes alertes")

    assert _stored_push(page) == PUSH_ID
    session = page.evaluate("() => sessionStorage.getItem('crieur-session')")
    assert subscribed == [
        {
            "session": session,
            "subscription": {
                "endpoint": "https://fcm.googleapis.com/fcm/send/essai",
                "expirationTime": None,
                "keys": {"p256dh": "BNc", "auth": "YWJj"},
            },
        }
    ]
    assert page.evaluate("() => window.__subscribed") == {"userVisibleOnly": True, "keyBytes": 65}
    worker = page.evaluate(
        "async () => (await navigator.serviceWorker.getRegistration('/')).active.scriptURL"
    )
    assert worker == crieur + "/push-sw.js"
    assert chats[-1] == {"session": session, "text": "/abonner", "push": PUSH_ID}

    page.get_by_role("textbox", name="Votre question").focus()
    ask(page, "bonjour")
    assert chats[-1] == {"session": session, "text": "bonjour", "push": PUSH_ID}
    expect(page.get_by_role("button", name="Gérer mes alertes sur cet appareil")).to_be_visible()
    assert csp_violations(page) == []


def test_alerts_not_offered_by_the_server(context: BrowserContext, page: Page, crieur: str) -> None:
    context.grant_permissions(["notifications"], origin=crieur)
    page.route("**/api/push/key", lambda route: _json(route, 404, {"error": "Adresse inconnue."}))
    _open(page, crieur)
    page.get_by_role("button", name=ALERTS).click()
    expect(page.locator(BOT).last).to_contain_text("pas encore proposées par la mairie")
    assert _stored_push(page) is None


def test_notifications_refused(page: Page, crieur: str) -> None:
    page.route("**/api/push/key", lambda route: _json(route, 200, {"publicKey": _public_key()}))
    page.route("**/api/push/subscribe", lambda route: _json(route, 500, {}))
    _open(page, crieur)
    page.evaluate("() => { Notification.requestPermission = async () => 'denied'; }")
    page.get_by_role("button", name=ALERTS).click()
    expect(page.locator(BOT).last).to_contain_text("notifications sont bloquées")
    assert _stored_push(page) is None


def test_no_push_service_reachable(context: BrowserContext, page: Page, crieur: str) -> None:
    """Chromium's real `pushManager.subscribe`, with no push service to talk to."""
    context.grant_permissions(["notifications"], origin=crieur)
    page.route("**/api/push/key", lambda route: _json(route, 200, {"publicKey": _public_key()}))
    _open(page, crieur)
    page.get_by_role("button", name=ALERTS).click()
    expect(page.locator(BOT).last).to_contain_text("n’a pas abouti", timeout=20_000)
    assert _stored_push(page) is None
