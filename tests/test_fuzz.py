"""Property-based tests: arbitrary Unicode, huge messages, random buttons, start links and
command sequences never break the engine. Every turn answers, the state stays valid and
survives the store's JSON, nothing a person writes is echoed back, and the same turn always
gives the same answer. The hand-picked odd inputs are in tests/test_bad_input.py."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from functools import cache

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.engine import Engine, State
from bot.engine.engine import MISSES_BEFORE_HELP
from bot.engine.state import STEPS
from bot.engine.vocabulary import COMMANDS, MORE, NO, YES
from bot.messages import (Choices, CounterCard, Inbound, Offers, Output, Reply, Text,
                          replies_of)

from tests.conftest import NOW

#: No reply is longer than this, whatever was sent (a 100,000-character paste included).
MAX_REPLY = 20_000

FUZZ = settings(deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# -- strategies ---------------------------------------------------------------------------

#: Anything a chat client may deliver: every code point except lone surrogates (they cannot
#: arrive in a decoded message), so control, format, bidi-override, private-use, unassigned.
any_char = st.characters(exclude_categories=("Cs",))
nasty_chars = st.sampled_from(
    "\x00\x07\x1b\n\r\t\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\u200e\u200f\u0640\ue000\U0010fffd\u0378\u0301\u0308"
    "\U0001f44d\U0001f3fd\U0001f1f8\U0001f1fe\u0661\u06f3\uff11\u00a0\u3000")
emoji = st.sampled_from(["👍🏽", "🇸🇾", "👨‍👩‍👧", "🎉", "❤️", "🧑🏿‍🏫"])
short_text = st.text(st.one_of(any_char, nasty_chars), max_size=60)


@st.composite
def huge_text(draw: st.DrawFn) -> str:
    """Up to 100,000 characters: a random piece repeated, so that generating it is cheap."""
    piece = draw(st.text(st.one_of(any_char, nasty_chars), min_size=1, max_size=20))
    length = draw(st.integers(501, 100_000))
    return (piece * (length // len(piece) + 1))[:length]


@cache
def command_words() -> tuple[str, ...]:
    """The English command words and a few in other scripts, as people type them."""
    english = [w.strip() for msgid in (*COMMANDS.values(), MORE, YES, NO)
               for w in msgid.split(",")]
    return (*english, "/start", "/help", "/back", "/forget", "RESTART", "  back  ", "zurück",
            "назад", "رجوع", "neu", "sprache", "counter 1", "counter 2", "counter 9")


answers = st.sampled_from([
    "1", "2", "3", "5", "16", "17", "0", "99", "١", "۳", "kita", "school", "Schule", "كيتا",
    "مدرسة", "школа", "deutschkurs", "German course", "I am 34", "7 years", "b1", "A1",
    "north", "Nord", "centre", "yes", "no", "more", "English", "Deutsch", "العربية", "فارسی",
    "arabic", "ukrainisch", "Türkçe", "hello", "hi", "?",
    # two or more topics at once: the engine asks which one is meant
    "school homework", "kita schule", "Studium Anerkennung", "german course job",
])
message_text = st.one_of(short_text, st.sampled_from(command_words()), answers,
                         st.lists(emoji, max_size=8).map("".join), huge_text())

plausible_choices = st.one_of(
    st.sampled_from(["helper", "restart", "more", "language", "counter", "topic:other",
                     "#7", "", " ", "lang:", "topic:", "a::", "a:age:", "lang:en",
                     "lang:ar", "lang:de", "lang:fa", "lang:ti", "lang:xx", "topic:school",
                     "topic:childcare", "topic:german-course", "topic:nope",
                     "a:age:child-0-5", "a:age:adult-27", "a:german-level:b1",
                     "a:district:north", "a:district:any", "a:age:-", "a:gone:gone",
                     "x" * 300]),
    st.builds("{}:{}".format, st.sampled_from(["lang", "topic", "a", "A", "LANG"]), short_text),
    st.builds("a:{}:{}".format, st.sampled_from(["age", "german-level", "district", "x"]),
              short_text),
)
choices = st.one_of(st.none(), plausible_choices, short_text)

locale_hints = st.one_of(st.none(), st.sampled_from(
    ["en", "ar", "uk-UA", "fa_IR", "de-DE", "ti", "ps-AF", "zz", "", "-", "en-", "*"]),
    short_text)

payload_part = st.one_of(
    st.sampled_from(["en", "ar", "DE", "xx", "school", "childcare", "north", "any",
                     "r-caritas", "r-", "r-x" * 20, "", "-", "__"]),
    st.text(string.ascii_letters + string.digits + "_-", max_size=20))
starts = st.one_of(
    st.lists(payload_part, min_size=1, max_size=4).map("_".join),
    st.text(string.ascii_letters + string.digits + "_-", max_size=80),
    short_text)

inbounds = st.builds(Inbound, text=message_text, choice=choices, locale_hint=locale_hints,
                     start=st.one_of(st.none(), st.none(), starts), late=st.booleans())


# -- invariants ---------------------------------------------------------------------------

def texts_of(reply: Reply) -> Iterator[str]:
    """Every string a reply shows."""
    if isinstance(reply, CounterCard):
        yield from (reply.text, reply.lang, reply.language_name, *reply.user, *reply.german)
    elif isinstance(reply, Text):
        yield reply.text
    elif isinstance(reply, Choices):
        yield reply.text
        for option in reply.options:
            yield from (option.id, option.label)
    else:
        assert isinstance(reply, Offers)
        yield reply.intro
        for card in reply.cards:
            yield from (card.offer_id, card.title, card.why, *card.lines)
            if card.url is not None:
                yield card.url


def check_state(engine: Engine, state: State | None) -> None:
    if state is None:  # "forget"
        return
    data = state.to_json()
    assert State.from_json(json.loads(json.dumps(data))) == state, "state survives the store"
    catalogue, languages = engine.catalogue, engine.languages
    assert state.step in STEPS
    assert state.lang is None or state.lang in languages
    assert state.suggested is None or state.suggested in languages
    assert state.topic is None or state.topic in catalogue.topics
    assert all(t in catalogue.topics for t in state.close)
    if state.step == "clarify":
        assert len(state.close) >= 2
    if state.step != "language":
        assert state.lang is not None, "past the language step without a language"
    if state.step in {"question", "results"}:
        assert state.topic is not None
    if state.step == "question":
        assert catalogue.question(state.question or "") is not None
    for question_id, option_id in state.answers:
        question = catalogue.question(question_id)
        assert question is not None
        assert option_id == "-" or question.option(option_id), (question_id, option_id)
    assert len({q for q, _ in state.answers}) == len(state.answers)
    assert state.shown >= 0
    assert 0 <= state.misses < MISSES_BEFORE_HELP


def check_turn(engine: Engine, state: State | None, outputs: list[Output],
               marker: str | None = None) -> list[Reply]:
    check_state(engine, state)
    replies = replies_of(outputs)
    assert replies, "every message gets an answer"
    if state is None:  # "forget" says so (after an apology for a late answer, maybe)
        assert all(isinstance(r, Text) for r in replies)
    else:
        assert isinstance(replies[-1], Choices), "every turn ends with the current prompt"
        assert replies[-1].options
    for reply in replies:
        for text in texts_of(reply):
            assert isinstance(text, str)
            text.encode("utf-8")  # raises on a lone surrogate
            assert len(text) <= MAX_REPLY
            if marker is not None:
                assert marker not in text, "the engine echoed what the person wrote"
    if marker is not None and state is not None:
        assert marker not in json.dumps(state.to_json()), "state holds ids, never text"
    return replies


# -- conversations parked at every step -----------------------------------------------------

@cache
def parked(engine: Engine) -> tuple[State | None, ...]:
    """Reachable states at every step, reached by talking to the engine."""

    def run(*inbounds: Inbound, state: State | None = None) -> State | None:
        for inbound in inbounds:
            state, _ = engine.step(state, inbound, NOW)
        return state

    tap, say = (lambda c: Inbound(choice=c)), (lambda t: Inbound(text=t))
    states = [
        None,
        run(say("hello")),
        run(Inbound(text="hi", locale_hint="ar")),
        run(tap("lang:en")),
        run(tap("lang:fa"), tap("helper")),
        run(tap("lang:en"), say("school homework")),
        run(tap("lang:de"), tap("helper"), say("Studium Anerkennung")),
        run(tap("lang:ar"), say("كيتا")),
        run(tap("lang:en"), tap("topic:german-course")),
        run(tap("lang:de"), say("anerkennung")),
        run(tap("lang:uk"), tap("topic:german-course"), say("1"), say("1"), say("1")),
        run(tap("lang:en"), tap("topic:german-course"), say("1"), say("1"), say("1"),
            tap("more")),
        run(tap("lang:ti"), say("anerkennung"), tap("a:district:any"), say("counter")),
        run(tap("lang:ps"), say("anerkennung"), tap("a:district:any"), tap("counter")),
        run(tap("lang:en"), say("zzzz qqqq")),
        run(Inbound(start="ar_school_r-caritas")),
        run(Inbound(start="_childcare_north")),
    ]
    for state in states:
        check_state(engine, state)
    return tuple(states)


# -- 1. any message at any step ---------------------------------------------------------------

@settings(FUZZ, max_examples=1500)
@given(data=st.data(), inbound=inbounds)
def test_any_message_at_any_step(engine: Engine, data: st.DataObject, inbound: Inbound) -> None:
    state = data.draw(st.sampled_from(parked(engine)), label="state")
    new, outputs = engine.step(state, inbound, NOW)
    check_turn(engine, new, outputs)


@settings(FUZZ, max_examples=400)
@given(data=st.data(),
       marker=st.text(string.ascii_letters + string.digits, min_size=40, max_size=64),
       before=st.one_of(short_text, st.sampled_from(command_words()), answers),
       after=st.one_of(short_text, huge_text()))
def test_what_people_write_is_never_echoed(engine: Engine, data: st.DataObject, marker: str,
                                           before: str, after: str) -> None:
    state = data.draw(st.sampled_from(parked(engine)), label="state")
    for text in (marker, f"{before} {marker} {after}", f"{before}{marker}"):
        inbound = Inbound(text=text, locale_hint=data.draw(locale_hints, label="hint"))
        new, outputs = engine.step(state, inbound, NOW)
        check_turn(engine, new, outputs, marker)


# -- 2. random conversations ------------------------------------------------------------------

#: ("tap current", i): the i-th option of the prompt shown last, as people mostly do.
actions = st.one_of(
    st.tuples(st.just("tap current"), st.integers(0, 30)),
    st.tuples(st.just("tap current"), st.integers(0, 30)),
    st.tuples(st.just("text"), st.one_of(st.sampled_from(command_words()), answers)),
    st.tuples(st.just("text"), st.one_of(short_text, huge_text())),
    st.tuples(st.just("tap"), plausible_choices),
    st.tuples(st.just("start"), starts),
    st.tuples(st.just("late"), answers),
)


def to_inbound(action: tuple[str, object], shown: Choices | None) -> Inbound:
    kind, arg = action
    if kind == "tap current":
        assert isinstance(arg, int)
        if shown is None or not shown.options:
            return Inbound(text="hello")
        return Inbound(choice=shown.options[arg % len(shown.options)].id)
    assert isinstance(arg, str)
    if kind == "tap":
        return Inbound(choice=arg)
    if kind == "start":
        return Inbound(start=arg)
    return Inbound(text=arg, late=kind == "late")


@settings(FUZZ, max_examples=1000)
@given(script=st.lists(actions, max_size=40))
def test_random_conversations_never_get_stuck(engine: Engine,
                                              script: list[tuple[str, object]]) -> None:
    state: State | None = None
    shown: Choices | None = None
    for action in script:
        state, outputs = engine.step(state, to_inbound(action, shown), NOW)
        replies = check_turn(engine, state, outputs)
        shown = replies[-1] if isinstance(replies[-1], Choices) else None
        event(f"reached {state.step if state else 'forgotten'}")
        # what the store hands back next turn is what was written
        state = State.from_json(json.loads(json.dumps(state.to_json()))) if state else None
    # a way out always exists: start over (in English), then tap English (a stale button
    # when a language was chosen before: "restart" keeps it): the topics are asked
    had_language = state.lang if state else None
    state, outputs = engine.step(state, Inbound(text="restart"), NOW)
    check_turn(engine, state, outputs)
    state, outputs = engine.step(state, Inbound(choice="lang:en"), NOW)
    replies = check_turn(engine, state, outputs)
    assert state is not None and state.step == "topic"
    assert state.lang == (had_language or "en")
    assert (state.topic, state.answers, state.question, state.shown) == (None, (), None, 0)
    prompt = replies[-1]
    assert isinstance(prompt, Choices)
    assert any(o.id.startswith("topic:") for o in prompt.options), prompt
    if state.lang == "en":
        assert "looking for" in prompt.text, prompt.text


# -- 3. determinism ---------------------------------------------------------------------------

@settings(FUZZ, max_examples=400)
@given(data=st.data(), inbound=inbounds)
def test_same_turn_same_answer(engine: Engine, data: st.DataObject, inbound: Inbound) -> None:
    state = data.draw(st.sampled_from(parked(engine)), label="state")
    first = engine.step(state, inbound, NOW)
    second = engine.step(state, inbound, NOW)
    assert first == second


@pytest.mark.parametrize("length", [501, 20_001, 100_000])
def test_huge_message_of_one_word_repeated(engine: Engine, length: int) -> None:
    """The worst case for the fuzzy matcher, at every step: a real word, over and over."""
    text = ("kita " * length)[:length]
    for state in parked(engine):
        new, outputs = engine.step(state, Inbound(text=text), NOW)
        check_turn(engine, new, outputs)
