"""The fake Telegram Bot API against the real python-telegram-bot client, over loopback HTTP.

If PTB accepts the fake's answers and raises the right exceptions for its errors, tests of the
Telegram channel built on the fake say something about production.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegramAPI

CHAT = 4242  # a resident's private chat: its id is the resident's user id


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as client:  # initialize() calls getMe
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d)] for d in data])


async def test_get_me_describes_the_bot(bot: Bot, api: FakeTelegramAPI) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "crieur_test_bot"
    assert me.id == int(api.token.split(":")[0])
    assert me.can_read_all_group_messages is False
    assert [call.method for call in api.calls] == ["getMe", "getMe"]


async def test_a_wrong_token_is_rejected(api: FakeTelegramAPI) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=api.base_url):  # shuts its client down on failure
            pass
    assert api.errors[0].status == 401


async def test_html_message_with_keyboard_is_recorded_and_decoded(
    bot: Bot, api: FakeTelegramAPI
) -> None:
    message = await bot.send_message(
        CHAT,
        "<b>Mairie</b> &amp; école : <a href='https://brumeval.fr/horaires'>horaires</a>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("oui", "non"),
        disable_web_page_preview=True,
    )

    assert message.text == "Mairie & école : horaires"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 6),
        ("text_link", 17, 8),
    ]
    assert message.entities[1].url == "https://brumeval.fr/horaires"
    assert message.reply_markup == keyboard("oui", "non")
    assert message.from_user is not None and message.from_user.is_bot
    [sent] = api.sent
    assert sent.chat_id == CHAT
    assert sent.parse_mode == "HTML"
    assert sent.text.startswith("<b>Mairie</b> &amp; école")
    assert sent.plain_text == "Mairie & école : horaires"
    assert sent.reply_markup == {
        "inline_keyboard": [
            [{"text": "Oui", "callback_data": "oui"}],
            [{"text": "Non", "callback_data": "non"}],
        ]
    }
    assert sent.callback_data == ["oui", "non"]
    # PTB 22 turns the deprecated disable_web_page_preview into link_preview_options.
    assert sent.link_preview_options == {"is_disabled": True}


async def test_message_ids_count_per_chat(bot: Bot, api: FakeTelegramAPI) -> None:
    api.inject_message(CHAT, "bonjour")  # the resident's message takes id 1 in that chat

    first = await bot.send_message(CHAT, "un")
    second = await bot.send_message(CHAT, "deux")
    elsewhere = await bot.send_message(77, "ailleurs")

    assert (first.message_id, second.message_id, elsewhere.message_id) == (2, 3, 1)
    assert [m.text for m in api.sent_to(CHAT)] == ["un", "deux"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>gras", "Can't find end tag corresponding to start tag b"),
        ("<div>bloc</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("collecte < 8 h", 'Unsupported start tag "" at byte offset 9'),
        ("<b>gras</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("fin</b>", "Unexpected end tag at byte offset 3"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
    ],
)
async def test_malformed_html_is_a_bad_request(
    bot: Bot, api: FakeTelegramAPI, text: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)

    [error] = api.errors
    assert error.description == f"Bad Request: can't parse entities: {reason}"
    assert api.sent == []


async def test_well_formed_html_with_nesting_and_code(bot: Bot) -> None:
    message = await bot.send_message(
        CHAT,
        '<b>a <i>b</i></b> <pre><code class="language-python">x</code></pre>'
        ' <span class="tg-spoiler">s</span> &lt;&#233;&#x20AC;&nbsp;',
        parse_mode=ParseMode.HTML,
    )

    assert message.text == "a b x s <é€&nbsp;"  # only four named references are known
    kinds = [(e.type, e.offset, e.length, e.language) for e in message.entities]
    assert kinds == [
        ("bold", 0, 3, None),
        ("italic", 2, 1, None),
        ("pre", 4, 1, "python"),
        ("spoiler", 6, 1, None),
    ]


async def test_text_limits_count_after_entity_parsing(bot: Bot, api: FakeTelegramAPI) -> None:
    await bot.send_message(CHAT, f"<b>{'é' * 4096}</b>", parse_mode=ParseMode.HTML)

    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "&amp;" + "x" * 4096, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, "<b> </b>\n", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, "")
    assert len(api.sent) == 1


async def test_inline_keyboard_checks(bot: Bot, api: FakeTelegramAPI) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "x", reply_markup=keyboard("é" * 33))  # 66 bytes
    with pytest.raises(BadRequest):
        await bot.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("nu")]])
        )

    assert [e.description for e in api.errors] == [
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the"
        " inline keyboard",
    ]
    assert api.sent == []


async def test_replies_need_an_existing_message(bot: Bot, api: FakeTelegramAPI) -> None:
    question = api.inject_message(CHAT, "Quand passe la collecte ?")["message"]

    answer = await bot.send_message(CHAT, "Mardi.", reply_to_message_id=question["message_id"])

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Quand passe la collecte ?"
    assert api.sent[0].reply_to_message_id == question["message_id"]
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(CHAT, "Mardi.", reply_to_message_id=999)


async def test_polling_delivers_updates_until_an_offset_confirms_them(
    bot: Bot, api: FakeTelegramAPI
) -> None:
    command = api.inject_message(CHAT, "/aide@crieur_test_bot la mairie")
    question = api.inject_message(-100123, "Horaires ?", chat_type="supergroup", user_id=7)

    updates = await bot.get_updates(timeout=0)

    assert [u.update_id for u in updates] == [command["update_id"], question["update_id"]]
    first = updates[0].message
    assert first is not None and first.from_user is not None
    assert first.from_user.id == CHAT and first.chat.type == "private"
    assert first.parse_entities(["bot_command"]).popitem()[1] == "/aide@crieur_test_bot"
    second = updates[1].message
    assert second is not None and second.chat.type == "supergroup"
    assert second.from_user is not None and second.from_user.id == 7
    # Nothing is confirmed yet, so the same updates come back, within the limit.
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [command["update_id"]]

    rest = await bot.get_updates(offset=updates[0].update_id + 1)

    assert [u.update_id for u in rest] == [question["update_id"]]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert api.pending_updates == []


async def test_a_long_poll_returns_as_soon_as_a_button_is_pressed(
    bot: Bot, api: FakeTelegramAPI
) -> None:
    api.max_poll_wait = 30  # the poll would hang for the whole timeout without an update
    sent = await bot.send_message(CHAT, "Vous abonner ?", reply_markup=keyboard("oui"))
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda fake: fake.waiting_polls == 1)

    injected = api.inject_callback(CHAT, "oui")
    [update] = await asyncio.wait_for(poll, 1)

    query = update.callback_query
    assert query is not None
    assert query.id == injected["callback_query"]["id"]
    assert query.data == "oui"
    assert query.from_user.id == CHAT
    assert isinstance(query.message, Message)  # not an InaccessibleMessage: it is recent
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == keyboard("oui")
    assert await bot.answer_callback_query(query.id, text="C'est noté")
    assert api.callbacks_answered[0].text == "C'est noté"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)  # a query is answered once


async def test_an_empty_long_poll_ends_at_the_capped_timeout() -> None:
    async with (
        FakeTelegramAPI(max_poll_wait=0.05) as api,
        Bot(api.token, base_url=api.base_url) as bot,
    ):
        assert await bot.get_updates(timeout=10) == ()


async def test_allowed_updates_filters_and_is_remembered(bot: Bot, api: FakeTelegramAPI) -> None:
    api.inject_message(CHAT, "texte")
    button = api.inject_callback(CHAT, "oui")

    updates = await bot.get_updates(allowed_updates=["callback_query"])
    later = api.inject_message(CHAT, "encore")
    again = await bot.get_updates()  # no allowed_updates: the last setting holds

    assert [u.update_id for u in updates] == [button["update_id"]]
    assert [u.update_id for u in again] == [button["update_id"]]
    assert later not in api.pending_updates


async def test_a_second_poller_terminates_the_first(bot: Bot, api: FakeTelegramAPI) -> None:
    api.max_poll_wait = 30
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda fake: fake.waiting_polls == 1)

    async with Bot(api.token, base_url=api.base_url) as other:
        assert await other.get_updates(timeout=0) == ()

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 1)


async def test_429_raises_retry_after(
    bot: Bot, api: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns when retry_after is an int
    api.fail_next("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "Alerte")

    assert caught.value.retry_after == timedelta(seconds=7)
    assert api.count_429 == 1
    await bot.send_message(CHAT, "Alerte")  # only the next call failed
    assert [m.text for m in api.sent] == ["Alerte"]


async def test_flood_control_answers_429_until_a_slot_frees_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    now = [1000.0]
    async with (
        FakeTelegramAPI(clock=lambda: now[0]) as api,
        Bot(api.token, base_url=api.base_url) as bot,
    ):
        api.limit_per_second(2, per_chat=1)
        await bot.send_message(1, "a")
        now[0] += 0.4
        await bot.send_message(2, "b")
        with pytest.raises(RetryAfter) as global_limit:
            await bot.send_message(3, "c")
        now[0] += 0.7  # the first send left the window
        await bot.send_message(3, "c")
        with pytest.raises(RetryAfter) as chat_limit:
            await bot.send_message(3, "d")

        assert global_limit.value.retry_after == timedelta(seconds=1)
        assert chat_limit.value.retry_after == timedelta(seconds=1)
        assert api.count_429 == 2
        assert [m.text for m in api.sent] == ["a", "b", "c"]


async def test_403_raises_forbidden(bot: Bot, api: FakeTelegramAPI) -> None:
    api.fail_next("sendMessage", 403)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "Alerte")


async def test_a_blocked_bot_is_refused_and_told(bot: Bot, api: FakeTelegramAPI) -> None:
    api.inject_message(CHAT, "/start")
    api.block(CHAT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "Alerte")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"

    api.unblock(CHAT)
    await bot.send_message(CHAT, "Alerte")


async def test_a_proxy_502_raises_network_error(bot: Bot, api: FakeTelegramAPI) -> None:
    api.fail_next("sendMessage", 502, count=2)

    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as caught:
            await bot.send_message(CHAT, "Alerte")
        assert type(caught.value) is NetworkError  # not a subclass: the HTML page is unparsed
    await bot.send_message(CHAT, "Alerte")


async def test_a_slow_answer_raises_timed_out(bot: Bot, api: FakeTelegramAPI) -> None:
    api.delay_next("sendMessage", 5)

    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "Alerte", read_timeout=0.1)


async def test_an_unknown_method_fails_loudly(bot: Bot, api: FakeTelegramAPI) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendPigeon", api_kwargs={"chat_id": CHAT})

    assert [call.method for call in api.unknown_calls] == ["sendPigeon"]
    assert api.unknown_calls[0].params == {"chat_id": str(CHAT)}  # as PTB encoded it
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api.base_url}{api.token}/editMessageText") as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }


async def test_json_bodies_are_read_too(api: FakeTelegramAPI) -> None:
    payload = {"chat_id": CHAT, "text": "<i>x</i>", "parse_mode": "HTML"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}{api.token}/sendmessage", json=payload) as response,
    ):
        body = await response.json()

    assert body["ok"] is True
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 1}]


async def test_commands_are_recorded_per_scope(bot: Bot, api: FakeTelegramAPI) -> None:
    commands = [BotCommand("aide", "Ce que je sais faire"), BotCommand("stop", "Se désabonner")]
    await bot.set_my_commands(commands)
    await bot.set_my_commands(
        commands[:1], scope=BotCommandScopeAllPrivateChats(), language_code="fr"
    )

    assert api.commands == [
        {"command": "aide", "description": "Ce que je sais faire"},
        {"command": "stop", "description": "Se désabonner"},
    ]
    assert await bot.get_my_commands() == tuple(commands)
    private = await bot.get_my_commands(BotCommandScopeAllPrivateChats(), language_code="fr")
    assert private == tuple(commands[:1])
    with pytest.raises(BadRequest, match="Bot_command_invalid"):  # PTB lowercases it
        await bot.set_my_commands([BotCommand("Aide!", "x")])


async def test_a_webhook_excludes_get_updates(bot: Bot, api: FakeTelegramAPI) -> None:
    api.inject_message(CHAT, "bonjour")
    assert await bot.set_webhook(
        "https://crieur.example/webhooks/telegram",
        secret_token="s3cret-token",
        allowed_updates=["message", "callback_query"],
    )

    assert api.webhook is not None
    assert api.webhook.url == "https://crieur.example/webhooks/telegram"
    assert api.webhook.secret_token == "s3cret-token"
    assert api.webhook.allowed_updates == ["message", "callback_query"]
    info = await bot.get_webhook_info()
    assert info.url == api.webhook.url and info.pending_update_count == 1
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.webhook is None
    assert await bot.get_updates() == ()


async def test_a_webhook_needs_https_on_an_allowed_port(bot: Bot, api: FakeTelegramAPI) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://crieur.example/webhooks/telegram")
    with pytest.raises(BadRequest, match="ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://crieur.example:8080/webhooks/telegram")
    assert api.webhook is None


async def test_updates_built_for_webhooks_are_not_queued(bot: Bot, api: FakeTelegramAPI) -> None:
    payload = api.make_message_update(CHAT, "/abonner collecte")
    button = api.make_callback_update(CHAT, "oui")

    update = Update.de_json(payload, bot)
    pressed = Update.de_json(button, bot)

    assert update.message is not None and update.message.text == "/abonner collecte"
    assert update.message.entities[0].type == "bot_command"
    assert pressed.callback_query is not None and pressed.callback_query.data == "oui"
    assert pressed.update_id == update.update_id + 1
    assert api.pending_updates == []


async def test_chat_actions_are_recorded(bot: Bot, api: FakeTelegramAPI) -> None:
    assert await bot.send_chat_action(CHAT, "typing")

    assert [(a.chat_id, a.action) for a in api.chat_actions] == [(CHAT, "typing")]


async def test_wait_for_gives_up_at_its_deadline(api: FakeTelegramAPI) -> None:
    with pytest.raises(TimeoutError, match="condition not met"):
        await api.wait_for(lambda fake: bool(fake.sent), timeout=0.05)


async def test_an_application_polls_and_answers(api: FakeTelegramAPI) -> None:
    async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Aide</b> : posez votre question.",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard("horaires"),
        )

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"Vous avez écrit : {html.escape(update.message.text)}")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer(f"Choix : {update.callback_query.data}")

    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handler(CommandHandler("aide", on_help))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    updater = application.updater
    assert updater is not None

    async with application:
        await application.start()
        await updater.start_polling(timeout=timedelta(seconds=10))
        api.inject_message(CHAT, "/aide")
        api.inject_message(CHAT, "Où est la mairie ?")
        await api.wait_for_sent(2)
        api.inject_callback(CHAT, "horaires", message_id=api.sent[0].message_id)
        await api.wait_for(lambda fake: bool(fake.callbacks_answered))
        await updater.stop()
        await application.stop()

    assert [m.plain_text for m in api.sent] == [
        "Aide : posez votre question.",
        "Vous avez écrit : Où est la mairie ?",
    ]
    assert api.sent[0].callback_data == ["horaires"]
    assert api.callbacks_answered[0].text == "Choix : horaires"
    assert api.pending_updates == []  # the updater's last getUpdates confirmed everything
    assert api.unknown_calls == []
    assert {call.method for call in api.calls} == {
        "getMe",
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
        "answerCallbackQuery",
    }


async def test_strict_chats_reach_only_residents_who_wrote() -> None:
    async with (
        FakeTelegramAPI(strict_chats=True) as api,
        Bot(api.token, base_url=api.base_url) as bot,
    ):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(CHAT, "Alerte")
        api.inject_message(CHAT, "/start")
        await bot.send_message(CHAT, "Alerte")
