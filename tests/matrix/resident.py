"""A resident on Matrix for the tests: a real nio client (with encryption) that creates rooms,
writes to the bot and collects what the bot sends, decrypted when it was encrypted."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    RoomCreateError,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
    SyncError,
)

if TYPE_CHECKING:
    from tests.matrix.conftest import Account

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class Resident:
    """One account's client; `received[room_id]` lists the messages others sent there."""

    def __init__(self, homeserver: str, account: Account, store_path: Path) -> None:
        store_path.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.client = AsyncClient(
            homeserver,
            account.user_id,
            store_path=str(store_path),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.received: defaultdict[str, list[Any]] = defaultdict(list)

    @property
    def user_id(self) -> str:
        return str(self.account.user_id)

    async def login(self) -> None:
        response = await self.client.login(self.account.password, "tests")
        assert not hasattr(response, "status_code"), response
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.sync(0)

    async def close(self) -> None:
        if self.client.client_session is not None:
            await self.client.client_session.close()

    async def sync(self, timeout_ms: int = 300) -> None:
        """One sync, then what nio's sync loop does: keys and to-device messages."""
        client = self.client
        response = await client.sync(timeout=timeout_ms)
        assert not isinstance(response, SyncError), response
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if event.sender != self.user_id and isinstance(
                    event, RoomMessageNotice | RoomMessageText
                ):
                    self.received[room_id].append(event)
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def until(self, condition: Any, seconds: float = 15.0) -> None:
        """Sync until `condition()` holds."""
        async with asyncio.timeout(seconds):
            while not condition():
                await self.sync()

    async def room(self, invite: list[str], encrypted: bool = False, direct: bool = True) -> str:
        """Create a room, invite people, and wait until they all joined."""
        response = await self.client.room_create(
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            invite=invite,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert not isinstance(response, RoomCreateError), response
        room_id = str(response.room_id)
        await self.until(lambda: self.joined(room_id) == {self.user_id, *invite})
        return room_id

    def joined(self, room_id: str) -> set[str]:
        room = self.client.rooms.get(room_id)
        if room is None:
            return set()
        return {user for user, member in room.users.items() if not member.invited}

    async def say(self, room_id: str, text: str, msgtype: str = "m.text", **extra: Any) -> str:
        """Send a message; returns its event id."""
        content = {"msgtype": msgtype, "body": text, **extra}
        response = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert not isinstance(response, RoomSendError), response
        return str(response.event_id)

    async def ask(self, room_id: str, text: str, **extra: Any) -> Any:
        """Say something and wait for the bot's next message in that room."""
        before = len(self.received[room_id])
        await self.say(room_id, text, **extra)
        await self.until(lambda: len(self.received[room_id]) > before)
        return self.received[room_id][before]

    async def next_messages(self, room_id: str, count: int, seconds: float = 15.0) -> list[Any]:
        """Wait until `count` messages arrived in the room, in all; returns them all."""
        await self.until(lambda: len(self.received[room_id]) >= count, seconds)
        return self.received[room_id]

    async def quiet_for(self, seconds: float) -> None:
        """Keep syncing for a while (to see that nothing arrives)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    await self.sync()
