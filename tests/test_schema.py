"""The JSON Schemas for editors agree with the loader: `wegweiser content schema`.

Files are read here the way yaml-language-server (VS Code's YAML extension, and the web editors
built on it) reads them by default: YAML 1.2, core schema. `16` is a number, `true` a boolean,
an unquoted `2026-12-01` or `yes` a string. The loader instead reads every scalar as text; the
schema must accept what the loader accepts as the editor sees it, and refuse what it refuses.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, get_type_hints

import jsonschema
import pytest
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.catalogue import check_catalogue, model
from bot.catalogue.schema import KINDS, schemas, vscode_settings

from tests.conftest import CONTENT, ROOT

# The YAML 1.2 core schema's tag resolution of plain scalars (https://yaml.org/spec/1.2.2/
# chapter 10.3.2), as yaml-language-server applies it.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


def _scalar(node: ScalarNode) -> Any:
    text = node.value
    if node.style:  # quoted or block: always a string
        return text
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


def _plain(node: Any) -> Any:
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_plain(item) for item in node.value]
    assert isinstance(node, MappingNode)
    return {str(key.value): _plain(value) for key, value in node.value}


def yaml12(text: str) -> Any:
    """A YAML text as an editor following YAML 1.2 (core schema) sees it."""
    root = yaml.compose(text, Loader=yaml.BaseLoader)  # composed only: tags left unresolved
    return None if root is None else _plain(root)


@pytest.fixture(scope="module")
def districts() -> tuple[str, ...]:
    catalogue, problems = check_catalogue(CONTENT)
    assert catalogue is not None, problems
    return catalogue.meta.districts


@pytest.fixture(scope="module")
def validators(districts: tuple[str, ...]) -> dict[str, jsonschema.protocols.Validator]:
    found = {}
    for kind, schema in schemas(districts).items():
        cls = jsonschema.validators.validator_for(schema)
        assert cls is jsonschema.Draft202012Validator
        cls.check_schema(schema)
        found[kind] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return found


def _kind(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return {"catalogue.yaml": "catalogue", "topics.yaml": "topics",
            "questions.yaml": "questions"}.get(rel) or rel.split("/")[0]


def _content_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.yaml"))


def _messages(error: jsonschema.ValidationError) -> list[str]:
    """The error's message and those of its causes (the branches of an anyOf)."""
    where = "/".join(map(str, error.absolute_path))
    return [f"{where}: {error.message}",
            *(line for cause in error.context or () for line in _messages(cause))]


def _errors(validators: dict[str, Any], root: Path, path: Path) -> list[str]:
    data = yaml12(path.read_text("utf-8"))
    return [line for error in validators[_kind(root, path)].iter_errors(data)
            for line in _messages(error)]


def test_every_bundled_file_validates(validators: dict[str, Any]) -> None:
    files = _content_files(CONTENT)
    assert {_kind(CONTENT, p) for p in files} == set(KINDS)
    for path in files:
        assert _errors(validators, CONTENT, path) == [], path


def test_what_a_person_writes_is_accepted_by_both(validators: dict[str, Any],
                                                  content_copy: Path) -> None:
    """Numbers, yes/no words, quoted numbers: the loader converts them, the schema agrees."""
    path = content_copy / "offers" / "vhs-magdeburg.yaml"
    text = path.read_text("utf-8")
    for old, new in [("free: false", "free: no"), ("age: {min: 16}", 'age: {min: "16", max: 99}'),
                     ("languages: [de]\n    cost", "languages: [de]\n    valid_until: 2027-01-31"
                                                   "\n    owner: 1234\n    cost"),
                     ("  address: Leibnizstraße 23, Magdeburg", "  address: 23")]:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, "utf-8")
    assert _errors(validators, content_copy, path) == []
    catalogue, problems = check_catalogue(content_copy)
    assert problems == ()
    assert catalogue is not None
    offer = catalogue.offer("vhs-german-for-immigrants")
    assert offer is not None and offer.owner == "1234" and offer.cost and not offer.cost.free


MISTAKES = {
    # what: (file, text to replace, replacement, what the schema says)
    "misspelt field": ("offers/vhs-magdeburg.yaml", "    title:\n      de: Deutschkurse",
                       "    titel:\n      de: Deutschkurse", "'titel' was unexpected"),
    "unknown district": ("offers/vhs-magdeburg.yaml", "  district: Altstadt",
                         "  district: Altstad", "is not one of"),
    "unknown district preferred": ("questions.yaml",
                                   "districts: [Altstadt, Werder, Alte Neustadt]",
                                   "districts: [Altstadt, Werda, Alte Neustadt]", "is not one of"),
    "address without scheme": ("offers/vhs-magdeburg.yaml",
                               "  website: https://www.vhs.magdeburg.de",
                               "  website: www.vhs.magdeburg.de", "does not match"),
    "address not on the web": ("offers/vhs-magdeburg.yaml",
                               "  website: https://www.vhs.magdeburg.de",
                               "  website: ftp://www.vhs.magdeburg.de", "does not match"),
    "German date": ("offers/vhs-magdeburg.yaml", "    languages: [de]\n    cost",
                    "    languages: [de]\n    valid_until: 31.12.2026\n    cost",
                    "does not match"),
    "no such day": ("offers/vhs-magdeburg.yaml", "    languages: [de]\n    cost",
                    "    languages: [de]\n    valid_until: 2026-02-30\n    cost",
                    "is not a 'date'"),
    "English title missing": ("offers/vhs-magdeburg.yaml",
                              "      en: German courses for immigrants at the adult "
                              "education centre\n", "", "'en' is a required property"),
    "only spaces": ("offers/vhs-magdeburg.yaml", "    languages: [de]\n    cost",
                    '    languages: [de]\n    owner: "   "\n    cost', "does not match"),
    "not yes or no": ("offers/vhs-magdeburg.yaml", "      free: false", "      free: maybe",
                      "does not match"),
    "not a number": ("offers/vhs-magdeburg.yaml", "age: {min: 16}", "age: {min: sixteen}",
                     "does not match"),
    "no such level": ("offers/vhs-magdeburg.yaml", "german_levels: [A0,",
                      "german_levels: [A9,", "is not one of"),
    "language code in capitals": ("topics.yaml", "      de: Deutschkurs\n",
                                  "      DE: Deutschkurs\n", "'de' is a required property"),
    "not an id": ("translations/ar.yaml", "topics:\n  german-course:",
                  "topics:\n  German Course:", "does not match any of the regexes"),
    "a number for an id": ("catalogue.yaml", "fallback_topic: migration-counselling",
                           "fallback_topic: 42.5", "is not of type"),
}


