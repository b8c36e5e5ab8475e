#!/usr/bin/env python3
"""Set up Wegweiser in a local virtual environment and run it: the README's two commands.

    python3 dev.py chat [ARGS...]   set up, then open the console chat (ARGS go to `wegweiser chat`)
    python3 dev.py test [ARGS...]   set up with test extras, then run the whole suite
                                    (ARGS go to pytest)
    python3 dev.py bench [NAME] [ARGS...]
                                    set up with bench extras, then run every benchmark one
                                    after the other (benchmarks/scale.py, workers.py,
                                    soak.py), or only benchmarks/NAME.py; ARGS go to each
                                    (--quick works for all)

Only the standard library is used here, so a fresh clone needs nothing but Python 3.11+ and the
package index. The environment lives in .venv/ and is reinstalled only when pyproject.toml changes.
`test` and `bench` also need a redis-server binary (the Redis store's tests and
benchmarks/workers.py start their own server), and `test` a headless Chromium (the statistics
report's test renders the HTML report in it), poppler-utils and fontconfig (the poster tests)
and the fonts-noto-core fonts: whichever of these is missing is installed from Debian with
apt-get.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
#: `dev.py bench` runs these benchmarks/NAME.py, in this order.
BENCHMARKS = ("scale", "workers", "soak")
VENV = ROOT / ".venv"
STAMP = VENV / ".wegweiser-setup-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _stamp_for(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} {extras}"


def setup(extras: str) -> None:
    """Create .venv and install the project (editable) unless it is already up to date."""
    if sys.version_info < (3, 11):
        sys.exit("Wegweiser needs Python 3.11 or newer; this is " + sys.version.split()[0])
    if not (BIN / "python").exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = _stamp_for(extras)
    installed = STAMP.read_text().splitlines() if STAMP.exists() else []
    if wanted in installed:
        return
    print("Installing Wegweiser and its dependencies (first run only) ...", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--editable", target],
        cwd=ROOT, check=True,
    )
    STAMP.write_text("\n".join([*installed, wanted]) + "\n")


#: A program the tests or benchmarks run -> the Debian package that provides it.
DEBIAN_PACKAGES = {
    "redis-server": "redis-server",  # the Redis store's tests, benchmarks/workers.py
    "chromium": "chromium",  # tests/test_stats_report.py renders the HTML report in it
    # tests/test_poster.py: posters are rasterised, read back and checked with poppler-utils,
    # and their fonts found with fontconfig
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "fc-list": "fontconfig",
}

#: A font family the posters need (tests/test_poster.py prints every language) -> its Debian
#: package. Fonts are not programs: `fc-list FAMILY family` tells whether one is installed.
DEBIAN_FONTS = {
    "Noto Sans": "fonts-noto-core",  # Latin, Cyrillic
    "Noto Sans Arabic": "fonts-noto-core",  # Arabic, Persian, Pashto
    "Noto Sans Ethiopic": "fonts-noto-core",  # Tigrinya (Ge'ez script)
}


def _font_missing(family: str) -> bool:
    done = subprocess.run(["fc-list", family, "family"], capture_output=True, text=True)
    return family not in done.stdout


def ensure_fonts() -> None:
    """Install the Debian packages of the DEBIAN_FONTS that fontconfig does not find (after
    ensure_programs("fc-list"))."""
    missing = [family for family in DEBIAN_FONTS if _font_missing(family)]
    if missing:
        _apt_install(missing, sorted({DEBIAN_FONTS[family] for family in missing}),
                     _font_missing)


def ensure_programs(*programs: str) -> None:
    """Install the Debian packages (DEBIAN_PACKAGES) of those `programs` that are not on PATH:
    the tests fail (they never skip) without them, so a fresh machine must get them here."""
    missing = [program for program in programs if not shutil.which(program)]
    if missing:
        _apt_install(missing, sorted({DEBIAN_PACKAGES[program] for program in missing}),
                     lambda program: not shutil.which(program))


def _apt_install(missing: list[str], packages: list[str],
                 still_missing: Callable[[str], bool]) -> None:
    """Install `packages` with apt-get; then none of `missing` may be `still_missing`."""
    names = " and ".join(packages)
    if not shutil.which("apt-get"):
        sys.exit(f"{' and '.join(missing)} missing and there is no apt-get here: install "
                 f"the Debian package(s) {names} (or your system's equivalent), then run "
                 "this again")
    print(f"Installing {names} (Debian package(s)) for the tests ...", flush=True)
    as_root: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() != 0 and shutil.which("sudo"):
        as_root = ["sudo"]
    apt = [*as_root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    install = [*apt, "install", "-y", "--no-install-recommends", *packages]

    def run(command: list[str]) -> bool:
        return subprocess.run(command, stdout=subprocess.DEVNULL).returncode == 0

    # A fresh machine may have no package lists yet: update once, then try again.
    if not run(install) and not (run([*apt, "update"]) and run(install)):
        sys.exit(f"Could not install {names} with apt-get: install them, then run this "
                 "again")
    still = [item for item in missing if still_missing(item)]
    if still:
        sys.exit(f"apt-get installed {names}, but {' and '.join(still)} is still missing")


def bench(argv: list[str]) -> int:
    """Run one benchmark (`bench NAME ARGS`) or all of them in turn, stopping at a failure."""
    names: tuple[str, ...] = BENCHMARKS
    if argv and argv[0] in BENCHMARKS:
        names, argv = (argv[0],), argv[1:]
    for name in names:
        if len(names) > 1:
            print(f"\n=== benchmarks/{name}.py {' '.join(argv)}".rstrip() + "\n", flush=True)
        code = subprocess.call([str(BIN / "python"), f"benchmarks/{name}.py", *argv], cwd=ROOT)
        if code:
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"chat", "test", "bench"}:
        print(__doc__.strip())
        return 2
    command, rest = argv[0], argv[1:]
    if command == "chat":
        setup("")
        return subprocess.call([str(BIN / "wegweiser"), "chat", *rest], cwd=ROOT)
    if command == "bench":
        setup("bench")
        ensure_programs("redis-server")
        return bench(rest)
    setup("test")
    ensure_programs("redis-server", "chromium", "pdftoppm", "pdftotext", "pdfinfo", "fc-list")
    ensure_fonts()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
