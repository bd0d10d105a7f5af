"""Every sentence the bot core writes to residents, in one place to review (French)."""

HELP = (
    "Bonjour ! Je suis l'assistant de la mairie de {commune}. Posez-moi votre question en "
    "quelques mots, par exemple : « Comment refaire ma carte d'identité ? » ou "
    "« Quels sont les horaires de la mairie ? »."
)
GREETING_REPLY = "Bonjour ! Que puis-je pour vous ? Posez-moi votre question en quelques mots."
THANKS_REPLY = "Avec plaisir ! N'hésitez pas si vous avez une autre question."
EMPTY = "Je n'ai reçu aucun texte. Posez-moi votre question en quelques mots."
NO_WORDS = (
    "Je ne comprends que les questions écrites avec des mots. Posez-moi votre question "
    "en quelques mots, par exemple : « horaires de la mairie »."
)
TOO_LONG = (
    "Votre message est un peu long pour moi. Pouvez-vous poser votre question en une ou "
    "deux phrases ? Pour une demande détaillée, écrivez à la mairie : {contact}."
)
UNKNOWN_COMMAND = (
    "Je ne connais pas la commande « {command} ». Tapez /aide pour voir ce que je sais faire."
)
UNKNOWN_CHOICE = "Ce choix n'est plus disponible. Posez-moi à nouveau votre question."
