"""Which channels a configuration enables, built with lazy imports, and the pack to serve.

An explicit registry rather than a plugin loader: each channel's SDK (python-telegram-bot,
matrix-nio, cryptography) is imported only when its section enables it.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

from bot.channel import Channel
from bot.config import Settings
from knowledge.snapshot import Knowledge

log = logging.getLogger(__name__)


def editable_pack(settings: Settings) -> Path:
    """The pack to serve. Without `[pack] path`, the example pack is first copied into the
    data directory, so that agents' edits land there and not in the installed package."""
    if settings.pack.path is not None:
        return settings.pack.path
    copy = settings.data_path() / "pack"
    if not (copy / "commune.yaml").exists():
        shutil.copytree(settings.pack_path(), copy, dirs_exist_ok=True)
    return copy


def configured_channels(settings: Settings, knowledge: Knowledge) -> tuple[Channel, ...]:
    """The messaging channels the configuration enables (each imported only if enabled)."""
    found: list[Channel] = []
    webpush = settings.webpush
    contact = webpush.contact or knowledge.pack.commune.contact.email
    if webpush.enabled and contact:
        from channels.webpush import WebPushChannel, WebPushOptions

        options = WebPushOptions(
            key_path=webpush.key_path or settings.data_path() / "webpush-vapid.pem",
            contact=contact,
            title=knowledge.pack.commune.name,
            click_url=webpush.click_url or settings.web.public_url or "/",
            ttl_seconds=webpush.ttl_seconds,
            rate_per_second=webpush.rate_per_second,
            timeout_seconds=webpush.timeout_seconds,
            allow_insecure_endpoints=webpush.allow_insecure_endpoints,
        )
        if webpush.push_hosts is not None:
            options = replace(options, push_hosts=webpush.push_hosts)
        found.append(WebPushChannel(None, options))
    elif webpush.enabled:
        log.warning("webpush : aucun contact (courriel) dans le pack ni [webpush] contact")
    matrix = settings.matrix
    if matrix.homeserver and matrix.user_id:
        from channels.matrix import MatrixChannel, MatrixOptions

        found.append(
            MatrixChannel(
                None,
                MatrixOptions(
                    homeserver=matrix.homeserver,
                    user_id=matrix.user_id,
                    store_path=matrix.store_path or settings.data_path() / "matrix",
                    access_token=matrix.access_token,
                    password=matrix.password,
                    device_id=matrix.device_id,
                    device_name=matrix.device_name,
                    allowed_servers=matrix.allowed_servers,
                    rate_per_second=matrix.rate_per_second,
                ),
            )
        )
    whatsapp = settings.whatsapp
    if whatsapp.phone_number_id:
        from channels.whatsapp import WhatsAppChannel, WhatsAppOptions

        found.append(
            WhatsAppChannel(
                None,
                WhatsAppOptions(
                    phone_number_id=whatsapp.phone_number_id,
                    access_token=whatsapp.access_token or "",
                    app_secret=whatsapp.app_secret or "",
                    verify_token=whatsapp.verify_token or "",
                    graph_url=whatsapp.graph_url,
                    webhook_path=whatsapp.webhook_path,
                    templates=dict(whatsapp.templates),
                    template_language=whatsapp.template_language,
                    rate_per_second=whatsapp.rate_per_second,
                ),
            )
        )
    telegram = settings.telegram
    if telegram.token:
        from channels.telegram import TelegramChannel, TelegramOptions

        found.append(
            TelegramChannel(
                TelegramOptions(
                    token=telegram.token,
                    base_url=telegram.base_url,
                    mode=telegram.mode,
                    webhook_url=telegram.webhook_url,
                    webhook_path=telegram.webhook_path,
                    secret_token=telegram.secret_token,
                    rate_per_second=telegram.rate_per_second,
                )
            )
        )
    return tuple(found)
