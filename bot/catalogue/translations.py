"""Merge content/translations/<lang>.yaml into the catalogue's texts after validation.

German and English live next to the facts they describe (the offer files, topics.yaml,
questions.yaml); every other language lives in files per language, keyed by id, so that a
translator works on one file and never touches the facts. Each file is validated on its own
(every text non-empty and of sane length), then its texts are copied into the validated
catalogue objects' text dicts before the catalogue is published. Copying after validation
means a state-wide catalogue in eleven languages is not validated twice.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue.model import REQUIRED_LANGUAGES, Meta, Offer, Question, Topic, TranslationFile
from bot.catalogue.yamlread import Document

Report = Callable[[Path, int, str, str], None]


@dataclass(frozen=True)
class Translation:
    lang: str
    path: Path
    texts: TranslationFile
    doc: Document


@dataclass(frozen=True)
class Targets:
    """Where translated texts go. `known_*` hold every id written in the main files, also
    those of entries that failed validation, so their translations are not called unknown."""

    meta: Meta | None
    topics: Mapping[str, Topic]
    questions: Mapping[str, Question]
    offers: Mapping[str, tuple[str, Offer]]  # id -> (main file, offer)
    known_topics: frozenset[str] | None
    known_questions: frozenset[str] | None
    known_offers: frozenset[str] | None


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else "check the id against the main files"


class _Merger:
    def __init__(self, translation: Translation, report: Report):
        self.t = translation
        self.lang = translation.lang
        self.report = report

    def problem(self, loc: tuple[str, ...], message: str, hint: str) -> None:
        self.report(self.t.path, self.t.doc.line_of(loc), message, hint)

    def put(self, texts: dict[str, Any] | None, value: object, loc: tuple[str, ...],
            main_file: str) -> None:
        """texts[lang] = value, refusing a field the main file lacks or a text given twice."""
        if value is None:
            return
        if texts is None:
            self.problem(loc, f"there is no German and English {loc[-1]} to translate here",
                         f"add it in de and en to {main_file} first, or remove this line")
        elif self.lang in texts:
            self.problem(loc, f"the {self.lang} text is also given in {main_file}",
                         f"keep one of them; translations belong in translations/{self.lang}.yaml")
        else:
            texts[self.lang] = value

    def unknown(self, loc: tuple[str, ...], kind: str, key: str,
                known: Iterable[str] | None) -> bool:
        """Report `key` if it is not among `known`; None: the main file was unreadable and
        is reported already, so nothing here is called unknown."""
        if known is None:
            return False
        if not isinstance(known, (set, frozenset)):
            known = frozenset(known)
        if key in known:
            return False
        self.problem(loc, f"unknown {kind} {key!r}", _suggest(key, known))
        return True


def merge_translations(translations: list[Translation], targets: Targets,
                       report: Report) -> None:
    """Copy every translated text into the catalogue objects; report unknown ids and clashes."""
    for translation in translations:
        merger = _Merger(translation, report)
        if translation.lang in REQUIRED_LANGUAGES:
            merger.problem((), f"{translation.lang} texts belong in the main files",
                           "write German and English next to the facts, not in translations/")
            continue
        texts = translation.texts
        meta_text = texts.get("catalogue", {})
        if targets.meta and meta_text:
            meta = targets.meta
            merger.put(meta.name, meta_text.get("name"), ("catalogue", "name"), "catalogue.yaml")
            merger.put(meta.notice, meta_text.get("notice"), ("catalogue", "notice"),
                       "catalogue.yaml")
        for topic_id, ttext in texts.get("topics", {}).items():
            loc = ("topics", topic_id)
            topic = targets.topics.get(topic_id)
            if merger.unknown(loc, "topic", topic_id, targets.known_topics):
                continue
            if topic:
                merger.put(topic.name, ttext.get("name"), (*loc, "name"), "topics.yaml")
                merger.put(topic.synonyms, ttext.get("synonyms"), (*loc, "synonyms"),
                           "topics.yaml")
        for question_id, qtext in texts.get("questions", {}).items():
            loc = ("questions", question_id)
            question = targets.questions.get(question_id)
            if merger.unknown(loc, "question", question_id, targets.known_questions):
                continue
            if question is None:
                continue
            merger.put(question.text, qtext.get("text"), (*loc, "text"), "questions.yaml")
            merger.put(question.helper_text, qtext.get("helper_text"), (*loc, "helper_text"),
                       "questions.yaml")
            for option_id, otext in qtext.get("options", {}).items():
                oloc = (*loc, "options", option_id)
                option = question.option(option_id)
                if option is None:
                    merger.unknown(oloc, "option", option_id, [o.id for o in question.options])
                    continue
                merger.put(option.label, otext.get("label"), (*oloc, "label"), "questions.yaml")
                merger.put(option.synonyms, otext.get("synonyms"), (*oloc, "synonyms"),
                           "questions.yaml")
        lang = translation.lang
        for offer_id, otext in texts.get("offers", {}).items():
            found = targets.offers.get(offer_id)
            if found is None:
                merger.unknown(("offers", offer_id), "offer", offer_id, targets.known_offers)
                continue
            where, offer = found
            for field, value in otext.items():
                # inline for title and description: this loop runs a million times
                texts_there = (offer.title if field == "title" else offer.description
                               if field == "description" else _offer_texts(offer, field))
                if texts_there is not None and lang not in texts_there:
                    texts_there[lang] = value
                else:
                    merger.put(texts_there, value, ("offers", offer_id, field), where)


def _offer_texts(offer: Offer, field: str) -> dict[str, Any] | None:
    """The offer's text dict that a translation field adds to (None if the offer has none)."""
    if field == "title":
        return offer.title
    if field == "description":
        return offer.description
    if field == "bring":
        return offer.bring
    if field == "eligibility":
        return offer.audience.eligibility
    return offer.cost.note if offer.cost else None  # cost_note
