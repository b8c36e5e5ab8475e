"""The content report finds what is missing or stale: `wegweiser content report`.

Gaps are planted in a copy of the bundled content, each of a different kind, and each must be
reported, in every output form; the bundled catalogue must show none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import yaml

from bot.catalogue import Catalogue, load_catalogue, model
from bot.catalogue.report import (
    TRANSLATABLE,
    build_report,
    render_html,
    render_json,
    render_text,
    report_data,
)
from bot.catalogue.yamlread import read_yaml

from tests.conftest import NOW, ROOT

LANGUAGES = ("de", "en", "ar", "fa", "ps", "uk", "ru", "tr", "ku", "ti", "fr")
TODAY = NOW.date()  # 2026-11-27
SCRIPT = "<script>alert(1)</script>"


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    """Change a content file's data and write it back (as YAML the loader reads the same)."""
    data = read_yaml(path.read_text("utf-8")).data
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def _offers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {offer["id"]: offer for offer in data["offers"]}


def _plant(root: Path) -> None:
    """One gap of every kind the report knows, on top of a catalogue without upkeep gaps."""
    def upkept(data: dict[str, Any]) -> None:  # every offer owned and freshly reviewed
        for offer in data["offers"]:
            offer.update(owner="Integrationsbüro", reviewed="2026-06-01")

    for path in (root / "offers").glob("*.yaml"):
        _edit(path, upkept)

    def vhs(data: dict[str, Any]) -> None:
        offers = _offers(data)
        offers["vhs-german-for-immigrants"]["valid_until"] = "2026-01-31"
        offers["vhs-german-for-immigrants"]["title"]["de"] = f"{SCRIPT} Deutschkurse"
        offers["vhs-grundbildung"]["valid_until"] = "2026-12-05"  # in 8 days

    def caritas(data: dict[str, Any]) -> None:
        del _offers(data)["caritas-migration-counselling"]["owner"]

    def afa(data: dict[str, Any]) -> None:
        del _offers(data)["afa-career-guidance"]["reviewed"]
        _offers(data)["afa-job-search"]["reviewed"] = "2024-01-15"

    def ar(data: dict[str, Any]) -> None:
        del data["topics"]["german-course"]["name"]

    def new_topic(data: dict[str, Any]) -> None:
        data["topics"].append({"id": "driving-licence",
                               "name": {"de": "Führerschein", "en": "Driving licence"},
                               "synonyms": {"de": ["führerschein"], "en": ["driving licence"]}})

    def agsa(data: dict[str, Any]) -> None:  # the language cafés get a part of town each
        _offers(data)["agsa-sprachcafe"]["district"] = "Altstadt"

    def library(data: dict[str, Any]) -> None:
        data["provider"]["district"] = "Altstadt"

    _edit(root / "offers" / "vhs-magdeburg.yaml", vhs)
    _edit(root / "offers" / "caritas-magdeburg.yaml", caritas)
    _edit(root / "offers" / "agentur-fuer-arbeit-sachsen-anhalt-nord.yaml", afa)
    _edit(root / "translations" / "ar.yaml", ar)
    _edit(root / "topics.yaml", new_topic)
    _edit(root / "offers" / "agsa.yaml", agsa)
    _edit(root / "offers" / "stadtbibliothek-magdeburg.yaml", library)


@pytest.fixture
def planted(content_copy: Path) -> Path:
    _plant(content_copy)
    return content_copy


@pytest.fixture
def planted_data(planted: Path) -> dict[str, Any]:
    report = build_report(load_catalogue(planted), LANGUAGES, TODAY)
    return json.loads(render_json(report))


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_planted_translation_gap(planted_data: dict[str, Any]) -> None:
    gap = {"kind": "topic", "id": "german-course", "field": "name"}
    languages = planted_data["languages"]
    assert list(languages) == sorted(LANGUAGES)  # sort_keys: stable for CI
    assert gap in languages["ar"]["missing"]
    for lang in LANGUAGES:
        if lang != "ar":
            assert gap not in languages[lang]["missing"], lang
    ar = languages["ar"]
    assert ar["present"] == ar["total"] - len(ar["missing"])


def test_a_new_topic_is_untranslated_and_without_offers(planted_data: dict[str, Any]) -> None:
    assert planted_data["topics_without_offers"] == ["driving-licence"]
    for lang in LANGUAGES:
        missing = [m for m in planted_data["languages"][lang]["missing"]
                   if m["id"] == "driving-licence"]
        expected = [] if lang in model.REQUIRED_LANGUAGES else [
            {"kind": "topic", "id": "driving-licence", "field": "name"},
            {"kind": "topic", "id": "driving-licence", "field": "synonyms"}]
        assert missing == expected, lang


