#!/usr/bin/env python3
"""Set up Wegweiser in a local virtual environment and run it: the README's two commands.

    python3 dev.py chat [ARGS...]   set up, then open the console chat (ARGS go to `wegweiser chat`)
    python3 dev.py test [ARGS...]   set up with test extras, then run the whole suite
                                    (ARGS go to pytest)
    python3 dev.py bench [ARGS...]  set up with bench extras, then run benchmarks/scale.py

Only the standard library is used here, so a fresh clone needs nothing but Python 3.11+ and the
package index. The environment lives in .venv/ and is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
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
        return subprocess.call([str(BIN / "python"), "benchmarks/scale.py", *rest], cwd=ROOT)
    setup("test")
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
