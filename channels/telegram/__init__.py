"""Telegram, through python-telegram-bot: polling or webhook, answers, buttons and notices."""

from channels.telegram.channel import TelegramChannel, TelegramOptions

__all__ = ["TelegramChannel", "TelegramOptions"]
