"""What the back-office needs from the running bot, handed over by the composition root.

Why a dataclass of callables: the back-office reads the *current* knowledge snapshot (it
changes on reload) and asks the composition root to reload, without importing it; tests
build one with a temporary pack and store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.outbox import Outbox
from bot.store import Store
from knowledge.snapshot import Knowledge


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AdminServices:
    """The bot's parts the back-office uses.

    - `knowledge` returns the snapshot being served (called per request);
    - `reload` swaps in a fresh snapshot of the pack, raising `PackError` if it is broken;
    - `pack_path` is the pack folder whose `faq.yaml` the agents edit;
    - `secure_cookies` adds `Secure` to the cookies (set it when served over HTTPS);
    - `telegram_html` renders light Markdown as Telegram HTML for the broadcast preview
      (`channels.telegram.render.to_html`; None hides that preview);
    - `clock` is the current time (aware), replaceable in tests.
    """

    store: Store
    knowledge: Callable[[], Knowledge]
    reload: Callable[[], None]
    pack_path: Path
    outbox: Outbox
    secure_cookies: bool = True
    telegram_html: Callable[[str], str] | None = None
    clock: Callable[[], datetime] = utcnow
