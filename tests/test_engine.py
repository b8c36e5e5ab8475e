"""Engine behaviour that transcripts do not show well: answer resolution, purity, state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.engine import Engine, State
from bot.messages import Choices, Inbound, Offers

from tests.conftest import NOW
from tests.dialogue import Dialogue


def _at_age_question(engine: Engine, lang: str = "en") -> Dialogue:
    dialogue = Dialogue(engine)
    dialogue.tap(f"lang:{lang}")
    dialogue.send("kita")
    assert dialogue.state.question == "age"
    return dialogue


@pytest.mark.parametrize(("answer", "option"), [
    ("1", "child-0-5"), ("٣", "teen-12-17"), ("۲", "child-6-11"), ("2.", "child-6-11"),
    ("Erwachsne", "adult-27"),  # option name with a typo, in another language
    ("young adlt", "young-adult-18-26"),
    ("8 Jahre", "child-6-11"), ("she is 14", "teen-12-17"), ("40", "adult-27"),
    ("طفل صغير", "child-0-5"), ("baby", "child-0-5"),
])
def test_free_text_answers_to_a_choice_question(engine: Engine, answer: str,
                                                option: str) -> None:
    dialogue = _at_age_question(engine)
    dialogue.send(answer)
    assert dialogue.state.answer("age") == option


@pytest.mark.parametrize(("hint", "yes"), [("de", "ja"), ("ar", "نعم"), ("en", "yes"),
                                           ("de", "OK"), ("ar", "اي")])
def test_yes_confirms_the_suggested_language(engine: Engine, hint: str, yes: str) -> None:
    dialogue = Dialogue(engine, locale_hint=hint)
    dialogue.send("")
    assert dialogue.choices[0] == f"lang:{hint}"
    dialogue.send(yes)
    assert dialogue.state.lang == hint and dialogue.state.step == "topic"


@pytest.mark.parametrize(("text", "lang"), [("Arabic", "ar"), ("عربي", "ar"), ("deutsch", "de"),
                                            ("Englisch", "en"), ("3", None)])
def test_languages_can_be_named_in_any_language(engine: Engine, text: str,
                                                lang: str | None) -> None:
    dialogue = Dialogue(engine)
    dialogue.send("")
    dialogue.send(text)
    if lang is None:  # a number picks the n-th option shown
        lang = dialogue.state.lang
        assert lang is not None
    assert dialogue.state.lang == lang


def test_script_of_the_first_message_suggests_the_language(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.send("السلام عليكم")
    assert dialogue.choices[0] == "lang:ar"
    assert dialogue.last[-1].rtl


def test_close_topics_are_clarified(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:de")
    dialogue.send("Studium Anerkennung")
    assert dialogue.state.step == "clarify"
    assert set(dialogue.choices) == {"topic:recognition", "topic:university", "topic:other"}
    dialogue.send("2")
    assert dialogue.state.topic == "university"  # the second option shown
    clarify_again = Dialogue(engine)
    clarify_again.tap("lang:de")
    clarify_again.send("Studium Anerkennung")
    clarify_again.tap("topic:other")
    assert clarify_again.state.step == "topic"


def test_a_new_topic_can_be_written_in_the_middle_of_questions(engine: Engine) -> None:
    dialogue = _at_age_question(engine)
    dialogue.send("actually I need my diploma recognised")
    assert dialogue.state.topic == "recognition"


def test_a_question_that_is_not_understood_twice_is_skipped(engine: Engine) -> None:
    dialogue = _at_age_question(engine)
    dialogue.send("hmm")
    assert dialogue.state.question == "age" and "did not understand" in dialogue.text
    dialogue.send("hmm")
    assert dialogue.state.question != "age", "nobody is trapped in a question"


def test_each_offer_says_why_it_fits(engine: Engine) -> None:
    dialogue = _at_age_question(engine)
    dialogue.send("1")
    dialogue.send("centre")
    cards = [c for o in dialogue.last if isinstance(o, Offers) for c in o.cards]
    assert 1 <= len(cards) <= 5
    assert all(c.why.startswith("Why it fits:") for c in cards)
    assert any("in your part of town" in c.why for c in cards)
    assert cards[0].offer_id == "welcome-service-first-contact" or "part of town" in cards[0].why


def test_expired_offers_are_hidden(engine: Engine, catalogue) -> None:
    from dataclasses import replace

    from bot.catalogue import Catalogue

    expired = replace(catalogue.offer("stadt-kita-registration"),
                      valid_until=(NOW - timedelta(days=1)).date())
    offers = tuple(expired if o.id == expired.id else o for o in catalogue.offers)
    changed = Engine(Catalogue(catalogue.meta, catalogue.topics, catalogue.questions, offers),
                     engine.languages)
    dialogue = Dialogue(changed)
    dialogue.tap("lang:en")
    dialogue.send("kita")
    for _ in range(3):  # answer whatever is still asked
        if dialogue.state.step == "question":
            dialogue.send("1")
    assert dialogue.state.step == "results" and dialogue.offers
    assert "stadt-kita-registration" not in dialogue.offers


def test_step_is_pure(engine: Engine) -> None:
    """Same inputs, same outputs; the input state is never modified."""
    state = State(step="question", lang="ar", topic="childcare", question="age")
    first = engine.step(state, Inbound(text="1"), NOW)
    second = engine.step(state, Inbound(text="1"), NOW)
    assert first == second
    assert state == State(step="question", lang="ar", topic="childcare", question="age")


def test_state_holds_no_message_text(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    secret = "my name is Amira Haddad and I live at Breiter Weg"
    dialogue.send(secret)
    dialogue.tap("lang:en")
    dialogue.send(secret + " kita")
    assert "Amira" not in repr(dialogue.state.to_json())


def test_prompt_ends_every_turn(engine: Engine) -> None:
    dialogue = _at_age_question(engine)
    for text in ("1", "any", "more", "zzz", "back", "help"):
        dialogue.send(text)
        assert isinstance(dialogue.last[-1], Choices), text


def test_a_typed_out_label_wins_over_the_number_in_it(engine: Engine) -> None:
    """"Young child (under 6)" names the 0-5 option, although 6 is in the 6-11 range."""
    dialogue = _at_age_question(engine)
    dialogue.send("Young child (under 6)")
    assert dialogue.state.answer("age") == "child-0-5"


def test_state_evolve_is_replace() -> None:
    state = State(step="question", lang="ar", topic="school", answers=(("age", "teen-12-17"),))
    assert state.evolve(step="results", shown=5) == State(
        step="results", lang="ar", topic="school", answers=(("age", "teen-12-17"),), shown=5)
    assert state.step == "question", "the original is untouched"
    with pytest.raises(TypeError):
        state.evolve(stpe="results")



@pytest.mark.parametrize(("first", "hint", "suggested"), [
    ("سلام، برای پسرم مدرسه می‌خواهم", None, "fa"), ("زه د خپل زوی لپاره ښوونځی غواړم", None, "ps"),
    ("Привіт, шукаю школу для сина", None, "uk"), ("Здравствуйте, ищу школу для сына", None, "ru"),
    ("Merhaba, oğlum için okul arıyorum", None, "tr"),
    ("Bonjour, je cherche une école", None, "fr"),
    ("ሰላም", None, "ti"), ("Silav, ez dibistanek ji bo kurê xwe digerim", None, "ku"),
    ("hello", "uk-UA", "uk"), ("hello", "fa-AF", "fa"), ("hello", "pt-BR", "en"),
])
def test_first_message_suggests_one_of_eleven_languages(engine: Engine, first: str,
                                                         hint: str | None, suggested: str) -> None:
    dialogue = Dialogue(engine, locale_hint=hint)
    dialogue.send(first)
    assert dialogue.choices[0] == f"lang:{suggested}"
    assert len(dialogue.choices) == 11, "every language stays one tap away"
    dialogue.tap(f"lang:{suggested}")
    assert dialogue.state.lang == suggested


def test_a_wrong_language_is_left_with_one_word(engine: Engine) -> None:
    """Nobody is trapped: the language command works in any language at any step."""
    dialogue = Dialogue(engine)
    dialogue.tap("lang:ti")
    dialogue.send("kita")
    dialogue.send("language")
    assert dialogue.state.step == "language"
    dialogue.send("العربية")
    assert dialogue.state.lang == "ar" and dialogue.state.topic == "childcare"


def test_the_next_start_date_is_shown_in_the_persons_language(engine: Engine,
                                                              catalogue) -> None:
    """Past start dates are skipped; the next one is written as people of that language
    write dates (no bundled offer has dates yet: none were confirmed)."""
    from dataclasses import replace
    from datetime import date

    from bot.catalogue import Catalogue

    offer = replace(catalogue.offer("vhs-grundbildung"),
                    starts=(date(2026, 11, 1), date(2027, 1, 12), date(2027, 3, 1)))
    changed = Engine(Catalogue(catalogue.meta, catalogue.topics, catalogue.questions,
                               tuple(offer if o.id == offer.id else o for o in catalogue.offers)),
                     engine.languages)
    expected = {"de": "Nächster Beginn: 12. Januar 2027", "en": "Next start: January 12, 2027",
                "tr": "Bir sonraki başlangıç: 12 Ocak 2027", "ar": "12 يناير 2027",
                "uk": "12 січня 2027"}
    for lang, line in expected.items():
        card = changed.preview(offer.id, lang, NOW.date())
        assert card is not None
        assert any(line in fact for fact in card.cards[0].lines), (lang, card.cards[0].lines)
        assert not any("2026" in fact for fact in card.cards[0].lines), "a past start"


def test_a_reason_is_given_once_even_when_two_answers_give_it(engine: Engine,
                                                              catalogue) -> None:
    """Two questions that both filter by age (staff may add one): "for your age group"
    appears once in the "why it fits" line."""
    age = catalogue.question("age")
    assert age is not None
    offer = catalogue.offer("vhs-grundbildung")
    child, teen = age.options[0], age.options[2]
    why = engine._why(offer, State(lang="en", topic="literacy-course"),
                      [(age, child), (age, teen)], engine.languages["en"])
    assert why.count("for your age group") == 1, why


# -- privacy notice --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_weeks(engine: Engine) -> Engine:
    """An engine whose conversations are kept 14 days (`wegweiser run --keep-days 14`)."""
    return Engine(engine.catalogue, engine.languages, keep_days=14)


def _at_step(engine: Engine, step: str) -> Dialogue:
    if step == "question":
        return _at_age_question(engine)
    dialogue = Dialogue(engine)
    if step == "language":
        dialogue.send("")
    elif step == "topic":
        dialogue.tap("lang:en")
    elif step == "clarify":
        dialogue.tap("lang:en")
        dialogue.send("Studium Anerkennung")
    else:
        dialogue = _at_age_question(engine)
        dialogue.send("1")
        dialogue.send("centre")
    assert dialogue.state is not None and dialogue.state.step == step
    return dialogue


@pytest.mark.parametrize("word", ["privacy", "/privacy", "Data protection", "Datenschutz",
                                  "الخصوصية", "конфіденційність"])
@pytest.mark.parametrize("step", ["language", "topic", "clarify", "question", "results"])
def test_privacy_is_told_at_any_step_and_the_prompt_repeated(two_weeks: Engine, step: str,
                                                             word: str) -> None:
    dialogue = _at_step(two_weeks, step)
    before, choices = dialogue.state, dialogue.choices
    dialogue.send(word)
    assert dialogue.state == before, "the privacy notice changes nothing"
    assert dialogue.choices == choices, "the current prompt is shown again"
    assert "What I store:" in dialogue.text and "What I never store:" in dialogue.text
    assert "14 days after your last message" in dialogue.text
    assert "\u201cforget\u201d" in dialogue.text


@pytest.mark.parametrize(("lang", "expected"), [
    ("de", "14 Tage nach deiner letzten Nachricht"), ("ar", "14 يوماً من آخر رسالة"),
    ("uk", "через 14 днів"), ("ru", "через 14 дней"), ("fr", "14 jours après"),
    ("tr", "14 gün sonra"), ("fa", "14 روز پس از"), ("ps", "14 ورځې وروسته"),
    ("ku", "14 roj piştî"),
])
def test_privacy_is_told_in_the_persons_language(two_weeks: Engine, lang: str,
                                                 expected: str) -> None:
    from bot.engine.vocabulary import PRIVACY

    dialogue = Dialogue(two_weeks)
    dialogue.tap(f"lang:{lang}")
    word = two_weeks.vocabulary.first_word(two_weeks.languages[lang], PRIVACY)
    before = dialogue.state
    dialogue.send(word)
    assert dialogue.state == before
    privacy = dialogue.text.split("\n")[:4]
    assert any(expected in line for line in privacy), (word, privacy)
    assert "What I store" not in dialogue.text


def test_privacy_before_anything_else_is_answered_then_the_language_asked(
        two_weeks: Engine) -> None:
    dialogue = Dialogue(two_weeks)
    dialogue.send("/privacy")
    assert "14 days after your last message" in dialogue.text
    assert dialogue.state is not None and dialogue.state.step == "language"
    assert dialogue.choices and all(c.startswith("lang:") for c in dialogue.choices)
    arabic = Dialogue(two_weeks)
    arabic.send("الخصوصية")
    assert "14 يوماً" in arabic.text and arabic.choices[0] == "lang:ar"


@pytest.mark.parametrize(("days", "lang", "expected"), [
    (14, "en", "I delete them 14 days after your last message"),
    (1, "en", "I delete them 1 day after your last message"),
    (14, "de", "Ich lösche sie 14 Tage nach deiner letzten Nachricht"),
    (1, "de", "Ich lösche sie 1 Tag nach deiner letzten Nachricht"),
    (2, "ar", "أحذفها بعد يومين"), (3, "ar", "أحذفها بعد 3 أيام"),
    (21, "uk", "через 21 день"), (3, "ru", "через 3 дня"),
])
def test_the_welcome_says_how_long_answers_are_kept(engine: Engine, days: int, lang: str,
                                                    expected: str) -> None:
    from bot.engine.vocabulary import FORGET

    kept = Engine(engine.catalogue, engine.languages, keep_days=days)
    dialogue = Dialogue(kept)
    dialogue.tap(f"lang:{lang}")
    assert expected in dialogue.text
    forget = kept.vocabulary.first_word(kept.languages[lang], FORGET)
    assert forget in dialogue.text


def test_the_default_retention_is_30_days(engine: Engine) -> None:
    assert engine.keep_days == 30
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    assert "30 days after your last message" in dialogue.text


@pytest.mark.parametrize("lang", ["en", "de", "ar", "fa", "ps", "uk", "ru", "tr", "ku", "ti",
                                  "fr"])
def test_help_lists_the_privacy_command_and_its_word_works(two_weeks: Engine,
                                                           lang: str) -> None:
    from bot.engine.vocabulary import COMMAND_DESCRIPTIONS, COMMANDS, HELP, PRIVACY

    t = two_weeks.languages[lang]
    word = two_weeks.vocabulary.first_word(t, PRIVACY)
    dialogue = Dialogue(two_weeks)
    dialogue.tap(f"lang:{lang}")
    dialogue.send(two_weeks.vocabulary.first_word(t, HELP))
    assert f"• {word}" in dialogue.text, dialogue.text
    before = dialogue.state
    dialogue.send(word)
    assert dialogue.state == before and "14" in dialogue.text
    assert two_weeks.vocabulary.command(word) == "privacy"
    assert COMMAND_DESCRIPTIONS["privacy"] and COMMANDS["privacy"] == PRIVACY
