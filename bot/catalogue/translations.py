"""Merge content/translations/<lang>.yaml into the catalogue's texts before validation.

German and English live next to the facts they describe (the offer files, topics.yaml,
questions.yaml); every other language lives in one file per language, keyed by id, so that a
translator works on one file and never touches the facts. The merge happens on the plain data
read from YAML, before the schema validates it, so the catalogue is validated (and its objects
built) once, however many languages there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue.model import REQUIRED_LANGUAGES, TranslationFile
from bot.catalogue.yamlread import Document

Report = Callable[[Path, int, str, str], None]


@dataclass(frozen=True)
class Translation:
    lang: str
    path: Path
    texts: TranslationFile
    doc: Document


@dataclass(frozen=True)
class MainDocs:
    """The plain data of the main content files (None where a file could not be read)."""

    catalogue: tuple[Path, Document] | None
    topics: tuple[Path, Document] | None
    questions: tuple[Path, Document] | None
    offers: list[tuple[Path, Document]]


def _by_id(items: object) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {item["id"]: item for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str)}


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else "check the id against the main files"


class _Merger:
    def __init__(self, translation: Translation, report: Report):
        self.t = translation
        self.report = report

    def problem(self, loc: tuple[str, ...], message: str, hint: str) -> None:
        self.report(self.t.path, self.t.doc.line_of(loc), message, hint)

    def put(self, target: object, key: str, value: object, loc: tuple[str, ...],
            main_file: str, create: bool = False) -> None:
        """Set target[key][lang] = value, refusing to overwrite a text in the main file."""
        if value is None or value == () or not isinstance(target, dict):
            return
        texts = target.get(key)
        if texts is None and create:
            texts = target[key] = {}
        if not isinstance(texts, dict):
            self.problem(loc, f"there is no German and English {loc[-1]} to translate here",
                         f"add the `{key}` in de and en to {main_file} first, or remove this line")
            return
        lang = self.t.lang
        if lang in texts:
            self.problem(loc, f"the {lang} text is also given in {main_file}",
                         f"keep one of them; translations belong in translations/{lang}.yaml")
            return
        texts[lang] = list(value) if isinstance(value, tuple) else value

    def unknown(self, loc: tuple[str, ...], kind: str, key: str, known: Iterable[str]) -> None:
        self.problem(loc, f"unknown {kind} {key!r}", _suggest(key, known))


def merge_translations(translations: list[Translation], main: MainDocs, report: Report) -> None:
    """Copy every translated text into the main files' data; report unknown ids and clashes."""
    topics = _by_id(main.topics[1].data.get("topics")) if main.topics else {}
    questions = _by_id(main.questions[1].data.get("questions")) if main.questions else {}
    offers: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, doc in main.offers:
        where = f"offers/{path.name}"
        for offer_id, offer in _by_id(doc.data.get("offers")).items():
            offers[offer_id] = (where, offer)
    for translation in translations:
        merger = _Merger(translation, report)
        if translation.lang in REQUIRED_LANGUAGES:
            merger.problem((), f"{translation.lang} texts belong in the main files",
                           "write German and English next to the facts, not in translations/")
            continue
        texts = translation.texts
        if main.catalogue:
            name = main.catalogue[0].name
            data = main.catalogue[1].data
            merger.put(data, "name", texts.catalogue.name, ("catalogue", "name"), name)
            merger.put(data, "notice", texts.catalogue.notice, ("catalogue", "notice"), name)
        if main.topics:
            for topic_id, text in texts.topics.items():
                loc = ("topics", topic_id)
                if topic_id not in topics:
                    merger.unknown(loc, "topic", topic_id, topics)
                    continue
                merger.put(topics[topic_id], "name", text.name, (*loc, "name"), "topics.yaml")
                merger.put(topics[topic_id], "synonyms", text.synonyms, (*loc, "synonyms"),
                           "topics.yaml")
        if main.questions:
            for question_id, qtext in texts.questions.items():
                loc = ("questions", question_id)
                if question_id not in questions:
                    merger.unknown(loc, "question", question_id, questions)
                    continue
                question = questions[question_id]
                merger.put(question, "text", qtext.text, (*loc, "text"), "questions.yaml")
                options = _by_id(question.get("options"))
                for option_id, otext in qtext.options.items():
                    oloc = (*loc, "options", option_id)
                    if option_id not in options:
                        merger.unknown(oloc, "option", option_id, options)
                        continue
                    merger.put(options[option_id], "label", otext.label, (*oloc, "label"),
                               "questions.yaml")
                    merger.put(options[option_id], "synonyms", otext.synonyms,
                               (*oloc, "synonyms"), "questions.yaml", create=True)
        for offer_id, otext in texts.offers.items():
            loc = ("offers", offer_id)
            if offer_id not in offers:
                merger.unknown(loc, "offer", offer_id, offers)
                continue
            where, offer = offers[offer_id]
            merger.put(offer, "title", otext.title, (*loc, "title"), where)
            merger.put(offer, "description", otext.description, (*loc, "description"), where)
            merger.put(offer, "bring", otext.bring, (*loc, "bring"), where)
            audience = offer.get("audience")
            merger.put(audience if isinstance(audience, dict) else {}, "eligibility",
                       otext.eligibility, (*loc, "eligibility"), where)
            cost = offer.get("cost")
            merger.put(cost if isinstance(cost, dict) else {}, "note", otext.cost_note,
                       (*loc, "cost_note"), where)

