"""Load content/ into a Catalogue, or report every problem at once with file, line and a hint.

Staff fix content in rounds, often in a web editor; one error at a time would make them wait
for a round trip per typo. So the loader keeps going after a problem, collects all of them,
and only then refuses: the bot never starts with half a catalogue.
"""

from __future__ import annotations

import difflib
import gc
import re
from collections.abc import Iterable, Iterator
from functools import cache
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from bot.catalogue import model
from bot.catalogue.catalogue import Catalogue
from bot.catalogue.model import (
    Meta,
    Offer,
    OffersFile,
    QuestionsFile,
    TopicsFile,
    TranslationFile,
)
from bot.catalogue.parsecache import ParseCache
from bot.catalogue.translations import Targets, Translation, merge_translations
from bot.catalogue.yamlread import Document, YamlProblem, read_yaml

T = TypeVar("T")

#: Before every offer's dates: "visible at any time" for load-time checks.
_FAR_PAST = date(1970, 1, 1)

CATALOGUE_FILE = "catalogue.yaml"
TOPICS_FILE = "topics.yaml"
QUESTIONS_FILE = "questions.yaml"
OFFERS_DIR = "offers"
TRANSLATIONS_DIR = "translations"
LANGUAGE_FILE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in content/: where, what, and what to do about it."""

    file: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class CatalogueError(Exception):
    """The content cannot be loaded; `problems` lists every reason, in file and line order."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(sorted(problems))
        super().__init__(f"{len(self.problems)} problem(s) in the catalogue")


def _all_field_names() -> frozenset[str]:
    names: set[str] = set()
    for obj in vars(model).values():
        if isinstance(obj, type) and is_dataclass(obj):
            names.update(f.name for f in fields(obj))
    return frozenset(names)


_FIELD_NAMES = _all_field_names()


def _path_text(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _explain(error: dict[str, Any]) -> tuple[str, str]:
    """A staff-friendly message and hint for one pydantic error."""
    kind = error["type"]
    loc = tuple(p for p in error["loc"] if p != "[key]")
    name = str(loc[-1]) if loc else ""
    where = _path_text(loc)
    value = error.get("input")
    msg = str(error["msg"]).removeprefix("Value error, ")
    if value is None and kind not in {"missing", "extra_forbidden",
                                      "unexpected_keyword_argument"}:
        return (f"{where}: no value is given",
                "write a value after the colon or remove the line (to write the word null, "
                'put it in quotes: "null")')
    if kind == "missing":
        return f"{where}: this field is missing", f"add a line `{name}: ...`"
    if kind in {"extra_forbidden", "unexpected_keyword_argument"}:
        close = difflib.get_close_matches(name, _FIELD_NAMES, n=1)
        hint = f"did you mean `{close[0]}`?" if close else "remove it or check its spelling"
        return f"{where}: unknown field {name!r}", hint
    if kind == "string_pattern_mismatch":
        if "[key]" in error["loc"]:
            return (f"{where}: {value!r} is not a language code",
                    "use a short language code such as de, en, ar, fa, uk")
        if "a-z]{2,3}" in str(error.get("ctx", {}).get("pattern", "")):
            return (f"{where}: {value!r} is not a language code",
                    "use a short language code such as de, en, ar, fa, uk")
        return (f"{where}: {value!r} is not a valid id",
                "use lower-case letters, digits and hyphens, e.g. german-course")
    if kind.startswith("date"):
        return f"{where}: {value!r} is not a date", "write dates as YYYY-MM-DD, e.g. 2026-01-15"
    if kind.startswith("bool"):
        return f"{where}: {value!r} is not yes or no", "write true or false"
    if kind.startswith("int"):
        return f"{where}: {value!r} is not a whole number", "write a number such as 16"
    if kind == "literal_error":
        return f"{where}: {value!r} is not allowed here", msg.replace("Input should be", "use")
    if kind == "string_too_short":
        return f"{where}: the text is empty", "write the text, or remove the line"
    if kind == "string_too_long":
        return f"{where}: the text is too long", "keep it shorter: " + msg
    if kind == "too_short":
        need = error.get("ctx", {}).get("min_length", 1)
        return (f"{where}: needs at least {need} {'entry' if need == 1 else 'entries'}",
                "add the missing entries")
    if kind in {"dict_type", "dataclass_type", "model_type"}:
        return (f"{where}: expected `key: value` lines here",
                "indent the lines below it, each as `name: value`")
    if kind in {"tuple_type", "list_type"}:
        return (f"{where}: expected a list here",
                "write each entry on its own line starting with `- `, or as [a, b]")
    if kind == "string_type":
        return f"{where}: expected a text here", "write the text on the same line after the colon"
    if kind == "value_error" and msg.startswith("missing text in"):
        langs = msg.removeprefix("missing text in ").split(" and ")
        return (f"{where}: {msg}",
                "add " + ", ".join(f"`{lang}: ...`" for lang in langs) + " below it")
    if kind == "value_error" and "web address" in msg:
        return f"{where}: {value!r} is {msg}", "write the full address, e.g. https://www.vhs.magdeburg.de"
    return f"{where}: {msg}", ""


@dataclass
class _Reader:
    """Reads the files of one content folder, collecting problems instead of stopping."""

    root: Path
    problems: list[Problem]
    cache: ParseCache

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.rel(path), line, message, hint))

    def read(self, path: Path) -> Document | None:
        """The file's plain data, or None (with problems reported) if it cannot be read."""
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            self.add(path, 1, "the file is missing", f"create {path.name} (see docs/content.md)")
            return None
        key = self.cache.key(content)
        cached = self.cache.get(key)
        if cached is not None:  # these very bytes were read before: valid UTF-8 and YAML
            doc = Document(cached, content)
        else:
            try:
                text = content.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                self.add(path, 1, "the file is not UTF-8 text", "save it with the encoding UTF-8")
                return None
            try:
                doc = read_yaml(text)
            except YamlProblem as err:
                self.add(path, err.line, err.message, err.hint)
                return None
            self.cache.put(key, doc.data)
        if not isinstance(doc.data, dict):
            self.add(path, 1, "the file is empty or not a mapping",
                     "start with the top-level key, see docs/content.md")
            return None
        return doc

    def validate(self, path: Path, doc: Document | None, shape: type[T]) -> T | None:
        if doc is None:
            return None
        try:
            return _adapter(shape).validate_python(doc.data)
        except ValidationError as err:
            for error in _without_echoes(err.errors()):
                loc = tuple(p for p in error["loc"] if p != "[key]")
                message, hint = _explain(error)
                self.add(path, doc.line_of(loc), message, hint)
            return None

    def parse(self, path: Path, shape: type[T]) -> tuple[T, Document] | None:
        doc = self.read(path)
        value = self.validate(path, doc, shape)
        return (value, doc) if value is not None and doc is not None else None


