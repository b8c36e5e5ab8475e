"""Logging for operators: plain text or one JSON object per line, and never a person's data.

The people who write to this bot are refugees and other newcomers: what they write, their
user and chat ids and their names must not end up in log files, which are copied to log
collectors, attached to tickets and read by people who have no business knowing who asked
for what. Our own log calls are written that way (counts, types of errors, never texts or
ids); this module guards the rest:

* every handler gets a `RedactingFilter` that replaces the bot token, the webhook secret and
  any other secret it is given with "***" in the final text of a line (arguments already
  formatted in) and in tracebacks, and anything shaped like a Telegram bot token or a Matrix
  user or room id whatever the configuration (a forgotten secret, a token inside a Bot API
  URL, a library's warning about someone's encryption session);
* libraries whose log lines carry URLs with the token, or whole requests and updates (so the
  texts, chat ids and names of the people writing), are held at a level where they do not:
  `QUIET_LOGGERS`, applied even when the operator asks for DEBUG;
* JSON lines carry a fixed set of fields plus an allow-list of extras (`EXTRA_FIELDS`), so a
  stray `extra={"user": ...}` is dropped instead of shipped.

Standard library only: this runs before anything else is set up, and in every process.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TextIO

#: The values of `configure_logging(format=...)`, for validating configuration early.
FORMATS = ("text", "json")
#: The values of `configure_logging(level=...)`, least to most severe.
LEVELS = ("debug", "info", "warning", "error")
_LEVEL_NUMBERS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
                  "error": logging.ERROR}

#: The text format, unchanged from before JSON logs existed (people grep for it).
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

#: What replaces a secret.
MASK = "***"
#: Secrets shorter than this are not masked: a short value ("bot", "admin") is mostly an
#: ordinary word, and masking it everywhere would make the log unreadable without protecting
#: anything worth protecting.
MIN_SECRET_LENGTH = 6
#: A Telegram bot token ("<bot id>:<35 characters>"), also inside a URL
#: (https://api.telegram.org/bot<token>/sendMessage): masked whatever the configuration.
TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
#: A Matrix user or room id ("@someone:example.org", "!room:example.org:8448"): a room of
#: this bot is one person's conversation, and matrix-nio names both in warnings.
MATRIX_ID_SHAPE = re.compile(r"[@!][A-Za-z0-9._=/+-]+:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                             r"(?::\d+)?")

#: The `extra=` fields that may appear in JSON lines. Deliberately short and about the bot,
#: never the person: anything else given as an extra is dropped.
EXTRA_FIELDS = ("adapter", "event", "seconds", "count", "status", "version")

#: Loggers held at least at this level, whatever level the operator chose, because below it
#: their lines contain the bot token or people's messages:
QUIET_LOGGERS: Mapping[str, int] = {
    # every request URL at INFO, and a Bot API URL contains the bot token
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # DEBUG: "Calling Bot API endpoint `sendMessage` with parameters {...}" and "... finished
    # with return value {...}": every update received (text, user and chat id, first name,
    # username) and every reply sent
    "telegram.Bot": logging.INFO,
    "telegram.ext.ExtBot": logging.INFO,
    # DEBUG: "Processing update %s" and "Dropping pending update: %s", whole updates
    "telegram.ext.Application": logging.INFO,
    # INFO names Matrix users and rooms ("Creating Inbound session for @someone:server",
    # "New joined room !id:server"), and a room of this bot is one person's conversation
    # (the ids in its warnings are masked: MATRIX_ID_SHAPE)
    "nio": logging.WARNING,
    # "Error validating event: ..." quotes the whole event, the message body included
    "nio.events": logging.CRITICAL,
}


def _choose(what: str, value: str, allowed: tuple[str, ...]) -> str:
    """`value` as one of `allowed` (any case), or a ValueError that lists them: this comes
    from an environment variable or a flag, and the operator must see what to write."""
    chosen = value.strip().lower() if isinstance(value, str) else value
    if chosen not in allowed:
        raise ValueError(f"unknown log {what} {value!r}: use one of {', '.join(allowed)}")
    return chosen


class RedactingFilter(logging.Filter):
    """Masks secrets and token-shaped strings in a record's final message, its traceback and
    stack, and its allowed extras. Never drops a record.

    The message is formatted first (`record.getMessage()`), so a secret passed as an argument
    (`log.info("url %s", url)`) is caught too; the record then carries the masked text as
    `msg` with no `args`, which every other handler formats the same way. The traceback is
    formatted once and kept masked in `record.exc_text`, the cache `logging.Formatter` uses.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        kept = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        # longest first, so a secret containing another one is masked whole
        parts = [re.escape(s) for s in sorted(kept, key=len, reverse=True)]
        self._pattern = re.compile("|".join([*parts, TOKEN_SHAPE.pattern,
                                             MATRIX_ID_SHAPE.pattern]))

    def redact(self, text: str) -> str:
        """`text` with every secret and token-shaped string replaced by MASK."""
        return self._pattern.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  wrong arguments must not break the caller
            message = f"{record.msg} (the log call's arguments did not fit its message)"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                value = record.__dict__[name]
                if not (value is None or isinstance(value, (bool, int, float))):
                    record.__dict__[name] = self.redact(str(value))
        return True


#: Formats tracebacks for the filter exactly as the text format would.
_EXCEPTIONS = logging.Formatter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and exception or stack when
    there is one, plus the allowed extras (`EXTRA_FIELDS`) that were given.

    One object per line is what log collectors (journald, Loki, Elasticsearch) read without
    a parsing rule; non-ASCII stays as it is, since messages may name Arabic or Ukrainian
    catalogue entries.
    """

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # JSON allows these raw, but many line readers (Python's splitlines among them) break
        # lines at them: escaped, one record stays one line for every reader
        return line.translate(_LINE_BREAKS)


#: Characters besides \n and \r that line readers treat as line breaks, as JSON escapes.
_LINE_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def configure_logging(format: str = "text", level: str = "info",
                      secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Send every log line to `stream` (standard error by default), as `format` ("text" or
    "json"), from `level` up, with `secrets` (the bot token, webhook secret, passwords) and
    anything shaped like a bot token masked.

    Replaces the root logger's handlers, so calling it again (tests, a reload of settings)
    reconfigures instead of printing every line twice. Raises ValueError for an unknown
    format or level before changing anything.
    """
    chosen_format = _choose("format", format, FORMATS)
    threshold = _LEVEL_NUMBERS[_choose("level", level, LEVELS)]
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    # the handler's level too: records of loggers set lower elsewhere still stop here
    handler.setLevel(threshold)
    root = logging.getLogger()
    for old in root.handlers[:]:
        # removed, not closed: the stream it writes to may belong to someone else
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, threshold))
