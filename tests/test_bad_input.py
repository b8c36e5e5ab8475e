"""Odd messages at every step get a friendly reply and leave a valid state; never a traceback."""

from __future__ import annotations

import pytest

from bot.engine import Engine, State
from bot.engine.state import SCHEMA_VERSION
from bot.messages import Choices, Inbound, Text

from tests.conftest import NOW
from tests.dialogue import Dialogue

ODD_TEXTS = [
    "", "   ", "\n\n\t", "x" * 10_000, "كيتا " * 2_000, "👍🏽👍🏽🎉", "\x00\x07\x1b[31m",
    "\u202e\u202dkita\u202c", "\u2067مدرسة\u2069\u200f", "/foo", "/start@SomeBot extra",
    "0", "-1", "999999999999", "1.5", "\ufeff", "\ud7ff", "<b>bold</b> & <script>",
    "' OR 1=1 --", "{topic}", "%s %d", "🇸🇾", "ـــــ",
    "kita مدرسه школа ኪታ", "0123456789", "\u200b\u200c\u200d\u2060", "ki\u200bta",
    "\u2066\u2067\u2068\u2069\u202a\u202b", "١٢٣", "Ｋｉｔａ", "k" * 10_000,
]
STALE_CHOICES = ["lang:xx", "topic:nope", "a:age:nope", "a:gone:gone", "more", "x" * 300, ""]


def _at_each_step(engine: Engine) -> list[Dialogue]:
    """Fresh dialogues parked at every step of the conversation."""
    parked = [Dialogue(engine)]
    language = Dialogue(engine)
    language.send("hello")
    parked.append(language)
    topic = Dialogue(engine)
    topic.tap("lang:en")
    parked.append(topic)
    clarify = Dialogue(engine)
    clarify.tap("lang:en")
    clarify.state = State(step="clarify", lang="en", close=("school", "homework-help"))
    parked.append(clarify)
    question = Dialogue(engine)
    question.tap("lang:ar")
    question.send("كيتا")
    parked.append(question)
    results = Dialogue(engine)
    results.tap("lang:de")
    results.send("anerkennung")
    parked.append(results)
    return parked


def _check_friendly(dialogue: Dialogue) -> None:
    shown = [o for o in dialogue.last if isinstance(o, (Text, Choices))]
    assert shown, "every message gets a visible reply"
    assert isinstance(dialogue.last[-1], (Choices, Text))
    assert all(len(o.text) < 5_000 for o in shown), "no echo of a huge message"
    assert "Traceback" not in dialogue.text
    assert "x" * 50 not in dialogue.text, "message text is never echoed back"


@pytest.mark.parametrize("text", ODD_TEXTS, ids=range(len(ODD_TEXTS)))
def test_odd_text_at_every_step(engine: Engine, text: str) -> None:
    for dialogue in _at_each_step(engine):
        before = dialogue.state
        dialogue.send(text)
        _check_friendly(dialogue)
        if before is not None and dialogue.state is not None:
            assert dialogue.state.to_json()["v"] == SCHEMA_VERSION


@pytest.mark.parametrize("choice", STALE_CHOICES, ids=range(len(STALE_CHOICES)))
def test_stale_or_forged_buttons_at_every_step(engine: Engine, choice: str) -> None:
    for dialogue in _at_each_step(engine):
        step_before = dialogue.state.step if dialogue.state else None
        dialogue.tap(choice)
        _check_friendly(dialogue)
        if step_before in {"topic", "question"} and choice in {"topic:nope", "a:age:nope"}:
            assert "earlier question" in dialogue.text or dialogue.state.step == step_before


def test_stale_button_says_so_and_repeats_the_question(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    dialogue.send("kita")
    assert dialogue.state.question == "age"
    dialogue.tap("a:german-level:b1")  # a button from another conversation path
    assert "earlier question" in dialogue.text
    assert dialogue.state.question == "age"
    assert "a:age:child-0-5" in dialogue.choices


def test_unknown_command_gets_help_not_an_error(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    dialogue.send("/foo")
    assert "did not understand" in dialogue.text
    assert dialogue.state.step == "topic"


def test_corrupt_stored_state_starts_over(engine: Engine) -> None:
    for stored in ({"v": 999}, {"v": SCHEMA_VERSION, "shown": "many"}, [], "x", None,
                   {"v": SCHEMA_VERSION, "step": "nowhere", "answers": [[1, 2, 3]]}):
        state = State.from_json(stored)
        new_state, outputs = engine.step(state, Inbound(text="kita"), NOW)
        assert outputs and new_state is not None


def test_state_pointing_at_removed_content_continues(engine: Engine) -> None:
    """After a reload an offer's topic or a question may be gone: carry on, do not crash."""
    dialogue = Dialogue(engine)
    dialogue.state = State(step="question", lang="en", topic="childcare", question="gone")
    dialogue.send("1")
    _check_friendly(dialogue)
    dialogue.state = State(step="results", lang="en", topic="removed-topic", shown=3)
    dialogue.send("more")
    _check_friendly(dialogue)
    assert dialogue.state.step in {"topic", "results"}
