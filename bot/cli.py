"""The `crieur` command: ask a question, check a pack, run the bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

from bot import installed_version
from bot.config import ConfigError, Settings
from bot.dispatcher import Dispatcher
from bot.messages import Address, Answer, Inbound
from bot.tenants import command_settings
from knowledge.check import check_pack
from knowledge.pack import PackError
from knowledge.snapshot import Knowledge


class _PrintVersion(argparse.Action):
    """`--version`, looking the version up only when it is asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="afficher la version")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.exit(message=f"crieur {installed_version()}\n")


def _notice_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    notices = commands.add_parser("notices", help="avis programmés, sans rien envoyer")
    notices.add_argument("--pack", type=Path, help="dossier du pack")
    notices.add_argument("--config", help="fichier de configuration TOML")
    notices.add_argument("--from", dest="start", required=True, help="premier jour, AAAA-MM-JJ")
    notices.add_argument("--to", dest="end", required=True, help="dernier jour, AAAA-MM-JJ")
    notices.add_argument("--zone", help="secteur de collecte")
    notices.add_argument("--topic", help="thème (collecte, cantine, agenda…)")
    notices.add_argument("--json", action="store_true", help="un objet JSON par ligne")

    broadcast = commands.add_parser("broadcast", help="envoyer une annonce aux abonnés")
    broadcast.add_argument("text", nargs="?", help="le texte de l'annonce")
    broadcast.add_argument("--config", help="fichier de configuration TOML")
    broadcast.add_argument("--topic", help="thème des abonnés visés (alertes, collecte…)")
    broadcast.add_argument("--zone", help="secteur visé (par défaut : tous)")
    broadcast.add_argument("--at", help="date et heure d'envoi, ISO 8601 (défaut : maintenant)")
    broadcast.add_argument("--urgent", action="store_true", help="ignorer les heures calmes")
    broadcast.add_argument("--yes", action="store_true", help="ne pas demander de confirmation")
    broadcast.add_argument("--author", help="auteur inscrit au journal (défaut : l'utilisateur)")
    broadcast.add_argument("--no-wait", action="store_true", help="ne pas suivre l'envoi")
    broadcast.add_argument("--cancel", type=int, metavar="N", help="annuler l'annonce n° N")
    broadcast.add_argument("--list", action="store_true", help="journal des annonces")


