"""Headless Chromium and the fonts it draws with: shared by the posters (bot/poster.py) and the
counter-card pictures (bot/adapters/card_image.py).

Chromium is used because its text engine joins and orders Arabic and Persian right to left
next to Latin names, and shapes Ge'ez, with fontconfig picking a font per character. It runs
with `--no-sandbox`: the pages are our own, with no scripts and nothing from the network, and
the sandbox does not start as root or in many containers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

#: The Debian package with the Noto fonts the pages ask for.
FONT_PACKAGE = "fonts-noto-core"


class RenderError(RuntimeError):
    """A program or font is missing, or a program failed; the message says what to install."""


def program(*names: str, package: str) -> str:
    """The path of the first of `names` on PATH."""
    for name in names:
        if found := shutil.which(name):
            return found
    raise RenderError(f"{names[0]} not found: install the Debian package {package} "
                      "(`python3 dev.py test` installs it)")


@lru_cache(maxsize=32)
def font_known(family: str) -> bool:
    fc_list = program("fc-list", package="fontconfig")
    done = subprocess.run([fc_list, family, "family"], capture_output=True, text=True,
                          check=False, timeout=60)
    return family in done.stdout


def missing_fonts(families: Iterable[str]) -> list[str]:
    """Those of `families` that fontconfig does not know."""
    return [family for family in families if not font_known(family)]


def render(page_html: str, output: str, flags: Callable[[Path], Sequence[str]],
           timeout: float) -> bytes:
    """Load `page_html` in headless Chromium and return the file it writes: `output` is its
    name, `flags(path)` the options that make Chromium write it there (a screenshot, a PDF)."""
    chromium = program("chromium", "chromium-browser", package="chromium")
    with tempfile.TemporaryDirectory(prefix="wegweiser-chromium-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(page_html, "utf-8")
        out = Path(tmp) / output
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--hide-scrollbars",
                   f"--user-data-dir={Path(tmp) / 'profile'}", *flags(out), page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                                  env=_child_environment(tmp))
        except subprocess.TimeoutExpired as err:
            raise RenderError(f"chromium did not finish within {timeout:.0f} s") from err
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise RenderError(f"chromium could not write {output}: "
                              + done.stderr.decode(errors="replace")[-2000:])
        return out.read_bytes()


def _child_environment(home: str) -> dict[str, str]:
    """The environment without our settings: the bot token and passwords have no business in
    a browser process (or in a crash report it might write)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("WEGWEISER_")},
            "HOME": home}
