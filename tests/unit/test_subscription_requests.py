"""Which plain sentences ask for Crieur's notices, and which only use the same words."""

from __future__ import annotations

import pytest

from bot.subscribing import SubscriptionDialog


@pytest.mark.parametrize(
    "text",
    [
        "je veux m'abonner",
        "comment s'abonner ?",
        "abonnement",
        "comment ça marche l'abonnement ?",
        "je voudrais recevoir le menu de la cantine",
        "abonnez moi aux alertes svp",
        "je veux un rappel quand la poubelle jaune passe",
    ],
)
def test_a_request_for_the_notices_is_a_subscription(text: str) -> None:
    assert SubscriptionDialog.wants(text) == "subscribe"


@pytest.mark.parametrize(
    "text",
    [
        "Combien coûte l'abonnement annuel à la bibliothèque pour un adulte ?",
        "abonnement piscine tarif",
        "qui prévenir pour les poubelles ?",
        # an alarm for a relative who falls, asked without a question mark
        "boitier alerte chute pour mamie comment l'avoir",
    ],
)
def test_another_service_s_subscription_is_not_ours(text: str) -> None:
    assert SubscriptionDialog.wants(text) is None