def _admin_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="comptes de l'espace agents (/admin)")
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("create-user", "créer un compte d'agent"),
        ("reset-password", "changer le mot de passe d'un compte (et le débloquer)"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("username", metavar="IDENTIFIANT")
        action.add_argument("--config", type=Path, help="fichier de configuration TOML")
        action.add_argument(
            "--password-stdin",
            action="store_true",
            help="lire le mot de passe sur l'entrée standard (une ligne) au lieu du terminal",
        )
        if name == "create-user":
            action.add_argument(
                "--role", choices=("agent", "admin"), default="agent", help="rôle (agent)"
            )


def _ops_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gdpr = commands.add_parser("gdpr", help="données personnelles (RGPD)")
    actions = gdpr.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("export", "tout ce qui est gardé sur une adresse, en JSON"),
                       ("erase", "effacer une adresse et tout ce qui s'y rattache")):  # fmt: skip
        action = actions.add_parser(name, help=text)
        action.add_argument("address", help="canal:identifiant, par exemple telegram:12345")
        action.add_argument("--config", type=Path, help="fichier de configuration TOML")
    entry = actions.add_parser("registre", help="la fiche du registre des traitements")
    entry.add_argument("--config", type=Path, help="fichier de configuration TOML")

    backup = commands.add_parser("backup", help="sauvegarder la base SQLite (à chaud)")
    backup.add_argument("target", type=Path, help="fichier de sauvegarde à créer")
    backup.add_argument("--config", type=Path, help="fichier de configuration TOML")
    restore = commands.add_parser("restore", help="remettre une sauvegarde (bot arrêté)")
    restore.add_argument("source", type=Path, help="fichier de sauvegarde")
    restore.add_argument("--config", type=Path, help="fichier de configuration TOML")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crieur", description="Crieur : l'assistant qui répond aux habitants d'une commune."
    )
    parser.add_argument("--version", action=_PrintVersion)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    ask = commands.add_parser("ask", help="poser une question au bot")
    ask.add_argument("question", nargs="?", help="la question (sans --jsonl)")
    ask.add_argument("--pack", type=Path, help="dossier du pack (par défaut : la configuration)")
    ask.add_argument("--config", type=Path, help="fichier de configuration TOML")
    ask.add_argument(
        "--now", help="date et heure de la question, ISO 8601 (par défaut : maintenant)"
    )
    ask.add_argument("--json", action="store_true", help="répondre en JSON")
    ask.add_argument(
        "--jsonl", action="store_true", help='lire {"q": …, "now": …} par ligne sur stdin'
    )

    check = commands.add_parser("check", help="vérifier un pack et lister ses problèmes")
    check.add_argument("pack", type=Path)

    calendar = commands.add_parser("calendar", help="jours de collecte d'un secteur")
    calendar.add_argument("--pack", type=Path, help="dossier du pack")
    calendar.add_argument("--config", type=Path, help="fichier de configuration TOML")
    calendar.add_argument("--zone", required=True, help="identifiant du secteur (zone)")
    calendar.add_argument(
        "--from", dest="start", help="premier jour, AAAA-MM-JJ (défaut : aujourd'hui)"
    )
    calendar.add_argument("--to", dest="end", help="dernier jour, AAAA-MM-JJ (défaut : +3 mois)")
    calendar.add_argument("--ics", action="store_true", help="écrire un fichier iCalendar")

    _notice_parsers(commands)

    _admin_parsers(commands)

    _ops_parsers(commands)

    run = commands.add_parser("run", help="lancer le bot (chat web, canaux configurés)")
    run.add_argument("--config", type=Path, help="fichier de configuration TOML (ou CRIEUR_CONFIG)")
    _tenant_options(parser)
    return parser