def test_planted_dates_owners_and_reviews(planted_data: dict[str, Any]) -> None:
    offers = planted_data["offers"]
    assert [(o["id"], o["date"]) for o in offers["expired"]] == [
        ("vhs-german-for-immigrants", "2026-01-31")]
    assert [(o["id"], o["date"]) for o in offers["expiring"]] == [
        ("vhs-grundbildung", "2026-12-05")]
    assert offers["ended"] == []
    assert _ids(offers["without_owner"]) == ["caritas-migration-counselling"]
    assert offers["without_owner"][0]["provider"].startswith("Caritasverband")
    assert [(o["id"], o["date"]) for o in offers["review_due"]] == [
        ("afa-career-guidance", None), ("afa-job-search", "2024-01-15")]


def test_planted_district_gap(planted_data: dict[str, Any]) -> None:
    gaps = planted_data["district_gaps"]
    assert list(gaps) == ["language-cafe"]  # every other topic has a city-wide offer
    assert "Cracau" in gaps["language-cafe"]
    assert "Altstadt" not in gaps["language-cafe"]  # the planted cafés
    assert "Kannenstieg" not in gaps["language-cafe"]  # the Familienverband's groups
    assert "agsa-sprachcafe" not in planted_data["citywide_offers"]


def test_windows_are_parameters(planted: Path) -> None:
    catalogue = load_catalogue(planted)
    narrow = build_report(catalogue, LANGUAGES, TODAY, expiring_within=7, review_after=10_000)
    assert narrow.expiring == ()  # 2026-12-05 is 8 days away
    assert [n.id for n in narrow.review_due] == ["afa-career-guidance"]  # never reviewed
    later = build_report(catalogue, LANGUAGES, date(2026, 12, 6))
    assert [n.id for n in later.expired] == ["vhs-german-for-immigrants", "vhs-grundbildung"]
    assert later.expiring == ()


def test_the_bundled_catalogue_has_none_of_the_planted_gaps(catalogue: Catalogue) -> None:
    data = report_data(build_report(catalogue, LANGUAGES, TODAY))
    for lang in LANGUAGES:
        assert data["languages"][lang]["missing"] == [], lang
    assert data["offers"]["expired"] == data["offers"]["expiring"] == []
    assert data["offers"]["ended"] == []
    assert data["topics_without_offers"] == []
    assert data["district_gaps"] == {}


def test_translatable_fields_match_the_translation_files() -> None:
    """A field added to translations/<lang>.yaml must be checked by the report too."""
    hints = {name: set(get_type_hints(shape)) for name, shape in [
        ("catalogue", model.CatalogueText), ("topic", model.TopicText),
        ("question", model.QuestionText), ("option", model.OptionText),
        ("offer", model.OfferText)]}
    hints["question"].discard("options")  # the options' own texts: kind "option"
    assert {kind: set(fields) for kind, fields in TRANSLATABLE.items()} == hints


def test_text_output_names_the_ids(planted: Path) -> None:
    text = render_text(build_report(load_catalogue(planted), LANGUAGES, TODAY))
    for needle in ("vhs-german-for-immigrants", "vhs-grundbildung", "2026-12-05",
                   "caritas-migration-counselling", "afa-career-guidance", "never",
                   "afa-job-search", "driving-licence (Führerschein)",
                   "topic german-course: name", "language-cafe: ", "Cracau"):
        assert needle in text, needle
    assert "  ar        " in text  # the language table


class _StrictParser(HTMLParser):
    """Records every end tag that does not close the element opened last."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unexpected </{tag}>")


def test_html_is_well_formed_and_escaped(planted: Path) -> None:
    page = render_html(build_report(load_catalogue(planted), LANGUAGES, TODAY))
    parser = _StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.open == []
    assert page.startswith("<!DOCTYPE html>")
    assert SCRIPT not in page and "<script" not in page
    assert html_escaped(SCRIPT) in page
    assert ("html", {"lang": "en"}) in parser.tags
    assert not [t for t, a in parser.tags if t in {"link", "img"} or "src" in a]  # no assets
    assert ("td", {"lang": "de", "dir": "auto"}) in parser.tags
    for needle in ("vhs-grundbildung", "caritas-migration-counselling", "driving-licence"):
        assert needle in page


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_cli_report_json(planted: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "content", "report", "--json", "--content", str(planted),
         "--today", "2026-11-27"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["today"] == "2026-11-27"
    assert _ids(data["offers"]["expired"]) == ["vhs-german-for-immigrants"]
    assert set(data["languages"]) == set(LANGUAGES)  # every interface language, from locales/


def test_cli_report_text_and_html() -> None:
    for form, marker in (([], "Translations"), (["--html"], "<!DOCTYPE html>")):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "content", "report", *form, "--today", "2026-11-27",
             "--expiring-within", "10", "--review-after", "100"],
            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert marker in done.stdout


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`wegweiser content report | head`: the command stops quietly when the pipe closes
    (`true` reads nothing and exits long before Python has started)."""
    pipeline = subprocess.run(
        f"{sys.executable} -m bot content report --html | true",
        shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert "Traceback" not in pipeline.stderr and "BrokenPipe" not in pipeline.stderr
