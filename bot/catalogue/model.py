"""The catalogue's values: topics, questions, offers and metadata, as frozen dataclasses.

These classes are at the same time the schema of the YAML files in content/: the loader
validates the files against them (pydantic), and the JSON Schema for editors is generated from
them, so the rules live in one place only. Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from typing_extensions import TypedDict
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic.dataclasses import dataclass

#: Every human-visible text must exist in these languages; others may be missing and fall back.
REQUIRED_LANGUAGES: tuple[str, ...] = ("de", "en")

#: German levels of the Common European Framework; A0 means "no German yet".
GermanLevel = Literal["A0", "A1", "A2", "B1", "B2", "C1", "C2"]

_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True)

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Id = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
]
LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]

_SPACE = re.compile(r"\s")
_URL_HOST = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not _URL_HOST.match(parts.hostname or ""):
        raise ValueError("not a web address: it must start with https:// and name a host")
    if _SPACE.search(value):
        raise ValueError("a web address cannot contain spaces")
    return value


Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(_check_url)]


def _require_languages(value: dict[str, object]) -> dict[str, object]:
    missing = [lang for lang in REQUIRED_LANGUAGES if not value.get(lang)]
    if missing:
        raise ValueError("missing text in " + " and ".join(missing))
    return value


#: A text in several languages, e.g. {"de": "Deutschkurs", "en": "German course"}.
LocalText = Annotated[dict[LangCode, Text], AfterValidator(_require_languages)]
#: A list of texts per language, e.g. synonyms or things to bring.
LocalList = Annotated[
    dict[LangCode, tuple[Text, ...]], AfterValidator(_require_languages)
]


def pick(texts: dict[str, str], lang: str, fallback: str = "en") -> str:
    """The text in `lang`, else in the fallback language, else in German."""
    return texts.get(lang) or texts.get(fallback) or texts["de"]


@dataclass(frozen=True, config=_CONFIG)
class AgeRange:
    """Ages in whole years, both ends included."""

    min: Annotated[int, Field(ge=0, le=120)] = 0
    max: Annotated[int, Field(ge=0, le=120)] = 120

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min > self.max:
            raise ValueError("min must not be larger than max")
        return self

    def overlaps(self, other: AgeRange) -> bool:
        return self.min <= other.max and other.min <= self.max


@dataclass(frozen=True, config=_CONFIG)
class Audience:
    age: AgeRange = AgeRange()
    eligibility: LocalText | None = None


@dataclass(frozen=True, config=_CONFIG)
class Cost:
    free: bool
    note: LocalText | None = None


@dataclass(frozen=True, config=_CONFIG)
class Provider:
    name: Text
    website: Url | None = None
    address: Text | None = None
    district: Text | None = None


@dataclass(frozen=True, config=_CONFIG)
class Offer:
    """One offer of one provider. Fields left out fall back to the provider's."""

    id: Id
    title: LocalText
    description: LocalText
    topics: Annotated[tuple[Id, ...], Field(min_length=1)]
    audience: Audience = Audience()
    german_levels: tuple[GermanLevel, ...] = ()
    languages: tuple[LangCode, ...] = ("de",)
    cost: Cost | None = None
    bring: LocalList | None = None
    website: Url | None = None
    address: Text | None = None
    district: Text | None = None
    starts: tuple[date, ...] = ()
    ends: date | None = None
    valid_until: date | None = None
    sources: tuple[Url, ...] = ()
    reviewed: date | None = None
    owner: Text | None = None
    provider: Provider | None = None

    @property
    def provider_name(self) -> str:
        return self.provider.name if self.provider else ""

    @property
    def where(self) -> tuple[str | None, str | None]:
        """(address, district), each from the offer or else from its provider."""
        p = self.provider
        return (self.address or (p.address if p else None),
                self.district or (p.district if p else None))

    @property
    def url(self) -> str | None:
        return self.website or (self.provider.website if self.provider else None)

    def is_visible(self, today: date) -> bool:
        """Offers past `valid_until` or past their end date are hidden automatically."""
        if self.valid_until is not None and self.valid_until < today:
            return False
        return self.ends is None or self.ends >= today

    def next_start(self, today: date) -> date | None:
        upcoming = [d for d in self.starts if d >= today]
        return min(upcoming) if upcoming else None


