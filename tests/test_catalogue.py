"""Loading content/: the bundled catalogue is valid, and planted errors give file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalogue import CatalogueError, check_catalogue, load_catalogue
from bot.catalogue.model import REQUIRED_LANGUAGES
from bot.catalogue.yamlread import MAX_BYTES, YamlProblem, read_yaml
from bot.cli import main

from tests.conftest import CONTENT, NOW

REQUIRED_TOPICS = {
    "german-course", "integration-course", "literacy-course", "job-language-course", "school",
    "childcare", "vocational-training", "recognition", "university", "job-search",
    "migration-counselling", "youth-migration-service", "homework-help", "school-certificate",
    "language-cafe", "digital-skills",
}


def test_bundled_catalogue_is_complete(catalogue) -> None:
    assert REQUIRED_TOPICS <= set(catalogue.topics)
    assert len(catalogue.offers) >= 30
    assert catalogue.meta.sample_data, "demo content must be marked as sample data"
    for topic_id in REQUIRED_TOPICS:
        assert catalogue.offers_for(topic_id, NOW.date()), f"no offer for {topic_id}"


def test_arabic_content_is_complete(catalogue) -> None:
    """German, English and Arabic are complete in this catalogue: no fallback text shown."""
    for topic in catalogue.topics.values():
        assert "ar" in topic.name and len(topic.synonyms.get("ar", ())) >= 10, topic.id
    for question in catalogue.questions:
        assert "ar" in question.text, question.id
        assert all("ar" in o.label for o in question.options), question.id
    for offer in catalogue.offers:
        assert "ar" in offer.title and "ar" in offer.description, offer.id
        for texts in (offer.audience.eligibility, offer.cost.note if offer.cost else None,
                      offer.bring):
            if texts:
                assert set(REQUIRED_LANGUAGES) | {"ar"} <= set(texts), offer.id


def test_offers_do_not_invent_contact_details(catalogue) -> None:
    """Never invent phone numbers or e-mail addresses: the demo content has none at all."""
    import re

    for path in (CONTENT / "offers").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", text), f"e-mail address in {path.name}"
        assert not re.search(r"(?:\+49|\b0\d{2,4})[ /-]?\d{3,}", text), f"phone in {path.name}"


def _plant(content: Path, relative: str, old: str, new: str) -> None:
    path = content / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(content: Path, relative: str, needle: str) -> int:
    """The line of the last occurrence of `needle` (a duplicate is reported where it repeats)."""
    found = [number for number, line in
             enumerate((content / relative).read_text().splitlines(), 1) if needle in line]
    assert found, needle
    return found[-1]


OFFER = "offers/vhs-magdeburg.yaml"


@pytest.mark.parametrize(("relative", "old", "new", "needle", "message", "hint"), [
    (OFFER, "topics: [german-course]", "topics: [german-cours]", "topics: [german-cours]",
     "unknown topic 'german-cours'", "did you mean 'german-course'?"),
    (OFFER, "    title:\n", "    titel:\n", "titel:", "unknown field 'titel'",
     "did you mean `title`?"),
    (OFFER, "      en: German courses for immigrants at the adult education centre\n", "",
     "title:\n      de: Deutschkurse", "missing text in en", "`en: ...`"),
    (OFFER, "website: https://www.vhs.magdeburg.de", "website: www.vhs-magdeburg",
     "website: www.vhs-magdeburg", "not a web address", "https://"),
    (OFFER, "  district: Altstadt", "  district: Altstad", "district: Altstad",
     "unknown district 'Altstad'", "did you mean 'Altstadt'?"),
    (OFFER, "      free: false", "      free: vielleicht", "free: vielleicht",
     "is not yes or no", "true or false"),
    (OFFER, "      age: {min: 16}", "      age: {min: sechzehn}", "age: {min: sechzehn}",
     "is not a whole number", "number"),
    (OFFER, "    topics: [german-course]\n",
     "    topics: [german-course]\n    valid_until: 31.12.2026\n", "valid_until: 31.12.2026",
     "is not a date", "YYYY-MM-DD"),
    (OFFER, "    german_levels: [A0,", "    german_levels: [A7,", "german_levels: [A7,",
     "'A7' is not allowed here", "'A0'"),
    ("topics.yaml", "  - id: german-course", "  - id: German Course", "id: German Course",
     "is not a valid id", "lower-case"),
    ("questions.yaml", "      - id: child-6-11", "      - id: child-0-5", "id: child-0-5",
     "the option id 'child-0-5' is used twice", "own id"),
    ("catalogue.yaml", "fallback_topic: migration-counselling",
     "fallback_topic: migration-counseling", "fallback_topic:", "is not a topic",
     "did you mean 'migration-counselling'?"),
    (OFFER, "  - id: vhs-german-for-immigrants\n    title:\n      de: Deutsch",
     "  - id: vhs-grundbildung\n    title:\n      de: Deutsch", "id: vhs-grundbildung",
     "the offer id 'vhs-grundbildung' is used twice", "own id"),
    (OFFER, "    title:\n", "    title: x\n    title:  \n", "title:  ", "appears twice",
     "keep one"),
    (OFFER, "    title:\n      de: ", "    title:\n\tde: ", "\tde: ", "not valid YAML",
     "spaces, not tabs"),
    (OFFER, "  name: Städtische Volkshochschule Magdeburg",
     "  name: Volkshochschule: Magdeburg", "name: Volkshochschule: Magdeburg",
     "not valid YAML", "quotes"),
])
def test_planted_error_gives_file_line_and_hint(content_copy: Path, relative: str, old: str,
                                                new: str, needle: str, message: str,
                                                hint: str) -> None:
    _plant(content_copy, relative, old, new)
    catalogue, problems = check_catalogue(content_copy)
    assert catalogue is None, "a broken catalogue must never load"
    found = [p for p in problems if message in p.message]
    assert found, f"{message!r} not among {[str(p) for p in problems]}"
    problem = found[0]
    assert problem.file == f"content/{relative}"
    expected_line = (_line_of(content_copy, relative, needle.split("\n")[1]) - 1
                     if "\n" in needle else _line_of(content_copy, relative, needle))
    assert problem.line == expected_line, str(problem)
    assert hint in problem.hint, str(problem)


def test_all_problems_are_reported_at_once(content_copy: Path) -> None:
    _plant(content_copy, OFFER, "topics: [german-course]", "topics: [nope]")
    _plant(content_copy, "offers/ihk-magdeburg.yaml", "title:", "tittle:")
    _plant(content_copy, "catalogue.yaml", "sample_data: true", "sample_data: perhaps")
    _, problems = check_catalogue(content_copy)
    files = {p.file for p in problems}
    assert {"content/offers/vhs-magdeburg.yaml", "content/offers/ihk-magdeburg.yaml",
            "content/catalogue.yaml"} <= files
    with pytest.raises(CatalogueError) as err:
        load_catalogue(content_copy)
    assert len(err.value.problems) == len(problems)


def test_missing_files_and_folder(tmp_path: Path) -> None:
    _, problems = check_catalogue(tmp_path / "nowhere")
    assert "does not exist" in problems[0].message
    (tmp_path / "empty").mkdir()
    _, problems = check_catalogue(tmp_path / "empty")
    messages = " ".join(p.message for p in problems)
    assert "the file is missing" in messages and "no offer files" in messages


def test_validate_command_exit_codes(content_copy: Path, capsys) -> None:
    assert main(["validate", str(CONTENT)]) == 0
    assert "OK" in capsys.readouterr().out
    _plant(content_copy, OFFER, "district: Altstadt", "district: Altstad")
    assert main(["validate", str(content_copy)]) == 1
    out = capsys.readouterr().out
    line = _line_of(content_copy, OFFER, "district: Altstad")
    assert f"content/offers/vhs-magdeburg.yaml:{line}: " in out
    assert "hint: did you mean 'Altstadt'?" in out


# -- the YAML reader itself -------------------------------------------------------------------

def test_scalars_stay_text() -> None:
    doc = read_yaml("a: no\nb: 10:30\nc: 0123\nd: yes\ne: 1e3\nf:\ng: ~\nh: 'null'\n")
    assert doc.data == {"a": "no", "b": "10:30", "c": "0123", "d": "yes", "e": "1e3",
                        "f": None, "g": None, "h": "null"}


def test_text_fields_keep_yaml_lookalikes(content_copy: Path) -> None:
    _plant(content_copy, OFFER, "  address: Leibnizstraße 23, Magdeburg", "  address: no")
    catalogue, problems = check_catalogue(content_copy)
    assert not problems
    assert catalogue is not None
    assert catalogue.offer("vhs-german-for-immigrants").where[0] == "no"


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!python/object/apply:os.system ['true']\n", "tag"),
    ("a: &x [1]\nb: *x\nc: *x\n" + "".join(
        f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]\n" if i else ""
        for i in range(0)), None),
    ("a: 1\n---\nb: 2\n", "not valid YAML"),
    ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys"),
])
def test_reader_refuses_dangerous_yaml(text: str, message: str | None) -> None:
    if message is None:
        assert read_yaml(text).data["c"] == ["1"]  # plain aliases are fine
        return
    with pytest.raises(YamlProblem) as err:
        read_yaml(text)
    assert message in err.value.message


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(YamlProblem) as err:
        read_yaml("\n".join(lines) + "\n")
    assert "too many values" in err.value.message


def test_huge_file_is_refused() -> None:
    with pytest.raises(YamlProblem) as err:
        read_yaml("a: " + "x" * (MAX_BYTES + 1))
    assert "larger than" in err.value.message


# -- translations/<lang>.yaml ----------------------------------------------------------------

AR = "translations/ar.yaml"


def test_translations_are_merged_into_the_catalogue(catalogue) -> None:
    offer = catalogue.offer("vhs-german-for-immigrants")
    assert offer.title["ar"].startswith("دورات اللغة الألمانية")
    assert "ar" in catalogue.topics["childcare"].name
    assert "كيتا" in catalogue.topics["childcare"].synonyms["ar"]


@pytest.mark.parametrize(("old", "new", "needle", "message", "hint"), [
    ("  vhs-german-for-immigrants:", "  vhs-german-for-imigrants:", "vhs-german-for-imigrants:",
     "unknown offer 'vhs-german-for-imigrants'", "did you mean 'vhs-german-for-immigrants'?"),
    ("  childcare:", "  child-care:", "child-care:", "unknown topic 'child-care'",
     "did you mean 'childcare'?"),
    ("    title: دورات اللغة الألمانية", "    titel: دورات اللغة الألمانية", "titel:",
     "unknown field 'titel'", "did you mean `title`?"),
])
def test_planted_translation_errors(content_copy: Path, old: str, new: str, needle: str,
                                    message: str, hint: str) -> None:
    _plant(content_copy, AR, old, new)
    catalogue, problems = check_catalogue(content_copy)
    assert catalogue is None
    found = [p for p in problems if message in p.message]
    assert found, [str(p) for p in problems]
    assert found[0].file == f"content/{AR}"
    assert found[0].line == _line_of(content_copy, AR, needle)
    assert hint in found[0].hint


def test_a_text_given_twice_is_refused(content_copy: Path) -> None:
    english = "      en: German courses for immigrants at the adult education centre\n"
    _plant(content_copy, OFFER, english, english + "      ar: دورات\n")
    _, problems = check_catalogue(content_copy)
    assert any("the ar text is also given in offers/vhs-magdeburg.yaml" in p.message
               and p.file == f"content/{AR}" for p in problems), [str(p) for p in problems]


def test_german_and_english_stay_in_the_main_files(content_copy: Path) -> None:
    (content_copy / "translations" / "de.yaml").write_text("topics: {}\n", encoding="utf-8")
    (content_copy / "translations" / "Arabic.yaml").write_text("topics: {}\n", encoding="utf-8")
    _, problems = check_catalogue(content_copy)
    messages = [p.message for p in problems]
    assert "de texts belong in the main files" in messages
    assert "Arabic.yaml is not named after a language code" in messages


def test_translating_a_field_the_offer_does_not_have(content_copy: Path) -> None:
    path = content_copy / "translations" / "ar.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  ihk-recognition-first-advice:\n",
                                 "  ihk-recognition-first-advice:\n    cost_note: مجاني\n", 1),
                    encoding="utf-8")
    offer = load_catalogue(CONTENT).offer("ihk-recognition-first-advice")
    assert offer.cost is None, "the IHK offer has no cost field to translate"
    _, problems = check_catalogue(content_copy)
    assert any("there is no German and English cost_note" in p.message for p in problems)


def test_translations_may_be_split_per_provider(content_copy: Path) -> None:
    """Large catalogues keep one translation file per provider in translations/<lang>/."""
    import yaml as pyyaml

    single = content_copy / "translations" / "ar.yaml"
    data = pyyaml.safe_load(single.read_text(encoding="utf-8"))
    folder = content_copy / "translations" / "ar"
    folder.mkdir()
    vhs = {k: v for k, v in data["offers"].items() if k.startswith("vhs-")}
    rest = {k: v for k, v in data["offers"].items() if not k.startswith("vhs-")}
    (folder / "vhs-magdeburg.yaml").write_text(
        pyyaml.safe_dump({"offers": vhs}, allow_unicode=True), encoding="utf-8")
    (folder / "main.yaml").write_text(pyyaml.safe_dump(
        {**{k: v for k, v in data.items() if k != "offers"}, "offers": rest},
        allow_unicode=True), encoding="utf-8")
    single.unlink()
    catalogue = load_catalogue(content_copy)
    assert catalogue.offer("vhs-grundbildung").title["ar"] == vhs["vhs-grundbildung"]["title"]


# -- the parse cache -----------------------------------------------------------------------

def test_parse_cache_gives_the_same_catalogue_and_notices_changes(content_copy: Path,
                                                                   tmp_path: Path) -> None:
    from bot.catalogue.parsecache import ParseCache

    directory = tmp_path / "cache"
    first = load_catalogue(content_copy, ParseCache(directory))
    assert any(directory.rglob("*.marshal")), "parsed files are remembered on disk"
    again = load_catalogue(content_copy, ParseCache(directory))  # a new process, same disk
    assert again.offers == first.offers and dict(again.topics) == dict(first.topics)
    _plant(content_copy, OFFER, "district: Altstadt", "district: Altstad")
    _, problems = check_catalogue(content_copy, ParseCache(directory))
    assert [p.message for p in problems] == ["unknown district 'Altstad'"]
    assert problems[0].line == _line_of(content_copy, OFFER, "district: Altstad")


def test_damaged_cache_entries_are_ignored(content_copy: Path, tmp_path: Path) -> None:
    from bot.catalogue.parsecache import ParseCache

    directory = tmp_path / "cache"
    load_catalogue(content_copy, ParseCache(directory))
    for entry in directory.rglob("*.marshal"):
        entry.write_bytes(b"\x00garbage")
    assert len(load_catalogue(content_copy, ParseCache(directory)).offers) >= 30


def test_errors_found_from_cached_data_still_have_lines(content_copy: Path,
                                                        tmp_path: Path) -> None:
    """A cached file whose topic disappeared is reported at the right line."""
    from bot.catalogue.parsecache import ParseCache

    directory = tmp_path / "cache"
    load_catalogue(content_copy, ParseCache(directory))
    _plant(content_copy, "topics.yaml", "  - id: digital-skills", "  - id: digital-skill")
    _, problems = check_catalogue(content_copy, ParseCache(directory))
    offer_problems = [p for p in problems if "unknown topic 'digital-skills'" in p.message]
    assert offer_problems and all(p.line > 1 for p in offer_problems)


@pytest.mark.parametrize("broken", ["topics.yaml", "questions.yaml", "offers/vhs-magdeburg.yaml"])
def test_an_unreadable_file_is_one_problem_not_an_echo_in_every_translation(
        content_copy: Path, broken: str) -> None:
    """A YAML syntax error in a main file: the translations that name its ids are not each
    reported as unknown (the staff member would see hundreds of lines for one typo)."""
    path = content_copy / broken
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    _, problems = check_catalogue(content_copy)
    assert [p.file.rsplit("/", 1)[-1] for p in problems] == [broken.rsplit("/", 1)[-1]]
