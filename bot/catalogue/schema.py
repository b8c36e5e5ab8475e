"""JSON Schemas of the content files, for editors: `wegweiser content schema`.

Staff edit content/ in VS Code or a Git web editor. With a JSON Schema per kind of file, those
editors (through yaml-language-server) complete field names and underline a mistake as it is
typed, long before the checker runs. The schemas are generated from the very TypeAdapters the
loader validates with (model.py's dataclasses), never written by hand, so they cannot drift
from what the loader accepts.

What a schema sees is not what the loader sees, though. The loader reads every scalar as text
(yamlread.py) and pydantic converts text where the model wants a number, a date or a yes/no.
An editor instead types each scalar the YAML 1.2 way (yaml-language-server's default,
setting `yaml.yamlVersion`): `16` is a number, `true` a boolean, `2026-12-01` (unquoted) a
string, `yes` a string. So each scalar type is described by everything a person may write
that the loader accepts, as the editor types it:

* text: a string (not only spaces), or a number or a boolean (`version: 3` and `name: true`
  are text to the loader); an id also a whole number (`0123` is a valid id);
* whole number: a number, or a string of digits (`"16"`);
* yes/no: a boolean, 0 or 1, or one of the words pydantic takes (`yes`, `off`, `Y` ...);
* date: a string in the form YYYY-MM-DD (`format: date`).

The rules the loader states in validators are added where JSON Schema can say them, found by
the validator functions themselves: German and English required in every text, web addresses
with http(s) and a host. Given the catalogue's districts, district fields list them. What JSON
Schema cannot say (min not above max, an offer's end after its last start, ids that exist,
ids used once) stays the checker's job.

Pure: no files are read or written here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from bot.catalogue import model
from bot.catalogue.loader import (
    CATALOGUE_FILE,
    OFFERS_DIR,
    QUESTIONS_FILE,
    TOPICS_FILE,
    TRANSLATIONS_DIR,
    _adapter,
)
from bot.catalogue.model import Meta, OffersFile, QuestionsFile, TopicsFile, TranslationFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Each kind of content file: the shape the loader validates it as, its names inside the
#: content folder (as globs, the way editors assign schemas to files), and what it holds.
KINDS: Mapping[str, tuple[type, tuple[str, ...], str]] = {
    "catalogue": (Meta, (CATALOGUE_FILE,), "The catalogue: name, version, districts"),
    "topics": (TopicsFile, (TOPICS_FILE,), "Topics: what people look for"),
    "questions": (QuestionsFile, (QUESTIONS_FILE,), "Follow-up questions and their options"),
    "offers": (OffersFile, (f"{OFFERS_DIR}/**/*.yaml", f"{OFFERS_DIR}/**/*.yml"),
               "One provider and its offers"),
    "translations": (TranslationFile, (f"{TRANSLATIONS_DIR}/*.yaml",
                                       f"{TRANSLATIONS_DIR}/*/*.yaml"),
                     "One language's texts for topics, questions and offers, keyed by id"),
}

#: The fields the loader checks against the catalogue's districts (class, field).
DISTRICT_FIELDS = frozenset({("Provider", "district"), ("Offer", "district"),
                             ("Prefer", "districts")})

#: The words pydantic reads as yes/no in any letter case (lax mode, from text).
BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "y", "n", "t", "f", "1", "0")


def _any_case(word: str) -> str:
    """A regular expression matching `word` in any letter case (ECMAScript has no (?i))."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def _url_pattern() -> str:
    """What model._check_url accepts: http or https (any case), a host with a dot, no spaces."""
    host = model._URL_HOST.pattern.removeprefix("^").removesuffix("$")
    return rf"^{_any_case('http')}[Ss]?://{host}(?:[:/?#]\S*)?$"


