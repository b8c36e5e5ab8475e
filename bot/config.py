"""Settings: one TOML file plus environment variables, the environment winning.

Every setting has exactly one environment variable name (`WEGWEISER_TELEGRAM_TOKEN`) and one
place in the file (`[telegram] token`). The rest of the bot reads settings as an
environment-style mapping, name -> text, as it always has: the file is translated into that
mapping, the real environment is laid over it (as python-dotenv does without `override`), and
the result is checked here, once, at start. So a misspelt key, a number in quotes or a missing
token is reported before anything is opened, with the file, the key and a fix, rather than
when the first newcomer writes.

Secrets (the bot token, the Matrix password, a Redis password inside the store URL) may come
from either source; `describe` never shows them.
"""

from __future__ import annotations

import difflib
import os
import textwrap
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.logs import FORMATS, LEVELS

#: The file read when neither --config nor WEGWEISER_CONFIG names one, if it exists.
DEFAULT_FILE = Path("wegweiser.toml")
#: The environment variable that names the file.
CONFIG_ENV = "WEGWEISER_CONFIG"
#: The health and metrics endpoint, unless configured otherwise ("off" turns it off).
DEFAULT_METRICS_LISTEN = "127.0.0.1:9464"

Check = Callable[[str], str | None]


def _days(text: str) -> str | None:
    return None if text.isdigit() and int(text) > 0 else "a whole number of days, 1 or more"


