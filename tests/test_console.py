"""The console chat, driven through stdin/stdout the way a script (or a newcomer) would."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot import adapters
from bot.adapters.console import ConsoleAdapter
from bot.engine import Engine
from bot.service import Service
from bot.store import MemoryStore

from tests.conftest import ROOT
from tests.dialogue import plain


def _chat(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "chat", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_arabic_conversation_ends_with_real_magdeburg_offers() -> None:
    """The README's first command, as a new Arabic-speaking user would use it."""
    done = _chat(stdin="العربية\nبدي روضة لابني\n1\n6\n")
    assert done.returncode == 0, done.stderr
    out = plain(done.stdout)
    assert "بأي لغة نتحدث؟" in out, "the language question is also asked in Arabic"
    assert "ما الذي تبحث عنه؟" in out, "after the choice the bot speaks Arabic"
    assert "kitaplatz.magdeburg.de" in out, out[-2000:]
    assert "Landeshauptstadt Magdeburg" in out
    assert "Traceback" not in done.stderr


def test_choices_are_numbered_and_answers_echoed_when_piped() -> None:
    done = _chat("--lang", "de", stdin="2\n")
    out = done.stdout
    assert "  1. Deutschkurs" in out and "  2. Integrationskurs" in out
    assert "> 2" in out, "piped input is echoed so a transcript reads like a chat"


def test_unknown_language_is_refused_clearly() -> None:
    done = _chat("--lang", "xx", stdin="")
    assert done.returncode == 2 and "available" in done.stderr


def test_the_console_is_registered_as_an_adapter() -> None:
    assert "console" in adapters.available()
    assert adapters.load("console") is ConsoleAdapter
    with pytest.raises(LookupError, match="no chat adapter called 'fax'"):
        adapters.load("fax")


async def test_console_adapter_in_process(engine: Engine) -> None:
    stdout = io.StringIO()
    adapter = ConsoleAdapter(Service(engine, MemoryStore()), lang="en",
                             stdin=io.StringIO("recognition\n"), stdout=stdout)
    await adapter.run()
    text = stdout.getvalue()
    assert "What are you looking for?" in text
    assert "> recognition" in text


def test_run_console_resumes_the_conversation_from_sqlite(tmp_path) -> None:
    """A restart loses nothing: the stored conversation continues where it stopped."""
    def run(stdin: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "console", "--data-dir", str(tmp_path)],
            input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "kita" not in done.stderr.lower(), "message text is never logged"
        return done.stdout

    run("English\nkita\n")
    assert (tmp_path / "wegweiser.sqlite3").exists()
    second = run("1\n")
    # it starts by repeating the open question (age), and "1" answers it
    assert second.index("How old is the person?") < second.index("> 1")
    assert "Which part of Magdeburg" in second