@cache
def _adapter(shape: type[T]) -> TypeAdapter[T]:
    """One validator per file shape, built once (building one costs more than using it)."""
    return TypeAdapter(shape)


def _without_echoes(errors: list[Any]) -> list[Any]:
    """Drop errors that only repeat another one, so staff fix each mistake once.

    A misspelt field ("titel") also makes the real one ("title") missing; a list whose only
    entry is broken is also "too short". Both echoes go away with the real mistake.
    """
    extras = {(tuple(e["loc"][:-1]), close)
              for e in errors if e["type"] in {"extra_forbidden", "unexpected_keyword_argument"}
              for close in difflib.get_close_matches(str(e["loc"][-1]), _FIELD_NAMES, n=1)}
    broken = [tuple(e["loc"]) for e in errors]
    kept = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and (loc[:-1], str(loc[-1])) in extras:
            continue
        if error["type"] == "too_short" and any(
                other[: len(loc)] == loc and len(other) > len(loc) for other in broken):
            continue
        kept.append(error)
    return kept


def _duplicates(items: Iterable[tuple[str, T]]) -> Iterator[tuple[str, T]]:
    seen: set[str] = set()
    for key, where in items:
        if key in seen:
            yield key, where
        seen.add(key)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _inherit(offer: Offer, offers_file: OffersFile) -> Offer:
    """The offer with its file's provider and sources unless it names its own.

    Set on the freshly validated object (not through dataclasses.replace, which would validate
    every offer a second time): the file's provider was validated once, for all its offers.
    """
    if offer.provider is None:
        object.__setattr__(offer, "provider", offers_file.provider)
    if not offer.sources:
        object.__setattr__(offer, "sources", offers_file.sources)
    return offer