def split_listen(text: str) -> tuple[str, int]:
    """"127.0.0.1:9464" -> ("127.0.0.1", 9464), "[::1]:9464" -> ("::1", 9464), ":8443" ->
    ("", 8443); ValueError without a port from 1 to 65535."""
    host, sep, port = text.strip().rpartition(":")
    if not (sep and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{text!r} is not an address and port like 127.0.0.1:9464")
    return host.strip("[]"), int(port)


def _listen(text: str) -> str | None:
    if text == "off":
        return None
    try:
        host, _ = split_listen(text)
    except ValueError:
        host = ""
    return None if host else 'an address and port like "127.0.0.1:9464", or "off"'


def _choice(*allowed: str) -> Check:
    def check(text: str) -> str | None:
        return None if text.lower() in allowed else "one of " + ", ".join(allowed)
    return check


def _store(text: str) -> str | None:
    if text in ("", "memory") or text.startswith(("redis://", "rediss://", "unix://")):
        return None
    return 'redis://host:6379/0, rediss://…, unix:///path/redis.sock or "memory"'


def _https(text: str) -> str | None:
    return None if text.startswith("https://") else "an https:// address"


def _adapters(text: str) -> str | None:
    from bot import adapters

    known = adapters.available()
    wrong = [name for name in split_list(text) if name not in known]
    return f"adapter names from: {', '.join(sorted(known))}" if wrong else None


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives in the file, its environment variable, how it is checked.

    `list` settings are TOML arrays in the file and comma-separated in the environment;
    `number` ones are TOML integers. Everything else is a TOML string.
    """

    section: str
    key: str
    env: str
    help: str
    kind: str = "text"  # text | number | list
    check: Check | None = None
    secret: bool = False
    default: str = ""
    #: A value for the example file, as TOML, when there is no default.
    sample: str = ""

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


SETTINGS: tuple[Setting, ...] = (
    Setting("bot", "adapters", "WEGWEISER_ADAPTERS",
            "the chat platforms `wegweiser run` serves when none are named: telegram, matrix",
            kind="list", check=_adapters, sample='["telegram"]'),
    Setting("bot", "content", "WEGWEISER_CONTENT",
            "catalogue folder (default: the bundled content/)"),
    Setting("bot", "locales", "WEGWEISER_LOCALES",
            "interface translations folder (default: the bundled locales/)"),
    Setting("bot", "data_dir", "WEGWEISER_DATA_DIR",
            "conversations (SQLite) and the Matrix device keys "
            "(default: ~/.local/share/wegweiser)", sample='"/var/lib/wegweiser"'),
    Setting("bot", "cache_dir", "WEGWEISER_CACHE_DIR",
            "parsed-content cache (default: ~/.cache/wegweiser)"),
    Setting("bot", "store", "WEGWEISER_STORE",
            "redis://host:6379/0 for several workers; unset: SQLite in data_dir",
            check=_store, secret=True, sample='"redis://localhost:6379/0"'),
    Setting("bot", "keep_days", "WEGWEISER_KEEP_DAYS",
            "delete conversations idle for longer than this many days",
            kind="number", check=_days, default="30"),
    Setting("bot", "keep_stats_days", "WEGWEISER_KEEP_STATS_DAYS",
            "roll anonymous statistics events older than this up into daily counts",
            kind="number", check=_days, default="90"),
    Setting("bot", "admins", "WEGWEISER_ADMINS",
            "accounts that may use /reload, /status, /preview: telegram:<id>, matrix:@u:server",
            kind="list", sample='["telegram:123456789", "matrix:@anna:example.org"]'),
    Setting("telegram", "token", "WEGWEISER_TELEGRAM_TOKEN",
            "the bot token from @BotFather", secret=True),
    Setting("telegram", "username", "WEGWEISER_TELEGRAM_BOT",
            "the bot's username, for start links in shared invitations and results",
            sample='"wegweiser_md_bot"'),
    Setting("telegram", "api_url", "WEGWEISER_TELEGRAM_API_URL",
            "Bot API base URL, for a self-hosted Bot API server"),
    Setting("telegram", "webhook_url", "WEGWEISER_TELEGRAM_WEBHOOK_URL",
            "public https URL: use a webhook instead of long polling", check=_https),
    Setting("telegram", "webhook_secret", "WEGWEISER_TELEGRAM_WEBHOOK_SECRET",
            "required with a webhook: 16-256 characters of A-Z, a-z, 0-9, _ and -",
            secret=True),
    Setting("telegram", "listen", "WEGWEISER_TELEGRAM_LISTEN",
            "address:port the webhook server listens on", check=_listen,
            default="127.0.0.1:8443"),
    Setting("matrix", "homeserver", "WEGWEISER_MATRIX_HOMESERVER",
            "the homeserver's URL", sample='"https://matrix.example.org"'),
    Setting("matrix", "user", "WEGWEISER_MATRIX_USER", "the bot's Matrix id",
            sample='"@wegweiser:example.org"'),
    Setting("matrix", "password", "WEGWEISER_MATRIX_PASSWORD",
            "the bot account's password (needed for the first login)", secret=True),
    Setting("log", "format", "WEGWEISER_LOG_FORMAT",
            "text, or json: one object per line for a log collector",
            check=_choice(*FORMATS), default="text"),
    Setting("log", "level", "WEGWEISER_LOG_LEVEL", "debug, info, warning or error",
            check=_choice(*LEVELS), default="info"),
    Setting("metrics", "listen", "WEGWEISER_METRICS_LISTEN",
            "address:port of /health and /metrics (Prometheus) for `wegweiser run`, or off",
            check=_listen, default=DEFAULT_METRICS_LISTEN),
)
BY_ENV = {s.env: s for s in SETTINGS}
#: Environment variables of ours that are not settings of the file.
OTHER_ENV = frozenset({CONFIG_ENV})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the settings, said so that the reader knows where and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Config:
    """The settings in effect. `env` is the whole environment with the file's settings under
    it; `origin` says where each setting that is set came from."""

    env: Mapping[str, str]
    origin: Mapping[str, str]
    file: Path | None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    def get(self, name: str) -> str:
        """A setting's value by its file name ("bot.keep_days"), its default when unset."""
        setting = next(s for s in SETTINGS if s.name == name)
        return self.env.get(setting.env, "").strip() or setting.default

    def get_list(self, name: str) -> list[str]:
        return split_list(self.get(name))


def check_adapters(config: Config, names: Iterable[str]) -> list[Problem]:
    """What keeps the named adapters from starting: an unknown name, a missing token."""
    from bot import adapters
    from bot.adapters import SettingsError

    problems = []
    for name in names:
        try:
            adapter = adapters.load(name)
            check = getattr(adapter, "check_settings", None)
            if check is not None:
                check(config.env)
        except LookupError as err:
            problems.append(Problem("adapters", str(err)))
        except SettingsError as err:
            problems.append(Problem(f"the {name} adapter", str(err)))
    return problems


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def config_file(given: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else WEGWEISER_CONFIG, else ./wegweiser.toml if there is one."""
    if given is not None:
        return given
    if environ.get(CONFIG_ENV, "").strip():
        return Path(environ[CONFIG_ENV].strip())
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


def load(given: Path | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Read the file (if any), lay the environment over it and check every setting."""
    path = config_file(given, environ)
    problems: list[Problem] = []
    from_file: dict[str, str] = {}
    if path is not None:
        from_file = _read_file(path, problems)
    # An empty variable (`WEGWEISER_KEEP_DAYS=` in an env file) does not hide the file's value.
    env = {**from_file, **{k: v for k, v in environ.items() if v.strip() or k not in from_file}}
    origin = {name: "environment" if environ.get(name, "").strip() else str(path)
              for name in from_file}
    origin.update({s.env: "environment" for s in SETTINGS if environ.get(s.env, "").strip()})
    for setting in SETTINGS:
        value = env.get(setting.env, "").strip()
        wrong = setting.check(value) if value and setting.check else None
        if wrong:
            where = (f"{path} [{setting.section}] {setting.key}"
                     if origin.get(setting.env) == str(path)
                     else f"environment variable {setting.env}")
            shown = "(hidden)" if setting.secret else repr(value)
            problems.append(Problem(where, f"{shown} is not valid: expected {wrong}"))
    warnings = [Problem(f"environment variable {name}", "is not a setting of Wegweiser"
                        + _did_you_mean(name, [*BY_ENV, *OTHER_ENV]))
                for name in sorted(environ)
                if name.startswith("WEGWEISER_") and name not in BY_ENV
                and name not in OTHER_ENV]
    return Config(env, origin, path, tuple(problems), tuple(warnings))


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


EMPTY = '""'
_TOML_KINDS = {"text": (str,), "number": (int,), "list": (list, str)}
_TOML_EXAMPLE = {"text": '"…"', "number": "30", "list": '["…", "…"]'}


def _read_file(path: Path, problems: list[Problem]) -> dict[str, str]:
    """The file's settings by environment variable name, as the environment would hold them;
    every problem found is added to `problems`."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        problems.append(Problem(str(path), "no such file (copy wegweiser.example.toml, or "
                                           "unset WEGWEISER_CONFIG)"))
        return {}
    except (OSError, UnicodeDecodeError) as err:
        problems.append(Problem(str(path), f"cannot be read ({err})"))
        return {}
    except tomllib.TOMLDecodeError as err:  # its message names line and column
        problems.append(Problem(str(path), f"not valid TOML: {err}. Strings need quotes: "
                                           'token = "123:abc"'))
        return {}
    sections = {s.section for s in SETTINGS}
    found: dict[str, str] = {}
    for section, table in data.items():
        if section not in sections:
            problems.append(Problem(f"{path} [{section}]", "unknown section"
                                    + _did_you_mean(section, sections)
                                    + f" (sections: {', '.join(sorted(sections))})"))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(f"{path} {section}", f"must be a section: [{section}]"))
            continue
        keys = {s.key: s for s in SETTINGS if s.section == section}
        for key, value in table.items():
            setting = keys.get(key)
            if setting is None:
                problems.append(Problem(f"{path} [{section}] {key}", "unknown setting"
                                        + _did_you_mean(key, keys)
                                        + f" (in [{section}]: {', '.join(keys)})"))
                continue
            if isinstance(value, bool) or not isinstance(value, _TOML_KINDS[setting.kind]) or (
                    isinstance(value, list) and not all(isinstance(v, str) for v in value)):
                problems.append(Problem(
                    f"{path} [{section}] {key}",
                    f"must be written like {key} = {_TOML_EXAMPLE[setting.kind]}, "
                    f"not {type(value).__name__}"))
                continue
            found[setting.env] = ",".join(value) if isinstance(value, list) else str(value)
    return found


def hide(setting: Setting, value: str) -> str:
    """The value as `config check` shows it: secrets never, a store URL without password."""
    if not setting.secret:
        return value
    if setting.env == "WEGWEISER_STORE" and "://" in value:
        parts = urlsplit(value)
        if parts.password is None and not parts.username:
            return value
        netloc = f"***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return f"set ({len(value)} characters, hidden)"


def describe(config: Config) -> list[str]:
    """One line per setting: its value (secrets hidden) and where it came from."""
    width = max(len(s.name) for s in SETTINGS)
    lines = []
    for setting in SETTINGS:
        value = config.env.get(setting.env, "").strip()
        if value:
            shown = f"{hide(setting, value)}  ({config.origin.get(setting.env, 'environment')})"
        elif setting.default:
            shown = f"{setting.default}  (default)"
        else:
            shown = "not set"
        lines.append(f"  {setting.name:<{width}}  {shown}")
    return lines


def secrets(config: Config) -> list[str]:
    """The secret values in effect, for the log filter that masks them."""
    found = []
    for setting in SETTINGS:
        value = config.env.get(setting.env, "").strip()
        if setting.secret and value:
            password = urlsplit(value).password if "://" in value else None
            found.append(password if setting.env == "WEGWEISER_STORE" else value)
    return [value for value in found if value]


def example() -> str:
    """A commented wegweiser.toml with every setting, generated from SETTINGS so that the
    example in the repository can be checked against it."""
    lines = ["# Wegweiser settings. Copy to wegweiser.toml (not committed: it may hold the",
             "# bot token) or name it with WEGWEISER_CONFIG. An environment variable, shown",
             "# after each setting, wins over the file. Check with: wegweiser config check",
             ""]
    section = None
    for setting in SETTINGS:
        if setting.section != section:
            if section is not None:
                lines.append("")
            lines.append(f"[{setting.section}]")
            section = setting.section
        lines += textwrap.wrap(f"{setting.help[0].upper()}{setting.help[1:]}. "
                               f"Environment: {setting.env}", 78,
                               initial_indent="# ", subsequent_indent="# ")
        if setting.default:
            written = setting.default if setting.kind == "number" else f'"{setting.default}"'
            lines.append(f"{setting.key} = {written}")
        else:
            lines.append(f"# {setting.key} = {setting.sample or EMPTY}")
    return "\n".join(lines) + "\n"