def _tenant_options(parser: argparse.ArgumentParser) -> None:
    """`--tenant ID` beside every `--config` (but `run`'s): the command then acts on that
    commune of `[tenants] dir`, its pack and its store."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if name == "run":
                    continue
                if any("--config" in a.option_strings for a in sub._actions):
                    sub.add_argument("--tenant", metavar="COMMUNE",
                                     help="la commune visée, avec [tenants] dir")  # fmt: skip
                _tenant_options(sub)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args.pack)
        if args.command == "ask":
            return _ask(args)
        if args.command in ("notices", "broadcast"):
            from bot import notice_commands

            if args.command == "notices":
                return notice_commands.print_notices(args)
            return notice_commands.broadcast(args)
        if args.command == "admin":
            return _admin(args)
        if args.command in ("gdpr", "backup", "restore"):
            from bot.ops_commands import run as run_ops

            return run_ops(args)
        if args.command == "calendar":
            from bot.calendar_command import print_calendar

            return print_calendar(args)
        return _run(args.config)
    except (ConfigError, PackError) as exc:
        print(f"crieur : {exc}", file=sys.stderr)
        return 2


def _check(folder: Path) -> int:
    problems = check_pack(folder)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problème(s) dans le pack {folder}.", file=sys.stderr)
        return 1
    knowledge = Knowledge.load(folder)
    pack = knowledge.pack
    print(
        f"Pack valide : {pack.commune.name}, {len(pack.faq)} entrées de FAQ, "
        f"{len(pack.services)} lieux, {len(pack.events)} événements, {len(pack.menus)} menus."
    )
    return 0


def _parse_now(value: str | None, knowledge: Knowledge) -> datetime:
    tz = knowledge.pack.commune.tz
    if not value:
        return datetime.now(tz)
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _ask(args: argparse.Namespace) -> int:
    folder = args.pack or command_settings(args.config, args.tenant).pack_path()
    knowledge = Knowledge.load(folder)
    dispatcher = Dispatcher(lambda: knowledge)
    if args.jsonl:
        return asyncio.run(_ask_lines(dispatcher, knowledge))
    if not args.question:
        print("crieur ask : donnez une question, ou --jsonl", file=sys.stderr)
        return 2
    try:
        now = _parse_now(args.now, knowledge)
    except ValueError:
        print(f"crieur ask : --now invalide : {args.now!r} (attendu ISO 8601)", file=sys.stderr)
        return 2
    answer = asyncio.run(dispatcher.handle(Inbound(Address("cli", "0"), args.question, now)))
    if args.json:
        print(json.dumps(_as_json(answer), ensure_ascii=False))
    else:
        print(answer.text)
        for number, choice in enumerate(answer.choices, 1):
            print(f"  {number}. {choice.label}")
    return 0


async def _ask_lines(dispatcher: Dispatcher, knowledge: Knowledge) -> int:
    status = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = item["q"]
            if not isinstance(question, str):
                raise TypeError
            now = _parse_now(item.get("now"), knowledge)
        except (ValueError, KeyError, TypeError, AttributeError):
            print(f'crieur ask : ligne {number} invalide (attendu {{"q": …}})', file=sys.stderr)
            print(
                json.dumps({"entry": None, "answer": "", "score": 0.0, "error": "ligne invalide"})
            )
            status = 1
            continue
        inbound = Inbound(Address("cli", str(number)), question, now)
        print(
            json.dumps(_as_json(await dispatcher.handle(inbound)), ensure_ascii=False), flush=False
        )
    sys.stdout.flush()
    return status


def _as_json(answer: Answer) -> dict[str, object]:
    return {
        "entry": answer.source,
        "answer": answer.text,
        "score": round(answer.score, 4),
        "suggestions": [choice.label for choice in answer.choices],
    }


def _run(config: Path | None) -> int:
    from bot.app import App  # the web server's imports are only paid by `crieur run`
    from bot.host import Host
    from bot.logs import configure

    settings = command_settings(config, None)
    configure(settings.log.format, settings.log.level)
    app = Host(settings) if settings.tenants.dir is not None else App(settings)
    asyncio.run(app.run(on_ready=lambda url: print(f"Crieur répond sur {url}", flush=True)))
    return 0


def _admin(args: argparse.Namespace) -> int:
    """`crieur admin create-user|reset-password`: accounts of the back-office."""
    from bot.agents import AgentError, check_password, check_username
    from bot.store import StoreError

    settings = command_settings(args.config, args.tenant)
    try:
        username = check_username(args.username)
        password = _read_password(args.password_stdin)
        check_password(password)
        return asyncio.run(_admin_account(args.action, settings, username, password,
                                          getattr(args, "role", "agent")))  # fmt: skip
    except AgentError as exc:
        print(f"crieur admin : {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"crieur admin : {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\ncrieur admin : abandon, aucun compte modifié", file=sys.stderr)
        return 1


def _read_password(from_stdin: bool) -> str:
    """One line of stdin, or typed twice without echo on the terminal."""
    import getpass

    from bot.agents import AgentError

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Mot de passe (confirmation) : ")
    if first != second:
        raise AgentError("les deux mots de passe ne sont pas identiques")
    return first


async def _admin_account(
    action: str, settings: Settings, username: str, password: str, role: str
) -> int:
    from bot.agents import AgentError, Agents
    from bot.store import Store

    store = await Store.open(settings.storage_url(), schema=settings.storage.schema_name)
    try:
        agents = Agents(store)
        if action == "create-user":
            await agents.create(username, password, role)
            label = "administrateur" if role == "admin" else "agent"
            print(f"Compte « {username} » créé (rôle : {label}).")
            return 0
        found = await agents.by_username(username)
        if found is None:
            raise AgentError(f"aucun compte « {username} »")
        await agents.set_password(found.id, password)
        print(f"Mot de passe de « {username} » changé ; ses sessions ouvertes sont fermées.")
        return 0
    finally:
        await store.close()
