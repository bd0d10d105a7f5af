"""Residents' data under the GDPR: what is kept about one address, erasing it, purging old
logs, and the commune's *registre des traitements* entry.

Crieur keeps little: a subscriber is a channel address with topics and consent records;
questions are logged without any address, for the agents, and purged after the retention
period; delivery rows and messaging services' statuses are purged after it too; a
conversation's context (kept in the store only when several processes share it) is purged
once idle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.conversations import IDLE_AFTER
from bot.messages import Address
from bot.store import Store
from bot.store.schema import (
    consents,
    conversations,
    deliveries,
    notices,
    of_address,
    push_subscriptions,
    questions,
    sent_messages,
    subscribers,
    subscriptions,
    whatsapp_contacts,
)


def parse_address(text: str) -> Address:
    """`telegram:12345` → Address("telegram", "12345"); ValueError with a French message."""
    channel, _, chat_id = text.partition(":")
    if not channel or not chat_id:
        raise ValueError(
            f"adresse invalide « {text} » (attendu canal:identifiant, ex. telegram:123)"
        )
    return Address(channel, chat_id)


async def export(store: Store, address: Address) -> dict[str, Any]:
    """Everything Crieur keeps about one address, as JSON-ready data."""
    async with store.connect() as connection:
        subscriber = (
            await connection.execute(select(subscribers).where(of_address(subscribers, address)))
        ).first()
        found: dict[str, Any] = {
            "adresse": f"{address.channel}:{address.chat_id}",
            "abonne": None,
            "abonnements": [],
            "consentements": [],
            "envois": [],
            "questions": "enregistrées sans adresse : elles ne peuvent être rattachées à personne",
        }
        if subscriber is not None:
            found["abonne"] = {
                "cree_le": subscriber.created_at.isoformat(),
                "vu_le": subscriber.last_seen_at.isoformat(),
                "actif": subscriber.active,
            }
            rows = await connection.execute(
                select(subscriptions).where(subscriptions.c.subscriber_id == subscriber.id)
            )
            found["abonnements"] = [
                {"theme": r.topic, "secteur": r.zone or None, "rue": r.street,
                 "depuis": r.created_at.isoformat()} for r in rows
            ]  # fmt: skip
            rows = await connection.execute(
                select(consents).where(consents.c.subscriber_id == subscriber.id)
            )
            found["consentements"] = [
                {"le": r.at.isoformat(), "canal": r.channel, "action": r.action,
                 "theme": r.topic, "secteur": r.zone or None, "mots": r.words} for r in rows
            ]  # fmt: skip
            rows = await connection.execute(
                select(notices.c.key, notices.c.text, deliveries.c.status, deliveries.c.sent_at)
                .join(notices, notices.c.id == deliveries.c.notice_id)
                .where(deliveries.c.subscriber_id == subscriber.id)
            )
            found["envois"] = [
                {"avis": r.key, "texte": r.text, "etat": r.status,
                 "envoye_le": r.sent_at.isoformat() if r.sent_at else None} for r in rows
            ]  # fmt: skip
        if address.channel == "whatsapp":
            last = await connection.scalar(
                select(whatsapp_contacts.c.last_inbound_at).where(
                    whatsapp_contacts.c.wa_id == address.chat_id
                )
            )
            found["whatsapp_dernier_message"] = last.isoformat() if last else None
        if address.channel == "webpush":
            endpoint = await connection.scalar(
                select(push_subscriptions.c.endpoint).where(
                    push_subscriptions.c.chat_id == address.chat_id
                )
            )
            found["notification_navigateur"] = endpoint
        conversation = (
            await connection.execute(
                select(conversations).where(of_address(conversations, address))
            )
        ).first()
        if conversation is not None:  # only kept when several processes share the store
            found["conversation_en_cours"] = {
                "rue": conversation.street,
                "question_en_attente": conversation.pending_question,
                "vue_le": conversation.seen_at.isoformat(),
            }
    return found


async def erase(store: Store, address: Address) -> bool:
    """Erase the address: subscriber, topics, consents, pending deliveries, channel state."""
    async with store.begin() as connection:
        result = await connection.execute(
            delete(subscribers).where(of_address(subscribers, address))
        )
        erased = (result.rowcount or 0) > 0
        done = await connection.execute(
            delete(conversations).where(of_address(conversations, address))
        )
        erased = erased or (done.rowcount or 0) > 0
        if address.channel == "whatsapp":
            done = await connection.execute(
                delete(whatsapp_contacts).where(whatsapp_contacts.c.wa_id == address.chat_id)
            )
            erased = erased or (done.rowcount or 0) > 0
        if address.channel == "webpush":
            done = await connection.execute(
                delete(push_subscriptions).where(push_subscriptions.c.chat_id == address.chat_id)
            )
            erased = erased or (done.rowcount or 0) > 0
    return erased


async def purge(store: Store, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete logs older than the retention period; returns the rows deleted per table."""
    cutoff = now - timedelta(days=retention_days)
    deleted: dict[str, int] = {}
    async with store.begin() as connection:
        for name, statement in (
            ("questions", delete(questions).where(questions.c.asked_at < cutoff)),
            (
                "conversations",
                delete(conversations).where(conversations.c.seen_at < now - IDLE_AFTER),
            ),
            ("sent_messages", delete(sent_messages).where(sent_messages.c.updated_at < cutoff)),
            (
                "deliveries",
                delete(deliveries)
                .where(deliveries.c.status.in_(("sent", "failed", "gone", "expired")))
                .where(deliveries.c.due_at < cutoff),
            ),
        ):
            result = await connection.execute(statement)
            deleted[name] = max(result.rowcount or 0, 0)
    return deleted


def registre(commune: str, contact: str, channels: list[str], retention_days: int) -> str:
    """The commune's entry in its *registre des traitements* (art. 30 GDPR), in French."""
    canaux = ", ".join(channels) or "site web"
    return f"""# Registre des traitements — assistant de la mairie ({commune})

**Responsable du traitement** : commune de {commune} ({contact}).

**Finalités** : répondre aux questions des habitants ; envoyer aux habitants qui l'ont
demandé des avis (collecte des déchets, menu de la cantine, agenda, alertes) ; permettre
aux agents d'améliorer les réponses.

**Base légale** : mission d'intérêt public (réponses) ; consentement (abonnements, retirable
à tout moment par /desabonner ou /stop).

**Personnes concernées** : habitants et usagers qui écrivent à l'assistant ou s'y abonnent ;
agents de la mairie (comptes de l'espace agents).

**Données** :
- abonnés : identifiant technique du canal ({canaux}), thèmes, rue ou secteur de collecte,
  dates et mots du consentement, état des envois ;
- questions posées : texte et date, **sans** identifiant de la personne ;
- agents : identifiant, empreinte du mot de passe (argon2), rôle, dates de connexion.

**Destinataires** : agents habilités de la mairie ; sous-traitants techniques des canaux
choisis par l'habitant (Telegram, Meta/WhatsApp, Matrix, services de notification des
navigateurs), pour l'acheminement des messages seulement.

**Durées de conservation** : questions, états d'envoi et traces d'acheminement :
{retention_days} jours ; abonnements : jusqu'au désabonnement ou à /stop (effacement
immédiat) ; comptes agents : durée des fonctions.

**Droits** : accès et effacement auprès de la mairie ({contact}) ; l'habitant peut aussi
tout effacer lui-même en écrivant /stop.

**Sécurité** : hébergement par la collectivité ou son prestataire, chiffrement TLS,
mots de passe hachés, jetons CSRF, journaux sans le texte des messages.
"""
