"""Whole dialogues, written as files in tests/transcripts/, replayed through the engine.

Each turn sends text (`send`) or taps a button (`tap`) and may check:
  step, lang, topic, question      the conversation state afterwards
  choices_include / first_choice   ids of the options now offered
  offers_include / offers_exclude  offer ids shown in this turn
  says                             substrings of the replies (bidi marks removed)
  rtl                              whether the replies are marked right-to-left
  unmet                            [topic, step] of an unmet need recorded in this turn
  forgotten: true                  the conversation was deleted
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.engine import Engine
from bot.messages import Choices, Text, UnmetNeed

from tests.dialogue import Dialogue

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript(path: Path, engine: Engine) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    dialogue = Dialogue(engine, locale_hint=script.get("locale_hint"))
    for number, turn in enumerate(script["turns"], 1):
        where = f"{path.name} turn {number}"
        before = len(dialogue.unmet)
        if "tap" in turn:
            outputs = dialogue.tap(turn["tap"])
        else:
            outputs = dialogue.send(str(turn.get("send", "")))
        assert any(isinstance(o, (Text, Choices)) for o in outputs), f"{where}: no reply"
        state = dialogue.state
        if turn.get("forgotten"):
            assert state is None, where
            continue
        assert state is not None, where
        for key in ("step", "lang", "topic", "question"):
            if key in turn:
                assert getattr(state, key) == turn[key], f"{where}: {key}"
        for choice in turn.get("choices_include", []):
            assert choice in dialogue.choices, f"{where}: {choice} not in {dialogue.choices}"
        if "first_choice" in turn:
            assert dialogue.choices[:1] == [turn["first_choice"]], where
        for offer in turn.get("offers_include", []):
            assert offer in dialogue.offers, f"{where}: {offer} not in {dialogue.offers}"
        for offer in turn.get("offers_exclude", []):
            assert offer not in dialogue.offers, f"{where}: {offer} shown"
        for text in turn.get("says", []):
            assert text in dialogue.text, f"{where}: {text!r} not in:\n{dialogue.text}"
        if "rtl" in turn:
            assert all(o.rtl == turn["rtl"] for o in outputs
                       if not isinstance(o, UnmetNeed)), where
        if "unmet" in turn:
            new = dialogue.unmet[before:]
            assert [[u.topic, u.step] for u in new] == [turn["unmet"]], where
        else:
            assert len(dialogue.unmet) == before, f"{where}: unexpected unmet need"