class _YamlSchema(GenerateJsonSchema):
    """pydantic's JSON Schema generator, describing scalars as a YAML editor types them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys: set[int] = set()  # core schemas of dict keys: always strings in YAML

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        if "keys_schema" in schema:
            self._keys.add(id(schema["keys_schema"]))
        result = super().dict_schema(schema)
        if "patternProperties" in result:
            result["additionalProperties"] = False  # pydantic refuses keys off the pattern
        return result

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        result = super().str_schema(schema)
        if id(schema) in self._keys:
            return result
        pattern = result.get("pattern")
        if pattern is None:
            result["type"] = ["string", "number", "boolean"]
            if result.get("minLength") and self._config.str_strip_whitespace:
                result["pattern"] = r"\S"  # the loader strips spaces before counting
        elif re.search(pattern, "0"):  # an id may be all digits, which YAML reads as a number
            result["type"] = ["string", "integer"]
            result["minimum"] = 0
        return result

    def int_schema(self, schema: core_schema.IntSchema) -> JsonSchemaValue:
        result = super().int_schema(schema)
        result["type"] = ["integer", "string"]
        result["pattern"] = r"^\s*[+-]?[0-9][0-9_]*(\.0*)?\s*$"
        return result

    def bool_schema(self, schema: core_schema.BoolSchema) -> JsonSchemaValue:
        words = "|".join(_any_case(word) for word in BOOL_WORDS)
        return {"type": ["boolean", "string", "integer"], "pattern": f"^(?:{words})$",
                "minimum": 0, "maximum": 1}

    def date_schema(self, schema: core_schema.DateSchema) -> JsonSchemaValue:
        # pydantic also takes a date-time at midnight; nobody writes one, so no end anchor
        return {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}"}

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema
                              ) -> JsonSchemaValue:
        result = super().function_after_schema(schema)
        check = schema["function"]["function"]
        if check is model._require_languages:
            values = next(iter(result.get("patternProperties", {}).values()), {})
            needed: dict[str, Any] = {"minItems": 1} if values.get("type") == "array" else {}
            result["properties"] = {lang: {**needed, "description": "required"}
                                    for lang in model.REQUIRED_LANGUAGES}
            result["required"] = list(model.REQUIRED_LANGUAGES)
        elif check is model._check_url:
            result = {**result, "type": "string", "pattern": _url_pattern(),
                      "description": "a web address starting with https:// (or http://)"}
        return result


def _with_districts(node: Any, districts: Sequence[str], owner: str = "") -> None:
    """Restrict the district fields (DISTRICT_FIELDS) to `districts`, in place."""
    if isinstance(node, list):
        for item in node:
            _with_districts(item, districts, owner)
        return
    if not isinstance(node, dict):
        return
    for name, definition in node.get("$defs", {}).items():
        _with_districts(definition, districts, name)
    for field, prop in node.get("properties", {}).items():
        if (owner, field) in DISTRICT_FIELDS:
            target = prop.get("items", prop)
            branches = target.get("anyOf", [target])
            for branch in branches:
                if branch.get("type") != "null":
                    branch.clear()
                    branch.update({"type": "string", "enum": list(districts)})


def schema_for(kind: str, districts: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON Schema of one kind of content file (a key of KINDS)."""
    shape, files, title = KINDS[kind]
    body = _adapter(shape).json_schema(mode="validation", schema_generator=_YamlSchema)
    if districts:
        _with_districts(body, districts, shape.__name__)
    description = body.pop("description", "")
    body.pop("title", None)
    head = {
        "$schema": DIALECT,
        "$id": f"urn:wegweiser:content-schema:{kind}",
        "title": f"Wegweiser {kind} file ({', '.join(files)})",
        "description": f"{title}. {description}".strip(),
        "$comment": "Generated from bot/catalogue/model.py by `wegweiser content schema`; "
                    "regenerate it instead of editing it.",
    }
    return {**head, **body}


def schemas(districts: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Every kind of content file → its JSON Schema.

    Pass the catalogue's districts (catalogue.yaml) to have the district fields list them;
    without, any text is accepted there (the checker still tells a wrong one).
    """
    return {kind: schema_for(kind, districts) for kind in KINDS}


def vscode_settings(schema_files: Mapping[str, str], content: str) -> dict[str, Any]:
    """The `yaml.schemas` setting that assigns each schema file to its content files.

    `schema_files` maps a kind to the schema's path and `content` is the content folder, both
    as written in the workspace (relative to its root, with forward slashes).
    """
    prefix = content.rstrip("/") + "/" if content not in {"", "."} else ""
    return {"yaml.schemas": {
        path: [prefix + pattern for pattern in KINDS[kind][1]]
        for kind, path in schema_files.items()}}
