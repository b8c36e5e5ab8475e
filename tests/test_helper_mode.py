"""Helper mode: "I am helping someone" changes how questions are asked, never what is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalogue import Catalogue, check_catalogue
from bot.engine import Engine, State
from bot.engine.vocabulary import COUNTER, HELPER, SHARE
from bot.messages import Choices, Signal

from tests.dialogue import Dialogue, plain
from tests.test_catalogue import _plant
from tests.test_languages_complete import LANGUAGES


def _prompt(dialogue: Dialogue) -> str:
    return plain([o for o in dialogue.last if isinstance(o, Choices)][-1].text)


def _helper_at_age(engine: Engine, lang: str, by_button: bool) -> Dialogue:
    dialogue = Dialogue(engine)
    dialogue.tap(f"lang:{lang}")
    if by_button:
        dialogue.tap("helper")
    else:
        dialogue.send(engine.vocabulary.first_word(engine.languages[lang], HELPER))
    assert dialogue.state.helper and dialogue.state.step == "topic"
    dialogue.send("kita")
    assert dialogue.state.question == "age"
    return dialogue


@pytest.mark.parametrize("lang", ["ar", "uk", "en", "de"])
@pytest.mark.parametrize("by_button", [True, False])
def test_helper_mode_asks_the_helper_text(engine: Engine, catalogue: Catalogue, lang: str,
                                         by_button: bool) -> None:
    age = catalogue.question("age")
    assert age is not None and age.helper_text is not None
    dialogue = _helper_at_age(engine, lang, by_button)
    assert _prompt(dialogue) == plain(age.helper_text[lang])
    normal = Dialogue(engine)
    normal.tap(f"lang:{lang}")
    normal.send("kita")
    assert _prompt(normal) == plain(age.text[lang])
    assert not normal.state.helper


def test_helper_topic_prompt_and_menu(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    assert dialogue.choices[-1] == "helper"
    assert _prompt(dialogue).startswith("What are you looking for?")
    dialogue.tap("helper")
    assert _prompt(dialogue).startswith("What is the person you are helping looking for?")
    assert "helper" not in dialogue.choices
    assert "person you are helping" in dialogue.text and "start" in dialogue.text
    dialogue.send("3")  # numbers still pick topics from the menu
    assert dialogue.state.topic == engine._menu[2].id


@pytest.mark.parametrize("lang", ["en", "ar", "uk"])
def test_same_answers_give_the_same_offers(engine: Engine, lang: str) -> None:
    def run(helper: bool) -> tuple[list[str], list[Signal]]:
        dialogue = Dialogue(engine)
        dialogue.tap(f"lang:{lang}")
        if helper:
            dialogue.tap("helper")
        dialogue.send("german course")
        answers = {"age": "a:age:adult-27", "german-level": "a:german-level:a1-a2",
                   "district": "a:district:south"}
        while dialogue.state.step == "question":
            dialogue.tap(answers[dialogue.state.question])
        assert dialogue.state.step == "results" and dialogue.state.helper == helper
        offers = dialogue.offers
        dialogue.send("more")
        return offers + dialogue.offers, dialogue.signals

    with_helper, signals_on = run(True)
    without, signals_off = run(False)
    assert with_helper and with_helper == without
    # the statistics see nothing of helper mode: the same signals, the same labels
    assert signals_on == signals_off


def test_helper_mode_lasts_until_restart(engine: Engine) -> None:
    dialogue = _helper_at_age(engine, "en", by_button=True)
    dialogue.send("back")
    assert dialogue.state.helper
    dialogue.send("language")
    dialogue.tap("lang:de")
    assert dialogue.state.helper and dialogue.state.lang == "de"
    dialogue.send("neu")
    assert not dialogue.state.helper and dialogue.state.step == "topic"
    dialogue.send("helper")
    dialogue.send("vergessen")
    assert dialogue.state is None


def test_helper_words_before_the_language(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.send("I am helping someone")
    assert dialogue.state.helper and dialogue.state.step == "language"
    dialogue.tap("lang:ar")
    dialogue.send("روضة")
    assert dialogue.state.question == "age"
    assert "الشخص الذي تساعده" in _prompt(dialogue)


def test_helper_state_survives_json() -> None:
    state = State(step="question", lang="uk", topic="childcare", question="age", helper=True)
    data = state.to_json()
    assert data["helper"] is True and data["v"] == 2
    assert State.from_json(data) == state
    older = {k: v for k, v in data.items() if k != "helper"}  # written before helper mode
    assert State.from_json(older) == state.evolve(helper=False)
    assert not State.from_json({**data, "helper": "yes"}).helper  # only a real true counts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_lists_share_counter_and_helper(engine: Engine, lang: str) -> None:
    t = engine.languages[lang]
    dialogue = Dialogue(engine)
    dialogue.tap(f"lang:{lang}")
    dialogue.send("help")
    text = dialogue.text
    for msgid in (SHARE, COUNTER, HELPER):
        word = engine.vocabulary.first_word(t, msgid)
        assert word in text, f"{lang}: {word!r} not in the help"
    if lang != "en":
        assert "tell someone about this bot" not in text, f"{lang}: help not translated"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_helper_texts_complete(catalogue: Catalogue, lang: str) -> None:
    for question in catalogue.questions:
        assert question.helper_text is not None, question.id
        assert question.helper_text.get(lang), f"{lang}: question {question.id} helper_text"
        assert question.helper_text[lang] != question.text[lang], question.id


def test_helper_text_without_english_is_refused(content_copy: Path) -> None:
    english = "      en: How old is the person you are helping?\n"
    _plant(content_copy, "questions.yaml", english, "")
    catalogue, problems = check_catalogue(content_copy)
    assert catalogue is None
    found = [p for p in problems if "missing text in en" in p.message]
    assert found, [str(p) for p in problems]
    assert found[0].file == "content/questions.yaml"
    lines = (content_copy / "questions.yaml").read_text(encoding="utf-8").splitlines()
    assert found[0].line == lines.index("    helper_text:") + 1  # the age question's


def test_helper_text_translation_without_main_text_is_refused(content_copy: Path) -> None:
    main = content_copy / "questions.yaml"
    text = main.read_text(encoding="utf-8")
    start = text.index("    helper_text:\n      de: Wie gut")
    end = text.index("\n", text.index("      en:", start)) + 1
    main.write_text(text[:start] + text[end:], encoding="utf-8")
    catalogue, problems = check_catalogue(content_copy)
    assert catalogue is None
    found = [p for p in problems if "no German and English helper_text" in p.message]
    assert found, [str(p) for p in problems]
    assert found[0].file == "content/translations/ar.yaml"
    lines = (content_copy / "translations/ar.yaml").read_text(encoding="utf-8").splitlines()
    assert "helper_text:" in lines[found[0].line - 1]


def test_helper_text_translations_are_merged(catalogue: Catalogue) -> None:
    age = catalogue.question("age")
    assert age is not None and age.helper_text is not None
    assert age.helper_text["ar"] == "كم عمر الشخص الذي تساعده؟"
    assert age.helper_text["uk"] == "Скільки років людині, якій ви допомагаєте?"
    assert age.text_for(True) is age.helper_text and age.text_for(False) is age.text
