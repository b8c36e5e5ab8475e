"""Right-to-left text that survives Latin names, numbers and links (Unicode UAX #9).

Two tools, both invisible on screen:
* `isolate` wraps an inserted value (an offer name, a URL, a phone number, a date) in FIRST
  STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, so it keeps its own order and cannot reorder
  the sentence around it ("VHS Magdeburg, Leibnizstraße 23" stays readable in Arabic).
* `anchor_line` starts a right-to-left line with a RIGHT-TO-LEFT MARK when its first strong
  character would otherwise make the whole paragraph left-to-right (a line that begins with
  a Latin name or a number).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

FSI = "\u2068"
PDI = "\u2069"
RLM = "\u200f"
_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}


def isolate(value: str) -> str:
    return f"{FSI}{value}{PDI}" if value else value


def first_strong(text: str) -> str | None:
    """'R' or 'L' for the first strong character outside isolates, as UAX #9 rule P2 reads it."""
    depth = 0
    for ch in text:
        if ch in _ISOLATE_OPEN:
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind in {"R", "AL"}:
                return "R"
            if kind == "L":
                return "L"
    return None


def anchor_line(line: str) -> str:
    """Make a line of a right-to-left message display right-to-left."""
    return line if not line or first_strong(line) == "R" else RLM + line


@lru_cache(maxsize=8192)
def anchor_text(text: str) -> str:
    return "\n".join(anchor_line(line) for line in text.split("\n"))
