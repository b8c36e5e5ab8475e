"""The `wegweiser` command: chat, run, status, config, validate, match, report, share."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.catalogue import CatalogueError, check_catalogue, load_catalogue
from bot.engine import Engine
from bot.i18n import negotiate
from bot.i18n.catalogues import load_languages
from bot.matching import TopicMatcher, guess_language
from bot.catalogue.parsecache import ParseCache
from bot.config import Config, secrets
from bot.config import load as load_config
from bot.logs import configure_logging
from bot.paths import default_cache_dir, default_content, default_data_dir, default_locales
from bot.reload import Outcome, Reloader
from bot.service import Service
from bot.stats.collect import KEEP_EVENTS_DAYS
from bot.status import status_url
from bot.store import MemoryStore, open_store

if TYPE_CHECKING:
    from bot.runner import Runner

log = logging.getLogger("wegweiser")


def _cache(env: Mapping[str, str]) -> ParseCache:
    return ParseCache(default_cache_dir(env) / "parsed")


def _build_engine(content: Path, locales: Path, cache: ParseCache, keep_days: int = 30,
                  share_link: Callable[[str], str] | None = None) -> Engine:
    return Engine(load_catalogue(content, cache), load_languages(locales),
                  keep_days=keep_days, share_link=share_link)


def _share_link(env: Mapping[str, str]) -> Callable[[str], str] | None:
    """Links in shared invitations and results open the bot on Telegram when its username is
    known (WEGWEISER_TELEGRAM_BOT); Matrix links cannot carry a search."""
    from bot.links import telegram_link

    bot = env.get("WEGWEISER_TELEGRAM_BOT", "").strip()
    return (lambda payload: telegram_link(bot, payload)) if bot else None


def _print_problems(problems: Sequence[object], stream=sys.stderr) -> None:
    for problem in problems:
        print(problem, file=stream)
    print(f"\n{len(problems)} problem(s) found.", file=stream)


def cmd_validate(args: argparse.Namespace) -> int:
    catalogue, problems = check_catalogue(args.dir, _cache(args.env))
    if problems:
        _print_problems(problems, sys.stdout)
        return 1
    assert catalogue is not None
    print(f"{args.dir}: OK: {len(catalogue.topics)} topics, {len(catalogue.questions)} "
          f"questions, {len(catalogue.offers)} offers.")
    return 0


def _match_json(matcher: TopicMatcher, query: str, lang: str | None) -> str:
    match = matcher.match(query)
    return json.dumps({
        "query": query,
        "lang": lang or guess_language(query),
        "topics": [{"id": t.id, "score": t.score} for t in match.topics],
        "confident": match.confident,
    }, ensure_ascii=False)


def cmd_match(args: argparse.Namespace) -> int:
    matcher = TopicMatcher(load_catalogue(args.content, _cache(args.env)))
    queries = [args.query] if args.query is not None else (
        line.rstrip("\n") for line in sys.stdin)
    for query in queries:
        if args.json:
            print(_match_json(matcher, query, args.lang), flush=True)
        else:
            match = matcher.match(query)
            verdict = "confident" if match.confident else "not confident"
            scores = ", ".join(f"{t.id} {t.score:.2f}" for t in match.topics) or "nothing"
            print(f"{query!r}: {scores} ({verdict})", flush=True)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.adapters.console import ConsoleAdapter

    engine = _build_engine(args.content, args.locales, _cache(args.env))
    lang = negotiate(args.lang, engine.languages) if args.lang else None
    if args.lang and not lang:
        print(f"No translation for {args.lang!r}; available: "
              f"{', '.join(sorted(engine.languages))}", file=sys.stderr)
        return 2
    service = Service(engine, MemoryStore())
    try:
        asyncio.run(ConsoleAdapter(service, lang=lang).run())
    except KeyboardInterrupt:
        print()
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot import adapters
    from bot.config import check_adapters
    from bot.endpoint import EndpointError
    from bot.endpoint import serve as serve_endpoint
    from bot.metrics import Metrics
    from bot.runner import Runner

    config: Config = args.config
    names = _adapter_names(args)
    if not names:
        print("Name the chat platforms to serve: `wegweiser run telegram` (or several: "
              "`wegweiser run telegram matrix`), or set [bot] adapters in the config file "
              "(WEGWEISER_ADAPTERS).", file=sys.stderr)
        return 2
    problems = check_adapters(config, names)  # before anything is opened or created
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    cache = _cache(args.env)
    engine = _build_engine(args.content, args.locales, cache, args.keep_days,
                           _share_link(args.env))
    try:
        store = open_store(args.data_dir, args.env)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    metrics = Metrics()
    service = Service(engine, store, observer=metrics)
    classes = {name: adapters.load(name) for name in names}
    make = {name: functools.partial(cls, service, data_dir=args.data_dir, env=args.env)
            for name, cls in classes.items()}
    runner = Runner(make, metrics)
    log.info("starting %s with %d offers", ", ".join(names), len(engine.catalogue.offers))

    async def serve() -> bool:
        loop = asyncio.get_running_loop()
        if all(hasattr(cls, "stop") for cls in classes.values()):
            # the console adapter stops with the terminal instead
            for signum in (signal.SIGTERM, signal.SIGINT):
                # stop taking messages, finish the turns in flight, then return normally
                loop.add_signal_handler(signum, runner.stop)
        reloader = Reloader(service, args.content, args.locales, cache)
        _wire_admins(runner, reloader)
        metrics.watch_catalogue(service, reloader)
        metrics.watch_store(store)
        reloading: set[asyncio.Task[object]] = set()

        def reload_now() -> None:  # SIGHUP, as for most daemons
            task = asyncio.create_task(reloader.reload())
            reloading.add(task)
            task.add_done_callback(reloading.discard)

        loop.add_signal_handler(signal.SIGHUP, reload_now)
        listen = config.get("metrics.listen")
        # the console is a person at a terminal, not a service to watch
        watched = listen != "off" and names != ["console"]
        endpoint = serve_endpoint(metrics, listen) if watched else None
        if endpoint is not None:
            log.info("health and metrics on http://%s/health and /metrics", listen)
        counting = metrics.log_handler()
        logging.getLogger().addHandler(counting)
        background = [
            asyncio.create_task(service.keep_forgetting(
                timedelta(days=args.keep_days),
                events_retention=timedelta(days=args.keep_stats_days))),
            asyncio.create_task(reloader.watch()),
        ]
        try:
            return await runner.run()
        finally:
            for task in background:
                task.cancel()
            if endpoint is not None:
                endpoint.stop()
            logging.getLogger().removeHandler(counting)
            await store.close()
            log.info("stopped; every turn in flight was finished")

    try:
        stopped = asyncio.run(serve())
    except EndpointError as err:
        print(err, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0 if stopped or names == ["console"] else 1


def _adapter_names(args: argparse.Namespace) -> list[str]:
    """The adapters named on the command line, else in the settings, each once."""
    return list(dict.fromkeys(args.adapters or args.config.get_list("bot.adapters")))


def _wire_admins(runner: Runner, reloader: Reloader) -> None:
    """Admins of every chat adapter can reload, see in /status how every platform is, and
    hear about reloads that failed, from whichever instance of the adapter runs now (they
    are replaced when they restart)."""
    def wire(name: str, adapter: object) -> None:
        admin = getattr(adapter, "admin", None)
        if admin is not None:
            admin.reloader = reloader
            admin.health = runner.metrics.health

    def teller(name: str) -> Callable[[Outcome], Awaitable[None]]:
        async def tell(outcome: Outcome) -> None:
            adapter = runner.current.get(name)
            if adapter is not None and hasattr(adapter, "tell_admins"):
                await adapter.tell_admins(outcome)
        return tell

    runner.on_start.append(wire)
    reloader.listeners.extend(teller(name) for name in runner.make)


def cmd_config_check(args: argparse.Namespace) -> int:
    from bot.config import check_adapters, describe

    config: Config = args.config
    names = _adapter_names(args)
    source = (f"{config.file}, and the environment (which wins)" if config.file
              else "the environment only (no config file: give --config FILE, set "
                   "WEGWEISER_CONFIG, or put wegweiser.toml in the current folder)")
    print(f"Settings from {source}:\n")
    print("\n".join(describe(config)))
    problems = [*config.problems, *check_adapters(config, names)]
    for warning in config.warnings:
        print(f"\nwarning: {warning}")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    ready = f"; ready to run {', '.join(names)}" if names else (
        "; no adapters named (set [bot] adapters, or `wegweiser config check telegram`)")
    print(f"\nOK{ready}.")
    return 0


def cmd_config_example(args: argparse.Namespace) -> int:  # noqa: ARG001
    from bot.config import example

    sys.stdout.write(example())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bot.status import fetch, render

    listen = args.config.get("metrics.listen")
    if args.url is None and listen == "off":
        print("The health endpoint is off ([metrics] listen / WEGWEISER_METRICS_LISTEN): "
              "nothing to ask.", file=sys.stderr)
        return 2
    url = args.url or status_url(listen)
    try:
        healthy, report = fetch(url)
    except OSError as err:
        if not args.quiet:
            print(f"No Wegweiser answers at {url} ({err}). Is `wegweiser run` running, with "
                  "the same [metrics] listen setting?", file=sys.stderr)
        return 2
    if not args.quiet:
        print(json.dumps(report, indent=2, ensure_ascii=False) if args.json
              else render(report, url))
    return 0 if healthy else 1


def _interface_languages(locales: Path) -> list[str]:
    """German and English, then every language the interface is translated to, by code."""
    from bot.catalogue.model import REQUIRED_LANGUAGES
    from bot.i18n.catalogues import DOMAIN

    found = sorted(p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return [*REQUIRED_LANGUAGES, *(code for code in found if code not in REQUIRED_LANGUAGES)]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days")
    return int(text)


def cmd_content_report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.catalogue.report import build_report, render_html, render_json, render_text

    catalogue = load_catalogue(args.content, _cache(args.env))
    today = args.today or datetime.now(UTC).date()  # the bot's day, as in bot/service.py
    report = build_report(catalogue, _interface_languages(args.locales), today,
                          expiring_within=args.expiring_within, review_after=args.review_after)
    render = render_json if args.json else render_html if args.html else render_text
    sys.stdout.write(render(report))
    return 0


def _catalogue_districts(content: Path) -> tuple[str, ...]:
    """The districts of content/catalogue.yaml, or none (with a warning) if it is unreadable."""
    from pydantic import TypeAdapter, ValidationError

    from bot.catalogue.loader import CATALOGUE_FILE
    from bot.catalogue.model import Meta
    from bot.catalogue.yamlread import YamlProblem, read_yaml

    path = content / CATALOGUE_FILE
    try:
        meta = TypeAdapter(Meta).validate_python(read_yaml(path.read_text("utf-8")).data)
    except (OSError, UnicodeDecodeError, YamlProblem, ValidationError):
        print(f"warning: {path} cannot be read (see `wegweiser validate`); the schemas will "
              "accept any district name", file=sys.stderr)
        return ()
    return meta.districts


def _workspace_path(path: Path) -> str:
    """`path` as written in editor settings: relative to the current folder if inside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return absolute.as_posix()


