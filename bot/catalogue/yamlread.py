"""Read YAML written by people, safely and without surprises.

Staff edit content/ by hand, often in a web editor, so the reader is strict about what can go
wrong and exact about where:

* Nothing is constructed from tags: the file is only *composed* into nodes, and every scalar
  stays text. `no`, `10:30` and `0123` remain the strings they look like; the schema alone
  decides where a number, a date or a yes/no is expected and converts there.
* An empty value, `~` or `null` (unquoted) means "not set".
* Duplicate keys are an error (plain YAML silently keeps the last one).
* Files over MAX_BYTES, and alias expansion beyond MAX_NODES ("billion laughs"), are refused.
* Every value's line can be found from its path, so later errors point at file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1_000_000
MAX_NODES = 200_000
MAX_DEPTH = 40

Path = tuple[str | int, ...]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
#: LibYAML's parser when PyYAML was built with it (the wheels are): same nodes, ten times faster.
_LOADER = yaml.CBaseLoader if yaml.__with_libyaml__ else yaml.BaseLoader


@dataclass(frozen=True)
class YamlProblem(Exception):
    """One reason a file cannot be read at all; line is 1-based."""

    line: int
    message: str
    hint: str


class Document:
    """A parsed file: plain data (dicts, lists, str, None), and its nodes for finding lines.

    The nodes are composed again from the text only when a line is asked for, i.e. when a
    problem is reported; a clean catalogue (or one read from the parse cache) never needs them.
    """

    def __init__(self, data: Any, text: str | bytes = "", root: Node | None = None):
        self.data = data
        self._text = text  # bytes until a line is needed (from the parse cache)
        self._root = root

    @property
    def root(self) -> Node | None:
        if self._root is None and self._text:
            text = self._text
            if isinstance(text, bytes):
                text = text.decode("utf-8").removeprefix("\ufeff")
            self._root = yaml.compose(text, Loader=_LOADER)
        return self._root

    def line_of(self, path: Path) -> int:
        """The line of the deepest node along `path` (the parent's line for a missing key).

        A mapping value is located at its key's line, where people look for it. Lines are
        looked up only when a problem is reported, so loading a clean catalogue costs nothing.
        """
        node, line = self.root, 1
        if node is None:
            return line
        line = node.start_mark.line + 1
        for part in path:
            if isinstance(node, MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == part), None)
                if found is None:
                    return line
                line, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, SequenceNode) and isinstance(part, int) and \
                    0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _hint_for_parse_error(problem: str) -> str:
    if "'\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return 'a text that contains ": " must be put in quotes, e.g. title: "Kurs: Deutsch"'
    if "found undefined alias" in problem:
        return "an alias (*name) needs an anchor (&name) before it"
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return "check the indentation: keys at one level must start in the same column"
    if "could not find expected ':'" in problem:
        return 'each line needs "key: value"; put text that continues in quotes or use ">-"'
    return "check quotes and indentation around this line"


def read_yaml(text: str) -> Document:
    """Parse one YAML document into plain data; raise YamlProblem with a line and a hint."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlProblem(1, f"the file is larger than {MAX_BYTES // 1000} kB",
                          "split it into several files, e.g. one per provider")
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(err.problem or err.context or "not valid YAML")
        near = text.splitlines()[max(0, line - 2): line + 1]
        hint = ("indent with spaces, not tabs" if any("\t" in part for part in near)
                else _hint_for_parse_error(problem))
        raise YamlProblem(line, "not valid YAML: " + problem, hint) from None
    except yaml.YAMLError as err:  # e.g. "expected a single document"
        raise YamlProblem(1, "not valid YAML: " + str(err).splitlines()[0],
                          "one file holds one document: remove extra '---' lines") from None
    if root is None:
        return Document(None, text)
    budget = [MAX_NODES]
    return Document(_plain(root, 0, budget), text, root)


def _plain(node: Node, depth: int, budget: list[int]) -> Any:
    """Plain data for `node`, refusing tags, merge keys, duplicates and runaway aliases."""
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlProblem(node.start_mark.line + 1,
                          "the file expands to too many values (anchors and aliases?)",
                          "write the values out instead of repeating them with aliases")
    if depth > MAX_DEPTH:
        raise YamlProblem(node.start_mark.line + 1, "the file is nested too deeply",
                          "check the indentation; a value may refer to itself through aliases")
    if node.tag not in _PLAIN_TAGS:
        raise YamlProblem(node.start_mark.line + 1, f"the tag {node.tag!r} is not allowed",
                          "remove the '!' tag: plain text, lists and mappings are enough")
    if isinstance(node, ScalarNode):
        if not node.style and node.value in _NULL_WORDS:  # plain: None or "" (LibYAML)
            return None
        return node.value
    if isinstance(node, SequenceNode):
        return [_plain(item, depth + 1, budget) for item in node.value]
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise YamlProblem(key_node.start_mark.line + 1, "a key must be a plain word",
                              "write keys as `name: value`")
        key = key_node.value
        if key == "<<":
            raise YamlProblem(key_node.start_mark.line + 1, "merge keys (<<) are not supported",
                              "write the fields out in full")
        if key in result:
            raise YamlProblem(key_node.start_mark.line + 1, f"the key {key!r} appears twice",
                              "keep one of them; YAML would silently drop the first")
        result[key] = _plain(value_node, depth + 1, budget)
    return result
