"""The conversation, as a pure state machine: `step(state, inbound, now) -> (state, outputs)`.

Rules (read these before changing anything below):
1. No I/O, no clock, no randomness, no platform types. The caller passes `now`; the same
   inputs always give the same outputs. Telegram, Matrix and the console share this code.
2. Every turn ends by showing the person what they can do next (the current prompt), so a
   misunderstood message never leaves them stuck.
3. Commands are whole messages in any language ("back", "رجوع", "/start"). Everything else is
   an answer to the current prompt: a tapped button id, a number, or free text matched fuzzily
   against the options in every language. Free text that names a topic switches topics.
4. Steps: language -> topic -> (clarify) -> question* -> results. A follow-up question is asked
   only if its answer would change the offers shown.
5. State holds ids only (never message text); `None` as new state means "forget this person".
6. Bad input (empty, huge, emoji-only, control characters, stale buttons) gets a friendly
   reply and the prompt again, never an exception.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.catalogue import Catalogue
from bot.catalogue.model import Offer, Option, Question, pick
from bot.engine.selection import Selection
from bot.engine.signals import MATCHED, district_of, district_question, signals
from bot.engine.state import State
from bot.engine.vocabulary import (BACK, COUNTER, FORGET, HELP, HELPER, LANGUAGE, PRIVACY,
                                   RESTART, SHARE, Vocabulary)
from bot.i18n import Lang, negotiate
from bot.links import parse_start, start_payload
from bot.matching import PhraseIndex, TopicMatcher, guess_language, normalise
from bot.messages import (Choice, Choices, CounterCard, Inbound, OfferCard, Offers, Output,
                          Signal, Text, UnmetNeed)

#: Topics shown as buttons at most (a phone screen); the others are found by free text.
MENU_TOPICS = 16
#: Offers shown at once; "more" shows the next page.
PAGE = 5
#: Only this much of a message is read; the rest of a 10,000-character paste is ignored.
MAX_READ = 500
#: After this many messages in a row that were not understood, point to counselling.
MISSES_BEFORE_HELP = 2
#: Offer cards kept ready (offer x language x day), least recently shown dropped first.
FACTS_CACHE_SIZE = 50_000
#: A typed answer must match an option at least this well.
OPTION_CONFIDENT = 0.8

_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")
_AGE = re.compile(r"(?<!\d)(\d{1,3})(?!\d)")


def clean_text(text: str) -> str:
    """Drop control, format and bidi-override characters; keep what people meant to write."""
    kept = []
    for ch in text[: MAX_READ * 4]:
        cat = unicodedata.category(ch)
        if ch in "\u200c\u200d":  # joiners are part of Persian and emoji spelling
            kept.append(ch)
        elif cat in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            kept.append(" " if ch in "\n\r\t" else "")
        else:
            kept.append(ch)
    return "".join(kept).strip()[:MAX_READ]


def _number(text: str) -> int | None:
    folded = "".join(str(unicodedata.digit(c)) if unicodedata.digit(c, None) is not None
                     else c for c in text)
    found = _NUMBER.match(folded)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class _Turn:
    """What one step produced so far: the new state and the outputs, in order."""

    state: State | None
    outputs: tuple[Output, ...] = ()

    def say(self, *outputs: Output) -> _Turn:
        return _Turn(self.state, self.outputs + outputs)


#: The line between the two blocks of a counter card, where it is shown as text.
COUNTER_SEPARATOR = "\u2014" * 12


class Engine:
    """Holds what is fixed between catalogue loads; `step` is pure and thread-safe."""

    def __init__(self, catalogue: Catalogue, languages: Mapping[str, Lang],
                 default_language: str = "en", *, keep_days: int = 30,
                 share_link: Callable[[str], str] | None = None):
        if default_language not in languages:
            raise ValueError(f"default language {default_language!r} has no translations")
        self.catalogue = catalogue
        self.languages = languages
        self.default_language = default_language
        #: Days after the last message until a conversation is deleted (the store's retention,
        #: `wegweiser run --keep-days`): told to people in the welcome and the privacy notice.
        self.keep_days = keep_days
        #: Start payload -> a link that opens the bot with it (a Telegram t.me link), for the
        #: "share" command and the results; None (console, tests): no links are shown.
        self.share_link = share_link
        self.vocabulary = Vocabulary.build(languages.values())
        self.topics = TopicMatcher(catalogue)
        self.selection = Selection(catalogue)
        #: The topics offered as buttons: the first ones of topics.yaml. A state-wide catalogue
        #: may have hundreds; the rest are found by writing.
        self._menu = tuple(catalogue.topics.values())[:MENU_TOPICS]
        self._prompts: dict[tuple[str, ...], Choices] = {}
        self._facts_cache: OrderedDict[tuple[str, str, date], tuple[str, tuple[str, ...]]] = (
            OrderedDict())
        self._option_index = {q.id: self._build_option_index(q) for q in catalogue.questions}
        self._language_index = PhraseIndex(
            (name, code)
            for code in languages
            for other in {*languages, "en", "de"}
            for name in {languages[code].locale.get_display_name(other) or code, code}
        )

    @staticmethod
    def _build_option_index(question: Question) -> PhraseIndex[str]:
        entries = [(label, o.id) for o in question.options for label in o.label.values()]
        entries += [(s, o.id) for o in question.options for syns in o.synonyms.values()
                    for s in syns]
        return PhraseIndex(entries)

    # -- the one public entry point -------------------------------------------------------

    def step(self, state: State | None, inbound: Inbound,
             now: datetime) -> tuple[State | None, list[Output]]:
        text = clean_text(inbound.text or "")
        today = now.date()
        state = self.reconcile(state) if state is not None else None
        if inbound.start is not None:
            turn = self._start_link(state, inbound, today)
        elif state is None:
            turn = self._welcome(State(), inbound, text, today)
        else:
            turn = self._dispatch(state, inbound, text, today)
        if inbound.late:
            t = self.lang(turn.state or state or State())
            turn = _Turn(turn.state, (Text(t._(
                "Sorry for the late answer: I could not reply for a while.")), *turn.outputs))
        outputs = self._finish(turn, state)
        return turn.state, [*outputs, *signals(self.catalogue, state, turn.state, outputs)]

    def resume(self, state: State, now: datetime) -> list[Output]:
        """The current prompt again, unchanged state: for a client that reconnects."""
        state = self.reconcile(state)
        turn = self._prompt(_Turn(state), now.date())
        return self._finish(turn, state)

    def preview(self, offer_id: str, lang: str, today: date) -> Offers | None:
        """An offer's card as newcomers see it in `lang`, whether or not it is visible
        today: for staff checking an edit (the admin command "preview")."""
        offer = self.catalogue.offer(offer_id)
        if offer is None:
            return None
        t = self.languages.get(lang) or self.languages[self.default_language]
        return Offers("", (self._card(offer, State(lang=t.code), [], t, today),), t.rtl)

    def reconcile(self, state: State) -> State:
        """A state written against an older catalogue, before a reload removed a language,
        topic, question or option it names: keep what still exists, so the conversation
        goes on from the nearest step that still makes sense instead of failing."""
        catalogue, changes = self.catalogue, {}
        if state.suggested is not None and state.suggested not in self.languages:
            changes["suggested"] = None
        if state.lang is not None and state.lang not in self.languages:
            return State(suggested=changes.get("suggested", state.suggested))
        answers = tuple((q, o) for q, o in state.answers
                        if (question := catalogue.question(q)) is not None
                        and any(option.id == o for option in question.options))
        if answers != state.answers:
            changes["answers"] = answers
        close = tuple(t for t in state.close if t in catalogue.topics)
        if close != state.close:
            changes["close"] = close
        if state.topic is not None and state.topic not in catalogue.topics:
            changes.update(topic=None, question=None, shown=0, step="topic")
        elif state.question is not None and catalogue.question(state.question) is None:
            # the next turn asks whichever question is still needed, or shows results
            changes.update(question=None)
        if state.step == "clarify" and len(close) < 2:
            changes.update(step="topic", close=())
        return state.evolve(**changes) if changes else state

    def _finish(self, turn: _Turn, before: State) -> list[Output]:
        lang = self.lang(turn.state or before)
        out: list[Output] = []
        for item in turn.outputs:
            if isinstance(item, CounterCard):
                pass  # each block was finished in its own language when it was built
            elif isinstance(item, Text):
                item = Text(lang.finish(item.text), lang.rtl)
            elif isinstance(item, Choices):
                item = Choices(lang.finish(item.text), item.options, lang.rtl)
            elif isinstance(item, Offers):  # cards are finished when they are built
                item = Offers(lang.finish(item.intro), item.cards, lang.rtl)
            out.append(item)
        return out

    def lang(self, state: State) -> Lang:
        code = state.lang or state.suggested or self.default_language
        return self.languages.get(code) or self.languages[self.default_language]

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        command = self.vocabulary.command(text) if text and not inbound.choice else None
        if command:
            return self._command(command, state, today)
        if text and not inbound.choice and (number := self._counter_number(text)) is not None:
            return self._counter(state, today, number)
        if not text and not inbound.choice:
            t = self.lang(state)
            return self._prompt(_Turn(state).say(Text(t._(
                "I did not receive any text. Please write a few words or tap an option."))),
                today)
        handler = {
            "language": self._on_language,
            "topic": self._on_topic,
            "clarify": self._on_clarify,
            "question": self._on_question,
            "results": self._on_results,
        }[state.step]
        return handler(state, inbound, text, today)

    def _command(self, command: str, state: State, today: date) -> _Turn:
        t = self.lang(state)
        if command == "forget":
            return _Turn(None, (Text(t._(
                "Done: I have deleted everything I stored about this conversation. "
                "Write anything to start again.")),))
        if command == "restart":
            fresh = State(step="topic" if state.lang else "language", lang=state.lang,
                          suggested=state.suggested)
            return self._prompt(_Turn(fresh), today)
        if command == "language":
            return self._prompt(_Turn(state.evolve(step="language",
                                                   suggested=state.lang or state.suggested)), today)
        if command == "help":
            return self._prompt(_Turn(state).say(Text(self._help(t))), today)
        if command == "privacy":
            return self._prompt(_Turn(state).say(Text(self._privacy(t))), today)
        if command == "share":
            return self._prompt(_Turn(state).say(*self._share(state, t)), today)
        if command == "counter":
            return self._counter(state, today)
        if command == "helper":
            return self._helper_on(state, today)
        return self._back(state, today)

    def _helper_on(self, state: State, today: date) -> _Turn:
        """Helper mode: questions are asked about the person being helped; matching and
        results stay exactly the same. It lasts until "restart" (or "forget")."""
        t = self.lang(state)
        return self._prompt(_Turn(state.evolve(helper=True, misses=0)).say(Text(t._(
            "Good: from now on I ask about the person you are helping. To search for "
            "yourself again, write \u201c{restart}\u201d.",
            restart=self.vocabulary.first_word(t, RESTART)))), today)

    def _help(self, t: Lang) -> str:
        word = lambda msgid: self.vocabulary.first_word(t, msgid)  # noqa: E731
        return t._(
            "I help you find courses, schools, childcare and advice in Magdeburg. "
            "Tap an option or write in your own words, in any language.\n"
            "You can also write:\n"
            "• {back}: go back one question\n"
            "• {restart}: start a new search\n"
            "• {language}: change the language\n"
            "• {privacy}: what I store about you and for how long\n"
            "• {forget}: delete everything I stored about you\n"
            "• {share}: tell someone about this bot\n"
            "• {counter}: an offer's facts in your language and in German, for an office\n"
            "• {helper}: you are searching for someone else; I then ask about that person",
            back=word(BACK), restart=word(RESTART), language=word(LANGUAGE),
            privacy=word(PRIVACY), forget=word(FORGET), help=word(HELP), share=word(SHARE),
            counter=word(COUNTER), helper=word(HELPER))

    def _privacy(self, t: Lang) -> str:
        """What is stored, what never is, for how long, and what the city gets: exactly what
        State holds (ids), the store's retention and the anonymous statistics."""
        # NOTE: translators: the privacy notice. Keep it exact: say no more and no less.
        return t.n_(
            "What I store: your language, your topic and your answers to my questions (for "
            "example age group, German level, part of town), so that we can continue the "
            "conversation.\n"
            "What I never store: your name, your phone number, the text of your messages.\n"
            "I delete all of this {days} day after your last message, or at once when you "
            "write \u201c{forget}\u201d.\n"
            "The city only receives anonymous numbers, for example how often a topic was "
            "chosen on a day. They cannot be linked to you.",
            "What I store: your language, your topic and your answers to my questions (for "
            "example age group, German level, part of town), so that we can continue the "
            "conversation.\n"
            "What I never store: your name, your phone number, the text of your messages.\n"
            "I delete all of this {days} days after your last message, or at once when you "
            "write \u201c{forget}\u201d.\n"
            "The city only receives anonymous numbers, for example how often a topic was "
            "chosen on a day. They cannot be linked to you.",
            self.keep_days, days=self.keep_days,
            forget=self.vocabulary.first_word(t, FORGET))

    # -- sharing and the counter card -------------------------------------------------------

    def _link(self, lang: str, topic: str | None = None, district: str = "") -> str | None:
        """The start link that opens the bot in `lang` on `topic` (and part of town), or None
        without a `share_link` (console, tests)."""
        if self.share_link is None:
            return None
        topic = topic if topic in self.catalogue.topics else None
        where = district_question(self.catalogue)
        district = district if where is not None and where.option(district) else ""
        try:
            payload = start_payload(lang, topic, district or None)
        except ValueError:  # ids too long for a payload: the language at least
            payload = start_payload(lang)
        return self.share_link(payload)

    def _share(self, state: State, t: Lang) -> tuple[Text, Text]:
        """A hint, then an invitation meant to be forwarded: it names what the bot does and,
        with a share link, opens the bot in this language on the person's topic."""
        invitation = t._("Do you know Wegweiser? It is a free chat that helps newcomers in "
                         "Magdeburg find German courses, schools, childcare, training and "
                         "advice, in their own language.")
        link = self._link(t.code, state.topic)
        if link:
            invitation += "\n" + t._("Start here: {link}", link=link)
        return (Text(t._("Forward the next message to anyone who could use it.")),
                Text(invitation))

    def _counter_number(self, text: str) -> int | None:
        """The number in "counter 2" (the counter word in any language, then a number)."""
        head, _, tail = text.strip().rpartition(" ")
        number = _number(tail) if head else None
        if number is None or self.vocabulary.command(head) != "counter":
            return None
        return number

    def _current_page(self, state: State, today: date) -> list[Offer]:
        """The offers of the results page shown last (empty outside the results)."""
        if state.step != "results" or not state.topic or state.shown <= 0:
            return []
        start = (state.shown - 1) // PAGE * PAGE
        return self.selection.page(state.topic, state.answers, self._candidates(state, today),
                                   today, start, PAGE)

    def _counter(self, state: State, today: date, number: int | None = None) -> _Turn:
        """An offer's facts in the person's language and in German, to show to office staff:
        the only offer of the page, or the `number`-th; otherwise ask which one."""
        t = self.lang(state)
        word = self.vocabulary.first_word(t, COUNTER)
        page = self._current_page(state, today)
        if not page:
            return self._prompt(_Turn(state).say(Text(t._(
                "Once I have shown you offers, write \u201c{counter}\u201d to get an offer's "
                "details in your language and in German, to show at an office.",
                counter=word))), today)
        if number is None and len(page) == 1:
            number = 1
        if number is None or not 1 <= number <= len(page):
            titles = [f"{n}. {self._facts(offer, t, today)[0]}" for n, offer in enumerate(page, 1)]
            return self._prompt(_Turn(state).say(Text("\n".join([t._(
                "Which offer do you want to show at the counter? Write \u201c{counter} 1\u201d "
                "for the first offer on this page, \u201c{counter} 2\u201d for the second, "
                "and so on:", counter=word), *titles]))), today)
        return self._prompt(_Turn(state).say(
            self._counter_card(page[number - 1], t, today)), today)

    def _counter_card(self, offer: Offer, t: Lang, today: date) -> CounterCard:
        """The offer's title and facts (the same as on its card: nothing added) in `t`, and
        in German for the staff; one block when `t` is German. Each block is finished in its
        own language, so German lines stay left-to-right in an Arabic reply."""
        title, lines = self._facts(offer, t, today)
        user = (t.finish(t._("Show this message to the staff at the counter:")), title, *lines)
        german: tuple[str, ...] = ()
        de = self.languages.get("de")
        if de is not None and de.code != t.code:
            german_title, german_lines = self._facts(offer, de, today)
            german = (de.finish(de._("For the office:")), german_title, *german_lines)
        text = "\n".join([*user, *((COUNTER_SEPARATOR, *german) if german else ())])
        return CounterCard(text, t.rtl, t.code, t.name, user, german)

    def _back(self, state: State, today: date) -> _Turn:
        if state.step in {"question", "results"} and state.answers:
            *rest, (question_id, _) = state.answers
            back = state.evolve(step="question", question=question_id,
                                answers=tuple(rest), shown=0)
        elif state.step in {"question", "results", "clarify"}:
            back = state.evolve(step="topic", topic=None, close=(), question=None, shown=0)
        else:
            back = state.evolve(step="language", suggested=state.lang or state.suggested)
        return self._prompt(_Turn(back), today)

    # -- language -------------------------------------------------------------------------

    def _start_link(self, state: State | None, inbound: Inbound, today: date) -> _Turn:
        """A start link begins a new search, in its language and on its topic if it names
        them; parts that do not parse are ignored and the person is greeted as usual."""
        where = district_question(self.catalogue)
        link = parse_start(inbound.start, self.languages, self.catalogue.topics,
                           [o.id for o in where.options] if where else ())
        known = state.lang if state else None
        lang = link.lang or known
        preset = State(topic=link.topic, referral=link.referral or (
            state.referral if state else None))
        if where is not None and link.district:
            preset = preset.with_answer(where.id, link.district)
        if lang is None:  # no language yet: ask, keeping the rest for afterwards
            suggested = negotiate(inbound.locale_hint, self.languages)
            return self._prompt(_Turn(preset.evolve(suggested=suggested)), today)
        if known is None:  # first contact: greet in the link's language
            return self._on_language(preset, Inbound(choice=f"lang:{lang}"), "", today)
        fresh = preset.evolve(step="topic", lang=lang, topic=None)
        if link.topic:
            return self._topic_chosen(fresh, link.topic, today)
        return self._prompt(_Turn(fresh), today)

    def _welcome(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        if inbound.choice and inbound.choice.removeprefix("lang:") in self.languages:
            # Started with a language already chosen (a start link, `chat --lang`).
            return self._on_language(state, inbound, "", today)
        suggested = (negotiate(inbound.locale_hint, self.languages)
                     or negotiate(guess_language(text), self.languages))
        command = self.vocabulary.command(text) if text else None
        if command in {"help", "privacy", "share", "counter", "helper"}:
            # Asked before anything else (a menu entry): answer, then ask for the language.
            return self._command(command, state.evolve(step="language", suggested=suggested),
                                 today)
        topic = self.topics.match(text).best if text else None
        fresh = state.evolve(step="language", suggested=suggested, topic=topic)
        return self._prompt(_Turn(fresh), today)

    def _memo(self, key: tuple[str, ...], build: Callable[[], Choices]) -> Choices:
        """Prompts that depend only on ids and the language are built once per catalogue."""
        found = self._prompts.get(key)
        if found is None:
            found = self._prompts[key] = build()
        return found

    def _language_choices(self, state: State) -> Choices:
        return self._memo(("language", state.suggested or ""),
                          lambda: self._build_language_choices(state.suggested))

    def _build_language_choices(self, suggested: str | None) -> Choices:
        codes = sorted(self.languages, key=lambda c: (c != suggested, self.languages[c].name))
        options = tuple(Choice(f"lang:{c}", self.languages[c].name) for c in codes)
        if suggested:
            t = self.languages[suggested]
            question = t._("Which language shall we use? Tap one, or write its name.")
        else:
            question = "\n".join(dict.fromkeys(
                lang._("Which language shall we use? Tap one, or write its name.")
                for lang in self.languages.values()))
        return Choices(question, options)

    def _on_language(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        chosen: str | None = None
        if inbound.choice:
            code = inbound.choice.removeprefix("lang:")
            chosen = code if inbound.choice.startswith("lang:") and code in self.languages else None
        elif (n := _number(text)) is not None:
            choices = self._language_choices(state).options
            chosen = choices[n - 1].id.removeprefix("lang:") if 1 <= n <= len(choices) else None
        elif normalise(text) in self.vocabulary.yes and state.suggested:
            chosen = state.suggested
        else:
            hits = self._language_index.search(text, limit=1)
            if hits and hits[0].coverage >= OPTION_CONFIDENT:
                chosen = hits[0].key
            elif not hits:
                # Someone who writes in a language instead of naming it: take that language,
                # and what they asked for.
                chosen = negotiate(guess_language(text), self.languages)
                state = state.evolve(topic=self.topics.match(text).best or state.topic)
        if chosen is None:
            t = self.lang(state)
            return self._prompt(_Turn(state).say(Text(t._(
                "Sorry, I did not understand which language you mean. "
                "Please tap one of the languages."))), today)
        first_time = state.lang is None
        new = state.evolve(lang=chosen, suggested=None, misses=0)
        turn = _Turn(new)
        t = self.languages[chosen]
        if first_time:
            notes = [t._("Hello! I am Wegweiser. I help newcomers in Magdeburg find German "
                         "courses, schools, childcare, training and advice.")]
            # NOTE: translators: {days}: days until the answers are deleted (often 30).
            notes.append(t.n_("I only store your answers so that we can continue the "
                              "conversation, never your name. I delete them {days} day after "
                              "your last message. Write \u201c{forget}\u201d at any time to "
                              "delete them at once.",
                              "I only store your answers so that we can continue the "
                              "conversation, never your name. I delete them {days} days after "
                              "your last message. Write \u201c{forget}\u201d at any time to "
                              "delete them at once.",
                              self.keep_days, days=self.keep_days,
                              forget=self.vocabulary.first_word(t, FORGET)))
            if self.catalogue.meta.sample_data and self.catalogue.meta.notice:
                notes.append(pick(self.catalogue.meta.notice, chosen))
            turn = turn.say(Text("\n\n".join(notes)))
        if new.topic in self.catalogue.topics:
            # A topic named in the first message, or the search before a language change.
            return self._advance(turn, today)
        return self._prompt(_Turn(new.evolve(step="topic", topic=None), turn.outputs), today)

    # -- topic ----------------------------------------------------------------------------

    def _topic_choices(self, state: State) -> Choices:
        t = self.lang(state)
        return self._memo(("topic", t.code, "helper" * state.helper),
                          lambda: self._build_topic_choices(t, state.helper))

    def _build_topic_choices(self, t: Lang, helper: bool = False) -> Choices:
        options = tuple(Choice(f"topic:{topic.id}", pick(topic.name, t.code))
                        for topic in self._menu)
        if helper:
            return Choices(t._("What is the person you are helping looking for? Tap a topic "
                               "or write in your own words."), options)
        # Last, after the topics, so that "3" still picks the third topic.
        options += (Choice("helper", t._("I am helping someone")),)
        return Choices(t._("What are you looking for? Tap a topic or write in your own words."),
                       options)

    def _on_topic(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        if inbound.choice == "helper":
            return self._helper_on(state, today)
        if inbound.choice:
            topic_id = inbound.choice.removeprefix("topic:")
            if inbound.choice.startswith("topic:") and topic_id in self.catalogue.topics:
                return self._topic_chosen(state, topic_id, today)
            return self._stale(state, today)
        n = _number(text)
        if n is not None and 1 <= n <= len(self._menu):
            return self._topic_chosen(state, self._menu[n - 1].id, today)
        return self._free_text_topic(state, text, today)

    def _free_text_topic(self, state: State, text: str, today: date) -> _Turn:
        match = self.topics.match(text)
        close = match.close
        if len(close) == 1:
            turn = self._topic_chosen(state, close[0], today)
        elif len(close) > 1:
            turn = self._prompt(_Turn(state.evolve(step="clarify", close=close[:3],
                                                   misses=0)), today)
        else:
            turn = self._not_understood(state, today, "topic")
        outcome = {0: "none", 1: "one"}.get(len(close), "several")
        best = match.topics[0].score if match.topics else 0.0
        return turn.say(Signal(MATCHED, (("outcome", outcome), ("score", f"{best:.3f}"))))

    def _not_understood(self, state: State, today: date, where: str) -> _Turn:
        t = self.lang(state)
        misses = state.misses + 1
        turn = _Turn(state.evolve(misses=misses))
        if misses < MISSES_BEFORE_HELP:
            return self._prompt(turn.say(Text(t._(
                "Sorry, I did not understand that. Could you say it in other words, "
                "or tap one of the options?"))), today)
        turn = _Turn(state.evolve(misses=0)).say(
            UnmetNeed("unknown" if where == "topic" else (state.topic or "unknown"),
                      t.code, where),
            Text(t._("I am sorry, I still do not understand. The migration counselling "
                     "services can help you in person with any question:")),
            self._fallback_cards(state, today))
        return self._prompt(turn, today)

    def _stale(self, state: State, today: date) -> _Turn:
        t = self.lang(state)
        return self._prompt(_Turn(state).say(Text(t._(
            "That button belongs to an earlier question. Here is the current one:"))), today)

    def _on_clarify(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        options = self._clarify_choices(state).options
        picked: str | None = None
        if inbound.choice:
            picked = next((o.id for o in options if o.id == inbound.choice), None)
            if picked is None:
                return self._stale(state, today)
        elif (n := _number(text)) is not None and 1 <= n <= len(options):
            picked = options[n - 1].id
        if picked == "topic:other" or (picked is None and normalise(text) in self.vocabulary.no):
            return self._prompt(_Turn(state.evolve(step="topic", close=())), today)
        if picked:
            return self._topic_chosen(state, picked.removeprefix("topic:"), today)
        match = self.topics.match(text)
        among = [s.id for s in match.topics if s.id in state.close]
        if match.confident and among:
            return self._topic_chosen(state, among[0], today)
        return self._free_text_topic(state, text, today)

    def _clarify_choices(self, state: State) -> Choices:
        t = self.lang(state)
        options = [Choice(f"topic:{tid}", pick(self.catalogue.topics[tid].name, t.code))
                   for tid in state.close if tid in self.catalogue.topics]
        options.append(Choice("topic:other", t._("Something else")))
        return Choices(t._("Which of these do you mean?"), tuple(options))

    def _topic_chosen(self, state: State, topic_id: str, today: date,
                      outputs: Sequence[Output] = ()) -> _Turn:
        new = state.evolve(topic=topic_id, close=(), question=None, shown=0, misses=0)
        return self._advance(_Turn(new, tuple(outputs)), today)

    # -- questions --------------------------------------------------------------------------

    def _candidates(self, state: State, today: date) -> int:
        """The offers that fit the topic and every answer so far, as a bitset."""
        if not state.topic:
            return 0
        return self.selection.candidates(state.topic, state.answers, today)

    def _next_question(self, state: State, today: date) -> Question | None:
        if not state.topic:
            return None
        offers = self._candidates(state, today)
        answered = {q for q, _ in state.answers}
        for question in self.catalogue.questions:
            if (question.id not in answered and question.applies_to(state.topic)
                    and self.selection.narrows(question, offers)):
                return question
        return None

    def _advance(self, turn: _Turn, today: date) -> _Turn:
        assert turn.state is not None
        question = self._next_question(turn.state, today)
        if question:
            new = turn.state.evolve(step="question", question=question.id)
        else:
            new = turn.state.evolve(step="results", question=None, shown=0)
            return self._results(_Turn(new, turn.outputs), today)
        return self._prompt(_Turn(new, turn.outputs), today)

    def _question_choices(self, state: State, question: Question) -> Choices:
        t = self.lang(state)

        def build() -> Choices:
            options = tuple(Choice(f"a:{question.id}:{o.id}", pick(o.label, t.code))
                            for o in question.options)
            return Choices(pick(question.text_for(state.helper), t.code), options)

        return self._memo(("question", question.id, t.code, "helper" * state.helper), build)

    def _on_question(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        question = self.catalogue.question(state.question or "")
        if question is None or not state.topic:
            # The question disappeared in a catalogue reload: carry on with what is left.
            return self._advance(_Turn(state.evolve(question=None)), today)
        option_id = self._resolve_option(question, inbound, text)
        if option_id == "stale":
            return self._stale(state, today)
        if option_id:
            answered = state.with_answer(question.id, option_id).evolve(misses=0)
            return self._advance(_Turn(answered), today)
        switched = self.topics.match(text).close if text else ()
        if len(switched) == 1 and switched[0] != state.topic:
            return self._topic_chosen(state, switched[0], today)
        t = self.lang(state)
        if state.misses + 1 >= MISSES_BEFORE_HELP:
            # Do not trap anyone in a question: skip it and show what we have.
            return self._advance(_Turn(state.with_answer(question.id, "-").evolve(misses=0)), today)
        return self._prompt(_Turn(state.evolve(misses=state.misses + 1)).say(Text(t._(
            "Sorry, I did not understand that answer. Please tap one of the options "
                                               "or write its number."))), today)

    def _resolve_option(self, question: Question, inbound: Inbound, text: str) -> str | None:
        if inbound.choice:
            prefix = f"a:{question.id}:"
            option_id = inbound.choice.removeprefix(prefix)
            if inbound.choice.startswith(prefix) and question.option(option_id):
                return option_id
            return "stale"
        n = _number(text)
        if n is not None and 1 <= n <= len(question.options):
            return question.options[n - 1].id
        hits = self._option_index[question.id].search(text, limit=2)
        if hits and hits[0].coverage >= OPTION_CONFIDENT and (
                len(hits) == 1 or hits[1].score < hits[0].score):
            return hits[0].key  # an option's own words, e.g. its label typed out
        ages = [o for o in question.options if o.filter and o.filter.age]
        age_found = _AGE.search(text)
        if ages and age_found and (n is None or n > len(question.options)):
            years = int(age_found.group(1))
            for option in ages:
                assert option.filter and option.filter.age
                if option.filter.age.min <= years <= option.filter.age.max:
                    return option.id
        if hits and hits[0].query_coverage >= OPTION_CONFIDENT and (
                len(hits) == 1 or hits[1].score < hits[0].score):
            return hits[0].key
        return None

    # -- results ----------------------------------------------------------------------------

    def _results(self, turn: _Turn, today: date) -> _Turn:
        state = turn.state
        assert state is not None and state.topic
        t = self.lang(state)
        mask = self._candidates(state, today)
        total = mask.bit_count()
        topic_name = (pick(self.catalogue.topics[state.topic].name, t.code)
                      if state.topic in self.catalogue.topics else "")
        if not total:
            turn = turn.say(
                UnmetNeed(state.topic, t.code, "results"),
                Text(t._("I am sorry: I found no offer for \u201c{topic}\u201d that fits your "
                         "answers. The migration counselling services know more and help "
                         "for free:", topic=topic_name)),
                self._fallback_cards(state, today))
            return self._prompt(turn, today)
        page = self.selection.page(state.topic, state.answers, mask, today, state.shown, PAGE)
        intro = (t.n_("I found {n} offer for \u201c{topic}\u201d:",
                      "I found {n} offers for \u201c{topic}\u201d:", total, topic=topic_name)
                 if state.shown == 0 else t._("More offers:"))
        link = self._link(t.code, state.topic, district_of(self.catalogue, state))
        if link:  # a forwarded page opens the same search
            intro += "\n" + t._("Open this search in Wegweiser: {link}", link=link)
        answered = self.selection.answered(state.topic, state.answers)
        cards = tuple(self._card(o, state, answered, t, today) for o in page)
        new = state.evolve(shown=state.shown + len(page))
        return self._prompt(_Turn(new, turn.outputs).say(Offers(intro, cards)), today)

    def _fallback_cards(self, state: State, today: date) -> Offers:
        t = self.lang(state)
        topic = self.catalogue.meta.fallback_topic
        offers = self.selection.page(topic, (), self.selection.candidates(topic, (), today),
                                     today, 0, 3)
        return Offers("", tuple(self._card(o, state, [], t, today) for o in offers))

    def _card(self, offer: Offer, state: State, answered: Sequence[tuple[Question, Option]],
              t: Lang, today: date) -> OfferCard:
        title, lines = self._facts(offer, t, today)
        why = t.finish(self._why(offer, state, answered, t))
        return OfferCard(offer.id, title, why, lines, offer.url)

    def _facts(self, offer: Offer, t: Lang, today: date) -> tuple[str, tuple[str, ...]]:
        """An offer's title and fact lines in one language, finished; they depend on nothing
        else, so they are built once per offer, language and day."""
        key = (offer.id, t.code, today)
        cached = self._facts_cache.get(key)
        if cached is not None:
            self._facts_cache.move_to_end(key)
            return cached
        lines: list[str] = []
        address, district = offer.where
        lines.append(t._("Provider: {provider}", provider=offer.provider_name))
        if address or district:
            place = ", ".join(x for x in (address, district) if x)
            lines.append(t._("Where: {place}", place=place))
        if offer.audience.eligibility:
            lines.append(t._("For: {who}", who=pick(offer.audience.eligibility, t.code)))
        if offer.cost:
            cost = t._("free of charge") if offer.cost.free else t._("not free")
            if offer.cost.note:
                cost = f"{cost} ({pick(offer.cost.note, t.code)})"
            lines.append(t._("Cost: {cost}", cost=cost))
        if offer.bring:
            lines.append(t._("Bring: {things}", things=t.join(list(pick(offer.bring, t.code)))))
        languages = [t.language_name(code) for code in offer.languages]
        lines.append(t._("Languages spoken there: {languages}", languages=t.join(languages)))
        start = offer.next_start(today)
        if start:
            lines.append(t._("Next start: {date}", date=start))
        if offer.url:
            lines.append(t._("Website: {url}", url=offer.url))
        facts = (t.finish(pick(offer.title, t.code)), tuple(t.finish(x) for x in lines))
        self._facts_cache[key] = facts
        if len(self._facts_cache) > FACTS_CACHE_SIZE:
            self._facts_cache.popitem(last=False)  # the card shown least recently
        return facts

    def _why(self, offer: Offer, state: State, answered: Sequence[tuple[Question, Option]],
             t: Lang) -> str:
        reasons: list[str] = []
        if state.topic in self.catalogue.topics:
            reasons.append(pick(self.catalogue.topics[state.topic].name, t.code))
        for _, option in answered:
            if option.prefer and option.prefer.likes(offer):
                reasons.append(t._("in your part of town"))
            elif option.filter and option.filter.age:
                reasons.append(t._("for your age group"))
            elif option.filter and option.filter.levels and offer.german_levels:
                reasons.append(t._("for your German level"))
        if offer.cost and offer.cost.free:
            reasons.append(t._("free of charge"))
        # two questions may give the same reason (two age questions): say it once
        return t._("Why it fits: {reasons}", reasons=" · ".join(dict.fromkeys(reasons)))

    def _on_results(self, state: State, inbound: Inbound, text: str, today: date) -> _Turn:
        options = {o.id for o in self._results_choices(state, today).options}
        wanted: str | None = None
        if inbound.choice:
            if inbound.choice not in options:
                return self._stale(state, today)
            wanted = inbound.choice
        elif (n := _number(text)) is not None:
            ids = [o.id for o in self._results_choices(state, today).options]
            wanted = ids[n - 1] if 1 <= n <= len(ids) else None
        elif normalise(text) in self.vocabulary.more | self.vocabulary.yes:
            if "more" not in options:
                t = self.lang(state)
                return self._prompt(_Turn(state).say(Text(t._(
                    "That was all: there are no more offers for this search."))), today)
            wanted = "more"
        if wanted == "more":
            return self._results(_Turn(state), today)
        if wanted == "restart":
            return self._command("restart", state, today)
        if wanted == "language":
            return self._command("language", state, today)
        if wanted == "counter":
            return self._counter(state, today)
        if text:
            match = self.topics.match(text)
            if match.close:
                return self._free_text_topic(state.evolve(shown=0), text, today)
        return self._not_understood(state, today, "results")

    def _results_choices(self, state: State, today: date) -> Choices:
        t = self.lang(state)
        remaining = self._candidates(state, today).bit_count() - state.shown
        options = []
        if remaining > 0:
            options.append(Choice("more", t.n_("Show {n} more offer", "Show {n} more offers",
                                               min(remaining, PAGE))))
        options.append(Choice("restart", t._("New search")))
        options.append(Choice("language", t._("Change language")))
        if state.shown > 0:
            options.append(Choice("counter", t._("Show at the counter")))
        return Choices(t._("What would you like to do next? You can also write another topic."),
                       tuple(options))

    # -- prompts ----------------------------------------------------------------------------

    def _prompt(self, turn: _Turn, today: date) -> _Turn:
        """Append the prompt for the state's current step (rule 2)."""
        state = turn.state
        assert state is not None
        if state.step == "language":
            return turn.say(self._language_choices(state))
        if state.step == "topic":
            return turn.say(self._topic_choices(state))
        if state.step == "clarify":
            return turn.say(self._clarify_choices(state))
        if state.step == "question":
            question = self.catalogue.question(state.question or "")
            if question is None:
                return self._advance(_Turn(state.evolve(question=None), turn.outputs), today)
            return turn.say(self._question_choices(state, question))
        if not state.topic or state.topic not in self.catalogue.topics:
            topic_step = state.evolve(step="topic", topic=None)
            return _Turn(topic_step, turn.outputs).say(self._topic_choices(topic_step))
        return turn.say(self._results_choices(state, today))