def cmd_content_schema(args: argparse.Namespace) -> int:
    from bot.catalogue.schema import schemas, vscode_settings

    found = schemas(_catalogue_districts(args.content))
    if args.out is None:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for kind, schema in found.items():
        path = args.out / f"{kind}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", "utf-8")
        written[kind] = _workspace_path(path)
        print(f"wrote {path}")
    content = _workspace_path(args.content)
    modeline = os.path.relpath((args.out / "offers.schema.json").resolve(),
                               (args.content / "offers").resolve())
    print("\nTo have VS Code (extension: YAML by Red Hat) check the files as you type, put this "
          "in .vscode/settings.json\n(paths relative to the workspace folder, here the current "
          "folder):\n")
    print(json.dumps(vscode_settings(written, content), indent=2))
    print("\nOr name the schema in a file's first line, e.g. in "
          f"{content}/offers/<provider>.yaml:\n\n"
          f"# yaml-language-server: $schema={Path(modeline).as_posix()}")
    return 0


#: `wegweiser report` without --from: the 28 days (four weeks) that end with --to, by default
#: yesterday, the last complete day (the bot's days are UTC days, as in bot/service.py).
REPORT_DAYS = 28


def _report_period(args: argparse.Namespace) -> tuple[date, date]:
    from datetime import UTC, datetime

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    last = args.to or yesterday
    first = args.from_ or last - timedelta(days=REPORT_DAYS - 1)
    return first, last