@pytest.mark.parametrize(("file", "old", "new", "message"), MISTAKES.values(),
                         ids=MISTAKES.keys())
def test_mistakes_are_refused_by_both(validators: dict[str, Any], content_copy: Path,
                                      file: str, old: str, new: str, message: str) -> None:
    path = content_copy / file
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    errors = _errors(validators, content_copy, path)
    assert errors, "the schema accepted it"
    assert any(message in e for e in errors), errors
    _, problems = check_catalogue(content_copy)
    assert any(p.file.endswith(file) for p in problems), problems


def test_the_schema_is_generated_from_the_model() -> None:
    """Every dataclass and TypedDict field appears, and no other: a new field shows up."""
    found = schemas()
    offer = found["offers"]["$defs"]["Offer"]
    assert list(offer["properties"]) == [f.name for f in dataclasses.fields(model.Offer)]
    assert set(offer["required"]) == {f.name for f in dataclasses.fields(model.Offer)
                                      if f.default is dataclasses.MISSING
                                      and f.default_factory is dataclasses.MISSING}
    shapes = {name: obj for name, obj in vars(model).items()
              if isinstance(obj, type) and obj.__module__ == model.__name__
              and (dataclasses.is_dataclass(obj) or hasattr(obj, "__total__"))}
    seen = set()
    for kind, schema in found.items():
        root = KINDS[kind][0].__name__
        for name, definition in {**schema.get("$defs", {}), root: schema}.items():
            shape = shapes[name]
            names = ([f.name for f in dataclasses.fields(shape)]
                     if dataclasses.is_dataclass(shape) else list(get_type_hints(shape)))
            assert list(definition["properties"]) == names, name
            assert definition["additionalProperties"] is False, name
            seen.add(name)
    assert seen == set(shapes)  # every shape of model.py is reachable from some file


def test_rules_come_from_the_model() -> None:
    offers = schemas(("Nord", "Süd"))["offers"]
    offer = offers["$defs"]["Offer"]["properties"]
    assert offer["title"]["required"] == list(model.REQUIRED_LANGUAGES)
    assert offer["district"]["anyOf"][0]["enum"] == ["Nord", "Süd"]
    assert offers["$defs"]["Provider"]["properties"]["district"]["anyOf"][0]["enum"] == [
        "Nord", "Süd"]
    assert offer["german_levels"]["items"]["enum"] == ["A0", "A1", "A2", "B1", "B2", "C1", "C2"]
    without = schemas()["offers"]["$defs"]["Offer"]["properties"]["district"]
    assert "enum" not in without["anyOf"][0]  # no districts given: any text


#: Keywords that mean the same in draft-07, the newest draft yaml-language-server fully
#: supports; a `$ref` to "#/$defs/..." is a plain JSON pointer there too.
DRAFT_07_KEYWORDS = frozenset({
    "$schema", "$id", "$comment", "$ref", "$defs", "title", "description", "default", "type",
    "properties", "patternProperties", "additionalProperties", "propertyNames", "required",
    "items", "minItems", "maxItems", "anyOf", "enum", "format", "pattern", "minLength",
    "maxLength", "minimum", "maximum"})


def _keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, list):
        for item in schema:
            found |= _keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in {"properties", "patternProperties", "$defs"}:  # names → schemas
                for sub in value.values():
                    found |= _keywords(sub)
            elif key not in {"default", "enum", "required", "type"}:  # values, not schemas
                found |= _keywords(value)
    return found


def test_only_keywords_editors_know() -> None:
    for kind, schema in schemas(("Altstadt",)).items():
        assert _keywords(schema) <= DRAFT_07_KEYWORDS, kind


def test_head_of_each_schema() -> None:
    for kind, schema in schemas().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(kind)
        assert schema["title"] and schema["description"]


def test_vscode_settings() -> None:
    settings = vscode_settings({"offers": "schemas/offers.schema.json"}, "content")
    assert settings == {"yaml.schemas": {"schemas/offers.schema.json": [
        "content/offers/**/*.yaml", "content/offers/**/*.yml"]}}


def test_cli_writes_the_five_files(tmp_path: Path, districts: tuple[str, ...]) -> None:
    out = tmp_path / "schemas"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "content", "schema", "--out", str(out),
         "--content", str(CONTENT)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{k}.schema.json" for k in KINDS)
    for kind in KINDS:
        assert json.loads((out / f"{kind}.schema.json").read_text("utf-8")) == schemas(
            districts)[kind]
    assert '"yaml.schemas"' in done.stdout
    assert '"content/offers/**/*.yaml"' in done.stdout
    assert "# yaml-language-server: $schema=" in done.stdout


def test_cli_prints_one_document() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "content", "schema"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == set(KINDS)