@dataclass(frozen=True, config=_CONFIG)
class Topic:
    id: Id
    name: LocalText
    synonyms: LocalList


@dataclass(frozen=True, config=_CONFIG)
class Filter:
    """Keeps only the offers that match every field given."""

    age: AgeRange | None = None
    levels: tuple[GermanLevel, ...] | None = None

    def keeps(self, offer: Offer) -> bool:
        if self.age is not None and not offer.audience.age.overlaps(self.age):
            return False
        if self.levels and offer.german_levels:
            return bool(set(self.levels) & set(offer.german_levels))
        return True


@dataclass(frozen=True, config=_CONFIG)
class Prefer:
    """Ranks matching offers first without hiding the others."""

    districts: tuple[Text, ...] = ()

    def likes(self, offer: Offer) -> bool:
        return offer.where[1] in self.districts


@dataclass(frozen=True, config=_CONFIG)
class Option:
    id: Id
    label: LocalText
    synonyms: dict[LangCode, tuple[Text, ...]] = Field(default_factory=dict)
    filter: Filter | None = None
    prefer: Prefer | None = None


@dataclass(frozen=True, config=_CONFIG)
class Question:
    id: Id
    text: LocalText
    options: Annotated[tuple[Option, ...], Field(min_length=2)]
    #: Topics this question is asked for; None means every topic.
    topics: tuple[Id, ...] | None = None
    #: The question as asked of someone who helps another person ("helper mode"), e.g.
    #: "How old is the person you are helping?"; None: `text` is asked in helper mode too.
    helper_text: LocalText | None = None

    def text_for(self, helper: bool) -> dict[str, str]:
        """The texts to ask: `helper_text` in helper mode when there is one, else `text`."""
        return self.helper_text if helper and self.helper_text else self.text

    def option(self, option_id: str) -> Option | None:
        for option in self.options:  # a handful: a loop beats building a dict
            if option.id == option_id:
                return option
        return None

    def applies_to(self, topic_id: str) -> bool:
        return self.topics is None or topic_id in self.topics


@dataclass(frozen=True, config=_CONFIG)
class Meta:
    id: Id
    name: LocalText
    region: Text
    version: Text
    fallback_topic: Id
    districts: tuple[Text, ...]
    sample_data: bool = False
    notice: LocalText | None = None


# The shapes of the files in content/: what the loader validates, what the schema describes.

# Translations: content/translations/<lang>.yaml holds one language's texts for every topic,
# question and offer, keyed by id, so translators work on one file per language. These are
# validated into plain dicts (TypedDict): they are only copied into the texts above.

class TopicText(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    name: Text
    synonyms: tuple[Text, ...]


class OptionText(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    label: Text
    synonyms: tuple[Text, ...]


class QuestionText(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    text: Text
    helper_text: Text
    options: dict[Id, OptionText]


class OfferText(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    title: Text
    description: Text
    eligibility: Text
    cost_note: Text
    bring: tuple[Text, ...]


class CatalogueText(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    name: Text
    notice: Text


class TranslationFile(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    catalogue: CatalogueText
    topics: dict[Id, TopicText]
    questions: dict[Id, QuestionText]
    offers: dict[Id, OfferText]


@dataclass(frozen=True, config=_CONFIG)
class TopicsFile:
    topics: Annotated[tuple[Topic, ...], Field(min_length=1)]


@dataclass(frozen=True, config=_CONFIG)
class QuestionsFile:
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True, config=_CONFIG)
class OffersFile:
    """One file per provider: the provider once, then its offers."""

    provider: Provider
    offers: Annotated[tuple[Offer, ...], Field(min_length=1)]
    sources: tuple[Url, ...] = ()