def _report_names(content: Path, lang: str, cache: ParseCache) -> dict[str, dict[str, str]]:
    """Names of topics and parts of town in the report's language, from the catalogue; none
    (ids are shown, with a warning) if it cannot be loaded."""
    from bot.catalogue.model import pick
    from bot.stats.report import DISTRICT_QUESTION

    try:
        catalogue = load_catalogue(content, cache)
    except CatalogueError as err:
        print(f"warning: the catalogue in {content} cannot be loaded ({err}): the report shows "
              "ids instead of names", file=sys.stderr)
        return {}
    districts: dict[str, str] = {}
    for question in catalogue.questions:
        for option in question.options:
            if question.id == DISTRICT_QUESTION or (option.prefer and option.prefer.districts):
                # "Mitte (Altstadt, Werder, Alte Neustadt)": the part before the brackets
                districts.setdefault(option.id, pick(option.label, lang).split(" (")[0])
    return {"topic": {tid: pick(topic.name, lang) for tid, topic in catalogue.topics.items()},
            "district": districts}


def cmd_report(args: argparse.Namespace) -> int:
    from bot.stats.collect import counts_between
    from bot.stats.report import build, render_csv, render_html, render_text
    from bot.store import SQLITE_FILE

    first, last = _report_period(args)
    if first > last:
        print(f"--from {first} is after --to {last}", file=sys.stderr)
        return 2
    if not args.env.get("WEGWEISER_STORE", "").strip() and not (
            args.data_dir / SQLITE_FILE).exists():
        print(f"No statistics in {args.data_dir}: there is no {SQLITE_FILE} (give the bot's "
              "--data-dir, or set WEGWEISER_STORE as for `wegweiser run`)", file=sys.stderr)
        return 1
    try:
        store = open_store(args.data_dir, args.env)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2

    async def read() -> list:
        try:
            return await counts_between(store, first, last)
        finally:
            await store.close()

    report = build(asyncio.run(read()), first, last)
    names = _report_names(args.content, args.lang, _cache(args.env))
    if args.html is None and args.csv is None:
        sys.stdout.write(render_text(report, args.lang, names))
        return 0
    if args.html is not None:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(report, args.lang, names), "utf-8")
        print(f"wrote {args.html}")
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
        for name, text in render_csv(report).items():
            (args.csv / name).write_text(text, "utf-8")
            print(f"wrote {args.csv / name}")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    """Start links for volunteers: checked against the catalogue, so a typo is caught here
    and not on a printed poster. With several languages, one link (and one QR code on the
    poster) per language."""
    from bot.engine.signals import district_question
    from bot.links import matrix_link, start_payload, telegram_link

    catalogue = load_catalogue(args.content, _cache(args.env))
    languages = load_languages(args.locales)
    where = district_question(catalogue)
    districts = [o.id for o in where.options] if where else []
    langs = [code.strip() for value in (args.lang or []) for code in value.split(",")
             if code.strip()]
    langs = list(dict.fromkeys(langs))
    wrong = [(what, value, known) for what, value, known in (
        *(("language", lang, sorted(languages)) for lang in langs),
        ("topic", args.topic, sorted(catalogue.topics)),
        ("district", args.district, districts)) if value and value not in known]
    for what, value, known in wrong:
        print(f"unknown {what} {value!r}; one of: {', '.join(known)}", file=sys.stderr)
    if wrong:
        return 2
    if args.poster is not None and not langs:
        print("a poster needs the languages to show: --lang ar,fa,uk", file=sys.stderr)
        return 2
    try:
        payloads = {lang: start_payload(lang, args.topic, args.district, args.ref)
                    for lang in langs or [None]}
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    bot = args.telegram_bot or args.env.get("WEGWEISER_TELEGRAM_BOT")
    matrix = args.matrix_user or args.env.get("WEGWEISER_MATRIX_USER")
    if not bot and not matrix:
        print("name the bot: --telegram-bot NAME (or WEGWEISER_TELEGRAM_BOT) and/or "
              "--matrix-user @name:server (or WEGWEISER_MATRIX_USER)", file=sys.stderr)
        return 2
    several = len(payloads) > 1
    for lang, payload in payloads.items():
        label = f" {lang}" if several else ""
        if bot:
            print(f"Telegram{label}: {telegram_link(bot, payload)}")
        if matrix:
            hint = f" (then send: start {payload})" if payload else ""
            print(f"Matrix{label}:{'' if several else '  '} {matrix_link(matrix)}{hint}")

    def link(payload: str) -> str:
        # A Telegram link carries the payload; a Matrix one cannot (the words are printed).
        return telegram_link(bot, payload) if bot else matrix_link(matrix or "")

    if args.qr is None and args.poster is None:
        return 0
    from bot import poster
    from bot.chromium import RenderError

    try:
        if args.qr is not None:
            poster.save_qr(link(next(iter(payloads.values()))), args.qr)
            print(f"wrote {args.qr}")
        if args.poster is not None:
            from bot.catalogue.model import pick

            topic = catalogue.topics[args.topic] if args.topic else None
            blocks = [poster.poster_block(languages[lang], link(payload),
                                          topic.name if topic else None, payload, matrix)
                      for lang, payload in payloads.items() if lang]
            png = poster.render_poster(blocks, args.poster,
                                       subtitle=pick(topic.name, "de") if topic else None)
            print(f"wrote {args.poster} and {png}")
    except (ValueError, RenderError) as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wegweiser", description=(
        "Guides newcomers in Magdeburg to education and integration offers."))
    top.add_argument("--version", action="version", version=f"wegweiser {__version__}")
    top.add_argument("--config", dest="config_file", type=Path, metavar="FILE",
                     help="settings file (default: WEGWEISER_CONFIG, else ./wegweiser.toml "
                          "if there is one); environment variables win over it")
    # the same option after the command (`wegweiser run --config FILE`); SUPPRESS keeps a
    # subcommand that does not get it from overwriting the one given before the command
    configured = argparse.ArgumentParser(add_help=False)
    configured.add_argument("--config", dest="config_file", type=Path, metavar="FILE",
                            default=argparse.SUPPRESS, help="settings file (TOML)")
    common = argparse.ArgumentParser(add_help=False, parents=[configured])
    common.add_argument("--content", type=Path,
                        help="catalogue folder (default: [bot] content, WEGWEISER_CONTENT, "
                             "else the bundled content/)")
    common.add_argument("--locales", type=Path,
                        help="translations folder (default: [bot] locales, "
                             "WEGWEISER_LOCALES, else the bundled locales/)")
    sub = top.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", parents=[common], help="chat in this terminal")
    chat.add_argument("--lang", help="start in this language, e.g. ar, de, en")
    chat.set_defaults(func=cmd_chat)

    run = sub.add_parser("run", parents=[common],
                         help="serve chat platforms: telegram, matrix, or both at once")
    run.add_argument("adapters", nargs="*", metavar="ADAPTER",
                     help="telegram, matrix or console; several run side by side (default: "
                          "[bot] adapters, WEGWEISER_ADAPTERS)")
    run.add_argument("--data-dir", type=Path,
                     help="where conversations are stored (SQLite; default: [bot] data_dir, "
                          "WEGWEISER_DATA_DIR, else ~/.local/share/wegweiser)")
    run.add_argument("--keep-days", type=_days,
                     help="delete conversations idle for longer than this (default: "
                          "[bot] keep_days, WEGWEISER_KEEP_DAYS, else 30)")
    run.add_argument("--keep-stats-days", type=_days,
                     help="roll anonymous statistics events older than this up into daily "
                          "counts (default: [bot] keep_stats_days, WEGWEISER_KEEP_STATS_DAYS, "
                          f"else {KEEP_EVENTS_DAYS})")
    run.set_defaults(func=cmd_run)

    settings = sub.add_parser("config", help="the settings: check them, or print an example")
    settings_sub = settings.add_subparsers(dest="config_command", required=True)
    check = settings_sub.add_parser(
        "check", parents=[configured],
        help="show every setting (secrets hidden) and where it comes from; check them, and "
             "that the adapters named can start (exit 0 ok, 2 problems)")
    check.add_argument("adapters", nargs="*", metavar="ADAPTER",
                       help="check these adapters' settings (default: [bot] adapters)")
    check.set_defaults(func=cmd_config_check)
    settings_sub.add_parser(
        "example", help="print a commented wegweiser.toml with every setting"
    ).set_defaults(func=cmd_config_example)

    status = sub.add_parser(
        "status", parents=[configured],
        help="ask the running bot how it is (exit 0 healthy, 1 not healthy, 2 no answer)")
    status.add_argument("--url", help="the /health URL (default: from [metrics] listen)")
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    status.add_argument("--quiet", "-q", action="store_true",
                        help="print nothing; the exit code says it (container health checks)")
    status.set_defaults(func=cmd_status)

    share = sub.add_parser("share", parents=[common],
                           help="start links that open the bot in a language, on a topic")
    share.add_argument("--lang", action="append",
                       help="the language to open in, e.g. ar; several (one link and one QR "
                            "code each): --lang ar,fa,uk or --lang ar --lang fa")
    share.add_argument("--topic", help="a topic id from topics.yaml, e.g. german-course")
    share.add_argument("--district", help="an answer id of the part-of-town question")
    share.add_argument("--ref", help="your organisation's referral code (a-z, 0-9, -), "
                                     "counted anonymously in the city's report")
    share.add_argument("--telegram-bot", help="the bot's Telegram username "
                                              "(WEGWEISER_TELEGRAM_BOT)")
    share.add_argument("--matrix-user", help="the bot's Matrix id (WEGWEISER_MATRIX_USER)")
    share.add_argument("--poster", type=Path, metavar="FILE.pdf",
                       help="also write a printable A4 poster with a QR code per language "
                            "(and FILE.png next to it); needs chromium, poppler-utils and "
                            "fonts-noto-core")
    share.add_argument("--qr", type=Path, metavar="FILE.svg|FILE.png",
                       help="also write the QR code of the (first) link alone")
    share.set_defaults(func=cmd_share)

    validate = sub.add_parser("validate", parents=[configured],
                              help="check a catalogue folder, list every problem")
    validate.add_argument("dir", nargs="?", type=Path,
                          help="the folder (default: [bot] content, else the bundled one)")
    validate.set_defaults(func=cmd_validate)

    match = sub.add_parser("match", parents=[common], help="which topics does a text name?")
    match.add_argument("--lang", help="the language of the query, reported back as given")
    match.add_argument("--json", action="store_true", help="one JSON object per query")
    match.add_argument("query", nargs="?", help="the text; without it, one query per stdin line")
    match.set_defaults(func=cmd_match)

    content = sub.add_parser("content", help="tools for the staff who keep the catalogue")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    report = content_sub.add_parser(
        "report", parents=[common], help="what is missing or stale: translations, dates, "
        "owners, reviews, topics and districts without offers")
    form = report.add_mutually_exclusive_group()
    form.add_argument("--html", action="store_true", help="one web page to open in a browser")
    form.add_argument("--json", action="store_true", help="JSON with stable keys, for scripts")
    report.add_argument("--expiring-within", type=_days, default=30, metavar="DAYS",
                        help="list offers whose valid_until is this close (default 30)")
    report.add_argument("--review-after", type=_days, default=365, metavar="DAYS",
                        help="list offers reviewed longer ago than this (default 365)")
    report.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD",
                        help="report as of this day (default: today)")
    report.set_defaults(func=cmd_content_report)
    schema = content_sub.add_parser(
        "schema", parents=[common], help="JSON Schemas of the content files, for editors")
    schema.add_argument("--out", type=Path, metavar="DIR",
                        help="write DIR/<kind>.schema.json (default: print one JSON document)")
    schema.set_defaults(func=cmd_content_schema)

    stats = sub.add_parser(
        "report", help="anonymous statistics for the city: requests by topic, language and "
        "part of town, unmet needs, weekly trend, referral codes (numbers below 5 hidden)")
    stats.add_argument("--from", dest="from_", type=_iso_date, metavar="YYYY-MM-DD",
                       help=f"first day (default: the {REPORT_DAYS} days that end with --to)")
    stats.add_argument("--to", type=_iso_date, metavar="YYYY-MM-DD",
                       help="last day, included (default: yesterday, the last complete day)")
    stats.add_argument("--html", type=Path, metavar="FILE",
                       help="write the report as one web page to open and print")
    stats.add_argument("--csv", type=Path, metavar="DIR",
                       help="write one CSV file per table into DIR")
    stats.add_argument("--lang", choices=("de", "en"), default="de",
                       help="language of the report (default: de)")
    stats.add_argument("--data-dir", type=Path,
                       help="the bot's data directory (SQLite; WEGWEISER_STORE for Redis)")
    stats.add_argument("--content", type=Path,
                       help="catalogue folder, for the names of topics and parts of town "
                            "(default: the bundled content/)")
    stats.set_defaults(func=cmd_report)
    return top


def _apply(args: argparse.Namespace, config: Config) -> None:
    """Fill in what the command line left out from the settings (file and environment)."""
    env = args.env = config.env
    args.config = config
    for name, default in (("content", default_content), ("locales", default_locales),
                          ("data_dir", default_data_dir)):
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, default(env))
    if hasattr(args, "dir") and args.dir is None:
        args.dir = default_content(env)
    for name in ("keep_days", "keep_stats_days"):
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, int(config.get(f"bot.{name}")))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = load_config(getattr(args, "config_file", None))
    if config.problems and args.func is not cmd_config_check:
        print("The settings have problems (see `wegweiser config check`):", file=sys.stderr)
        for problem in config.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if config.problems:  # `config check` lists them; log as by default meanwhile
        configure_logging(secrets=secrets(config))
    else:
        configure_logging(config.get("log.format"), config.get("log.level"), secrets(config))
    for warning in config.warnings:
        log.warning("%s", warning)
    _apply(args, config)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`wegweiser validate | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except CatalogueError as err:
        print(f"The catalogue cannot be loaded ({err}):", file=sys.stderr)
        _print_problems(err.problems)
        return 1
