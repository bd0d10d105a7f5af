"""Crieur's durable store: subscribers and their consent, notices, the outbox, broadcasts."""

from bot.store.database import Store, StoreError, async_url, insert_for

__all__ = ["Store", "StoreError", "async_url", "insert_for"]
