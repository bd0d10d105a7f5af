"""Every sentence the bot core writes to residents, in one place to review (French)."""

HELP = (
    "Bonjour ! Je suis l'assistant de la mairie de {commune}. Posez-moi votre question en "
    "quelques mots, par exemple : « Comment refaire ma carte d'identité ? » ou "
    "« Quels sont les horaires de la mairie ? ».\n"
    "Je peux aussi vous prévenir (collecte des déchets, menu de la cantine, alertes, agenda) : "
    "/abonner pour choisir, /abonnements pour voir les vôtres, /desabonner pour en arrêter un, "
    "/stop pour tout arrêter et effacer vos données."
)
GREETING_REPLY = "Bonjour ! Que puis-je pour vous ? Posez-moi votre question en quelques mots."
THANKS_REPLY = "Avec plaisir ! N'hésitez pas si vous avez une autre question."
EMPTY = "Je n'ai reçu aucun texte. Posez-moi votre question en quelques mots."
NO_WORDS = (
    "Je ne comprends que les questions écrites avec des mots. Posez-moi votre question "
    "en quelques mots, par exemple : « horaires de la mairie »."
)
ANSWER_FAILED = (
    "Désolé, je n'ai pas pu préparer ma réponse à cause d'un problème technique. Vous pouvez "
    "reformuler votre question, ou contacter la mairie : {contact}."
)
TOO_LONG = (
    "Votre message est un peu long pour moi. Pouvez-vous poser votre question en une ou "
    "deux phrases ? Pour une demande détaillée, écrivez à la mairie : {contact}."
)
UNKNOWN_COMMAND = (
    "Je ne connais pas la commande « {command} ». Tapez /aide pour voir ce que je sais faire."
)
UNKNOWN_CHOICE = "Ce choix n'est plus disponible. Posez-moi à nouveau votre question."

# --- subscriptions -------------------------------------------------------------------------
TOPIC_COLLECTE = "collecte des déchets"
TOPIC_COLLECTE_DETAIL = "la veille au soir de chaque collecte de votre rue, et les reports"
TOPIC_CANTINE = "menu de la cantine"
TOPIC_CANTINE_DETAIL = "le matin de chaque jour d'école"
TOPIC_ALERTES = "alertes de la mairie"
TOPIC_ALERTES_DETAIL = "météo, coupures d'eau, sécurité : à tout moment si c'est urgent"
TOPIC_AGENDA = "agenda de la commune"
TOPIC_AGENDA_DETAIL = "un rappel la veille de chaque événement"
TOPIC_TAG = "événements « {tag} »"
TOPIC_TAG_DETAIL = "un rappel la veille"
TOPICS_INTRO = "Je peux vous prévenir de ceci :"
WHICH_TOPIC = "Je ne connais pas ce thème. Voici ceux que je propose :"
SUBSCRIBE_HOWTO = (
    "Pour vous abonner, écrivez par exemple « /abonner cantine » ou "
    "« /abonner collecte 12 rue des Lilas »."
)
SUBSCRIBE_BUTTON = "S'abonner : {topic}"
UNSUBSCRIBE_BUTTON = "Se désabonner : {topic}"
SUBSCRIBED = (
    "C'est noté, vous êtes abonné(e) : {what} ({detail}). Tapez /abonnements pour voir vos "
    "abonnements, /desabonner pour en arrêter un, /stop pour tout arrêter et effacer vos données."
)
ALREADY_SUBSCRIBED = "Vous êtes déjà abonné(e) : {what}."
FOR_STREET = ", {street}"
UNSUBSCRIBED = "C'est fait, abonnement arrêté : {what}."
NOT_SUBSCRIBED = "Vous n'avez pas d'abonnement à arrêter. Tapez /abonner pour en choisir un."
NO_SUBSCRIPTION = "Vous n'avez aucun abonnement pour l'instant. Je peux vous prévenir de ceci :"
YOUR_SUBSCRIPTIONS = "Vos abonnements :"
STOPPED = (
    "C'est fait : tous vos abonnements sont arrêtés et vos données d'abonnement sont "
    "effacées. Vous pouvez toujours me poser vos questions."
)
STOPPED_NOTHING = "Je n'ai aucune donnée d'abonnement à votre nom : il n'y a rien à effacer."
ASK_STREET = (
    "Pour la collecte, j'ai besoin de votre rue : écrivez par exemple "
    "« /abonner collecte rue des Lilas »."
)
UNKNOWN_STREET = "Je ne trouve pas la rue « {street} » dans le calendrier de collecte."
STREET_EXAMPLES = "Écrivez le nom de votre rue ou de votre lieu-dit, par exemple : {examples}."
WHICH_STREET = "Plusieurs rues correspondent. Laquelle est la vôtre ?"
NO_COLLECTION_CALENDAR = "Cette commune n'a pas de calendrier de collecte en ligne."
SUBSCRIPTIONS_UNAVAILABLE = (
    "Les abonnements ne sont pas disponibles sur ce canal pour l'instant. Vous pouvez "
    "toujours me poser vos questions."
)
