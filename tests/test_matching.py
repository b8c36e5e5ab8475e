"""The matcher: normalisation per script, accuracy on real queries, the `match` CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.catalogue import Catalogue
from bot.matching import TopicMatcher, guess_language, normalise

from tests.conftest import ROOT

DATA = Path(__file__).parent / "data"
#: match_queries*.yaml were written with the catalogue in view; heldout_*.yaml were written by
#: people who never saw the synonyms, so they show how the matcher does on unseen wording.
QUERY_FILES = sorted(DATA.glob("match_queries*.yaml")) + sorted(DATA.glob("heldout_*.yaml"))
QUERIES = [q for path in QUERY_FILES
           for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]]

#: Thresholds on the labelled set, per language: (top-1, top-3, off-topic rejected).
#: Raise them when the matcher improves; never lower them to make a change pass.
THRESHOLDS = {
    "de": (0.93, 0.95, 0.90), "en": (0.93, 0.95, 0.95), "ar": (0.87, 0.90, 0.92),
    "fa": (0.90, 0.93, 0.92), "ps": (0.88, 0.90, 0.92), "uk": (0.93, 0.95, 0.95),
    "ru": (0.93, 0.95, 0.95), "tr": (0.90, 0.93, 0.92), "ku": (0.90, 0.93, 0.95),
    "ti": (0.88, 0.90, 0.92), "fr": (0.93, 0.95, 0.95),
}


@pytest.fixture(scope="module")
def matcher(catalogue: Catalogue) -> TopicMatcher:
    return TopicMatcher(catalogue)


@pytest.mark.parametrize(("a", "b"), [
    ("Integrationskurs", "integrationskurs"),
    ("Fußball", "fussball"),
    ("Ausländerbehörde", "auslanderbehorde"),
    ("أريد", "اريد"), ("إسلام", "اسلام"), ("آمال", "امال"),  # hamza and madda on alef
    ("مَدْرَسَة", "مدرسه"),  # tashkeel, teh marbuta
    ("مـــدرسة", "مدرسه"),  # tatweel
    ("کیتا", "كيتا"), ("ی", "ي"),  # Persian keheh and yeh
    ("ёлка", "елка"),  # Cyrillic yo
    ("İSTANBUL", "istanbul"), ("ılık", "ilik"),  # Turkish dotted and dotless i
    ("Ｋｉｔａ", "kita"),  # full-width letters (NFKC)
    ("٣ أطفال", "3 اطفال"), ("۳", "3"),  # Arabic-Indic and Persian digits
    ("kita!!! 👍", "kita"),
    ("المدرسة", "مدرسه"), ("بالمدرسة", "مدرسه"),  # article and clitics
])
def test_normalise_folds_variants(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def test_accuracy_thresholds_per_language(matcher: TopicMatcher) -> None:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for item in QUERIES:
        result = matcher.match(item["q"])
        counts = tally[item["lang"]]
        if item["topic"] is None:
            counts[3] += 1
            counts[4] += not result.confident
        else:
            ids = [t.id for t in result.topics]
            counts[0] += 1
            counts[1] += result.confident and ids[:1] == [item["topic"]]
            counts[2] += item["topic"] in ids[:3]
    assert set(tally) == set(THRESHOLDS)
    report = {}
    for lang, (n, top1, top3, off_n, off_ok) in tally.items():
        report[lang] = (top1 / n, top3 / n, off_ok / off_n)
    for lang, measured in report.items():
        for value, minimum in zip(measured, THRESHOLDS[lang], strict=True):
            assert value >= minimum, f"{lang}: {measured} below {THRESHOLDS[lang]}"


def test_the_labelled_set_covers_every_topic_and_language(catalogue: Catalogue) -> None:
    seen = {(q["lang"], q["topic"]) for q in QUERIES}
    for lang in THRESHOLDS:
        for topic in catalogue.topics:
            assert (lang, topic) in seen, (lang, topic)
        assert (lang, None) in seen
    assert len(QUERIES) >= 600


@pytest.mark.parametrize(("query", "topic"), [
    ("integrationskurs", "integration-course"),  # a German word in any interface
    ("بدي Integrationskurs", "integration-course"),
    ("كيتا", "childcare"),  # German word in Arabic script
    ("jobcenter", "job-search"),
    ("ich will deutsch für meinen beruf lernen", "job-language-course"),
    ("I want to learn German for my job", "job-language-course"),
    ("ausbilding", "vocational-training"),  # typo
])
def test_typical_queries(matcher: TopicMatcher, query: str, topic: str) -> None:
    result = matcher.match(query)
    assert result.confident and result.topics[0].id == topic, result


@pytest.mark.parametrize("query", ["", "   ", "👍👍👍", "asdkjh qwe", "hallo", "مرحبا",
                                   "how are you", "12345", "?", "x" * 10_000])
def test_gibberish_and_greetings_are_not_confident(matcher: TopicMatcher, query: str) -> None:
    assert not matcher.match(query).confident


@pytest.mark.parametrize(("text", "lang"), [
    ("مرحبا، أبحث عن مدرسة", "ar"), ("سلام، می‌خواهم آلمانی یاد بگیرم", "fa"),
    ("زه غواړم ښوونځي ته لاړ شم", "ps"), ("Привіт, я шукаю курс", "uk"),
    ("Привет, я ищу курс", "ru"), ("ሰላም", "ti"), ("Merhaba, Almanca kursu istiyorum", "tr"),
    ("Bonjour, je cherche un cours", "fr"), ("Silav, ez dixwazim almanî hîn bibim", "ku"),
    ("Hallo, ich suche einen Kurs", "de"), ("Hello, I need a course", "en"), ("👍", None),
    # no telling letters (typed on an Arabic or a Russian keyboard): the words decide
    ("من ميخواهم براي پسرم", "fa"), ("انا بدي مدرسه لابني", "ar"), ("що це таке", "uk"),
    ("что это такое", "ru"),
])
def test_language_guess(text: str, lang: str | None) -> None:
    assert guess_language(text) == lang


def _run_match(*args: str, stdin: str | None = None) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "bot", "match", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_match_cli_contract_single_query() -> None:
    [result] = _run_match("--lang", "ar", "--json", "بدي كيتا لابني")
    assert set(result) == {"query", "lang", "topics", "confident"}
    assert result["query"] == "بدي كيتا لابني" and result["lang"] == "ar"
    assert result["confident"] is True and result["topics"][0]["id"] == "childcare"
    assert 1 <= len(result["topics"]) <= 5
    scores = [t["score"] for t in result["topics"]]
    assert scores == sorted(scores, reverse=True)


def test_match_cli_reads_one_query_per_line() -> None:
    results = _run_match("--json", stdin="kita\nasdfgh\nAnerkennung meines Abschlusses\n")
    assert [r["query"] for r in results] == ["kita", "asdfgh", "Anerkennung meines Abschlusses"]
    assert [r["confident"] for r in results] == [True, False, True]
    assert results[0]["topics"][0]["id"] == "childcare"
    assert results[2]["topics"][0]["id"] == "recognition"


def test_only_the_start_of_a_huge_message_is_matched(matcher: TopicMatcher) -> None:
    """Matching time is bounded: words after the first few hundred characters are not read."""
    from bot.matching.index import MAX_QUERY_CHARS

    filler = "bla " * (MAX_QUERY_CHARS // 4 + 10)
    assert matcher.match("kita " + filler).confident
    assert not matcher.match(filler + " kita").confident


@pytest.mark.parametrize(("query", "topic"), [
    ("kita\u200b\u200b", "childcare"), ("\u202ekita\u202c", "childcare"),  # invisible marks
    ("kita مدرسه школа", "childcare"),  # mixed scripts: still understood, other topics close
    ("١٢٣٤٥٦", None), ("0049 391 123456", None),  # only digits: nothing
])
def test_odd_queries_match_as_a_person_expects(matcher: TopicMatcher, query: str,
                                               topic: str | None) -> None:
    result = matcher.match(query)
    if topic is None:
        assert not result.confident
    else:
        assert result.confident and topic in [t.id for t in result.topics[:3]], result
