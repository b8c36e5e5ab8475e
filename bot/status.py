"""`wegweiser status`: ask a running bot's health endpoint and say what it answered.

Standard library only, so that a container's health check starts quickly.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from bot.config import split_listen

TIMEOUT = 5.0
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def status_url(listen: str) -> str:
    """The /health URL of a bot listening on `listen`; a bot listening on every address
    ("0.0.0.0:9464", in a container) is asked on the loopback one."""
    host, port = split_listen(listen)
    host = _ANY_ADDRESS.get(host, host)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/health"


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[bool, dict[str, Any]]:
    """(healthy, the report). Raises OSError when nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (our URL)
            return True, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        if err.code != 503:
            raise OSError(f"HTTP {err.code}") from None
        return False, json.loads(err.read())
    except json.JSONDecodeError:
        raise OSError("the answer is not a Wegweiser health report") from None


def _ago(seconds: float) -> str:
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days:.0f} d {hours % 24:.0f} h"
    if hours:
        return f"{hours:.0f} h {minutes % 60:.0f} min"
    return f"{minutes:.0f} min" if minutes else f"{seconds:.0f} s"


def render(report: dict[str, Any], url: str) -> str:
    """The report in a few lines for a person at a terminal."""
    verdict = "healthy" if report.get("status") == "ok" else "NOT healthy"
    lines = [f"Wegweiser {report.get('version', '?')} at {url}: {verdict}, up "
             f"{_ago(report.get('uptime_seconds', 0))}"]
    for name, adapter in report.get("adapters", {}).items():
        extra = []
        if adapter.get("restarts"):
            extra.append(f"{adapter['restarts']} restart(s)")
        if adapter.get("last_error"):
            extra.append(f"last error: {adapter['last_error']}")
        state = adapter.get("state")
        if state == "running" and not adapter.get("ready"):
            state = "running, NOT connected"
        lines.append(f"  {name}: {state} since {adapter.get('since')}"
                     + (f" ({', '.join(extra)})" if extra else ""))
    store = report.get("store") or {}
    if store and not store.get("ok"):
        lines.append(f"  store: NOT answering ({store.get('error')})")
    catalogue = report.get("catalogue") or {}
    if catalogue:
        reload = catalogue.get("last_reload")
        lines.append(f"  catalogue: version {catalogue.get('version')}, "
                     f"{catalogue.get('offers')} offers"
                     + (f"; last reload {reload} at {catalogue.get('last_reload_at')}"
                        if reload else ""))
    turns = report.get("turns") or {}
    lines.append(f"  turns: {turns.get('ok', 0)} handled, {turns.get('failed', 0)} failed")
    return "\n".join(lines)