def _read_translations(reader: _Reader, root: Path) -> list[Translation]:
    translations: list[Translation] = []
    folder = root / TRANSLATIONS_DIR
    # translations/fa.yaml, or for large catalogues any number of files in translations/fa/
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*/*.yaml")]):
        lang = path.stem if path.parent == folder else path.parent.name
        if not LANGUAGE_FILE.match(lang):
            reader.add(path, 1, f"{path.relative_to(folder)} is not named after a language code",
                       "name it after the language, e.g. translations/fa.yaml or "
                       "translations/fa/<provider>.yaml")
            continue
        parsed = reader.parse(path, TranslationFile)
        if parsed:
            translations.append(Translation(lang, path, parsed[0], parsed[1]))
    return translations


def _ids(doc: Document | None, key: str) -> frozenset[str] | None:
    """Every id written in a main file's list `key`, valid or not; None if the file could not
    be read at all (then no translation is called unknown: one mistake, one report)."""
    if doc is None:
        return None
    items = doc.data.get(key)
    if not isinstance(items, list):
        return frozenset()
    return frozenset(item["id"] for item in items
                     if isinstance(item, dict) and isinstance(item.get("id"), str))


def _union(parts: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    known: set[str] = set()
    for part in parts:
        if part is None:
            return None
        known |= part
    return frozenset(known)


def check_catalogue(root: Path | str, cache: ParseCache | None = None
                    ) -> tuple[Catalogue | None, tuple[Problem, ...]]:
    """Load the content folder; return the catalogue (None if anything is wrong) and problems.

    `cache` remembers parsed files by content (see parsecache.py); without one, every file
    is parsed.

    Loading creates millions of objects and no reference cycles, so the cyclic garbage
    collector is paused meanwhile (it would walk the growing heap again and again: a large
    catalogue loads three times faster), and the new catalogue is then moved out of its sight
    for good (gc.freeze): it lives until the next reload, and is freed by reference counting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        catalogue, problems = _check(Path(root), cache or ParseCache())
        if catalogue is not None:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()
    return catalogue, problems


def _check(root: Path, cache: ParseCache) -> tuple[Catalogue | None, tuple[Problem, ...]]:
    reader = _Reader(root, [], cache)
    if not root.is_dir():
        reader.add(root, 1, "the content folder does not exist",
                   "pass the folder that holds catalogue.yaml, e.g. `content`")
        return None, tuple(reader.problems)

    main_paths = {name: root / name for name in (CATALOGUE_FILE, TOPICS_FILE, QUESTIONS_FILE)}
    main_docs = {name: reader.read(path) for name, path in main_paths.items()}
    offers_dir = root / OFFERS_DIR
    offer_paths = sorted([*offers_dir.rglob("*.yaml"), *offers_dir.rglob("*.yml")])
    if not offer_paths:
        reader.add(root / OFFERS_DIR, 1, "there are no offer files",
                   "add at least one offers/<provider>.yaml")
    offer_docs = [(p, reader.read(p)) for p in offer_paths]
    translations = _read_translations(reader, root)

    def validated(name: str, shape: type[T]) -> tuple[T, Document] | None:
        doc = main_docs[name]
        value = reader.validate(main_paths[name], doc, shape)
        return (value, doc) if value is not None and doc is not None else None

    meta_read = validated(CATALOGUE_FILE, Meta)
    topics_read = validated(TOPICS_FILE, TopicsFile)
    questions_read = validated(QUESTIONS_FILE, QuestionsFile)
    offer_reads = []
    for path, doc in offer_docs:
        value = reader.validate(path, doc, OffersFile)
        offer_reads.append((path, (value, doc) if value is not None and doc else None))

    topic_ids: set[str] = set()
    if topics_read:
        topics_file, doc = topics_read
        path = root / TOPICS_FILE
        for key, i in _duplicates((t.id, i) for i, t in enumerate(topics_file.topics)):
            reader.add(path, doc.line_of(("topics", i, "id")),
                       f"the topic id {key!r} is used twice",
                       "every topic needs its own id")
        topic_ids = {t.id for t in topics_file.topics}

    districts: set[str] = set()
    if meta_read:
        meta, doc = meta_read
        districts = set(meta.districts)
        if topics_read and meta.fallback_topic not in topic_ids:
            reader.add(root / CATALOGUE_FILE, doc.line_of(("fallback_topic",)),
                       f"fallback_topic {meta.fallback_topic!r} is not a topic",
                       _suggest(meta.fallback_topic, topic_ids) or "name a topic from topics.yaml")

    def check_topic_refs(path: Path, doc: Document, base: tuple, ids: Iterable[str]) -> None:
        if not topics_read:
            return
        for j, tid in enumerate(ids):
            if tid not in topic_ids:
                reader.add(path, doc.line_of((*base, j)), f"unknown topic {tid!r}",
                           _suggest(tid, topic_ids) or "use an id from topics.yaml")

    def check_district(path: Path, doc: Document, loc: tuple, name: str | None) -> None:
        if meta_read and name is not None and name not in districts:
            reader.add(path, doc.line_of(loc), f"unknown district {name!r}",
                       _suggest(name, districts) or "use a Stadtteil listed in catalogue.yaml")

    if questions_read:
        questions_file, doc = questions_read
        path = root / QUESTIONS_FILE
        for key, i in _duplicates((q.id, i) for i, q in enumerate(questions_file.questions)):
            reader.add(path, doc.line_of(("questions", i, "id")),
                       f"the question id {key!r} is used twice", "every question needs its own id")
        for i, question in enumerate(questions_file.questions):
            check_topic_refs(path, doc, ("questions", i, "topics"), question.topics or ())
            for key, j in _duplicates((o.id, j) for j, o in enumerate(question.options)):
                reader.add(path, doc.line_of(("questions", i, "options", j, "id")),
                           f"the option id {key!r} is used twice in question {question.id!r}",
                           "every option of a question needs its own id")
            for j, option in enumerate(question.options):
                for k, name in enumerate(option.prefer.districts if option.prefer else ()):
                    check_district(path, doc,
                                   ("questions", i, "options", j, "prefer", "districts", k), name)

    offers: list[Offer] = []
    offer_places: list[tuple[str, tuple[Path, Document, tuple[str | int, ...]]]] = []
    for path, read in offer_reads:
        if not read:
            continue
        offers_file, doc = read
        check_district(path, doc, ("provider", "district"), offers_file.provider.district)
        for i, offer in enumerate(offers_file.offers):
            base = ("offers", i)
            check_topic_refs(path, doc, (*base, "topics"), offer.topics)
            check_district(path, doc, (*base, "district"), offer.district)
            if offer.ends and offer.starts and offer.ends < max(offer.starts):
                reader.add(path, doc.line_of((*base, "ends")),
                           "the offer ends before its last start date", "check the dates")
            offer_places.append((offer.id, (path, doc, (*base, "id"))))
            offers.append(_inherit(offer, offers_file))
    merge_translations(translations, Targets(
        meta=meta_read[0] if meta_read else None,
        topics={t.id: t for t in topics_read[0].topics} if topics_read else {},
        questions={q.id: q for q in questions_read[0].questions} if questions_read else {},
        offers={o.id: (f"offers/{p.name}", o) for o, (p, _, _) in
                zip(offers, (place for _, place in offer_places), strict=True)},
        known_topics=_ids(main_docs[TOPICS_FILE], "topics"),
        known_questions=_ids(main_docs[QUESTIONS_FILE], "questions"),
        known_offers=_union(_ids(d, "offers") for _, d in offer_docs),
    ), reader.add)
    for key, (path, doc, loc) in _duplicates(offer_places):
        reader.add(path, doc.line_of(loc), f"the offer id {key!r} is used twice",
                   "every offer needs its own id, across all files")

    if reader.problems or not (meta_read and topics_read and questions_read):
        return None, tuple(sorted(reader.problems))
    catalogue = Catalogue(
        meta=meta_read[0],
        topics={t.id: t for t in topics_read[0].topics},
        questions=questions_read[0].questions,
        offers=tuple(offers),
    )
    if not catalogue.offers_for(catalogue.meta.fallback_topic, _FAR_PAST):
        reader.add(root / CATALOGUE_FILE, meta_read[1].line_of(("fallback_topic",)),
                   "no offer has the fallback topic",
                   "give at least one counselling offer that topic, so nobody is left without help")
        return None, tuple(reader.problems)
    return catalogue, ()


def load_catalogue(root: Path | str, cache: ParseCache | None = None) -> Catalogue:
    """Load the content folder or raise CatalogueError listing every problem."""
    catalogue, problems = check_catalogue(root, cache)
    if catalogue is None:
        raise CatalogueError(problems)
    return catalogue
