"""Safe YAML loading that keeps the position of every node.

``load_yaml`` returns plain data (dicts, lists, scalars) and a source map from each value's
path (a tuple of keys and indexes) to its :class:`SourceSpan`. Duplicate keys are errors.
Only the safe loader's constructors run: no tags, no Python objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hazard_rules.errors import Diagnostic
from hazard_rules.source import SourceSpan

try:  # the C loader is much faster on large case files; same safe constructors
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]
_YAML = "tag:yaml.org,2002:"
_MERGE = _YAML + "merge"
# what the safe resolver gives plain YAML; any other tag was written explicitly
_PLAIN_TAGS = frozenset(
    _YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
MAX_NODES = 500_000  # values in one YAML document, aliases expanded
MAX_DEPTH = 200  # nesting of mappings and lists (conditions stop at 32 levels of all/any/not)


class SourceMap:
    """Positions of the values of one YAML document, by path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._spans: dict[Path_, SourceSpan] = {}
        self._keys: dict[Path_, SourceSpan] = {}

    def add(self, where: Path_, span: SourceSpan, *, key: SourceSpan | None = None) -> None:
        self._spans[where] = span
        if key is not None:
            self._keys[where] = key

    def span(self, where: Path_) -> SourceSpan:
        """The position of the value at ``where``, or of its nearest known ancestor."""
        probe = tuple(where)
        while probe:
            if probe in self._spans:
                return self._spans[probe]
            probe = probe[:-1]
        return self._spans.get((), SourceSpan(self.path, 1, 1))

    def key_span(self, where: Path_) -> SourceSpan:
        """The position of the mapping key that leads to ``where`` (falls back to the value)."""
        return self._keys.get(tuple(where)) or self.span(where)


class YamlError(Exception):
    """A YAML file could not be parsed; carries diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(map(str, diagnostics)))


def _span(path: str, mark: Any) -> SourceSpan:
    return SourceSpan(path, mark.line + 1, mark.column + 1)


def load_yaml(file: Path, display: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML file into plain data and its source map.

    Raises :class:`YamlError` for syntax errors, duplicate keys and unreadable files.
    """
    name = display or str(file)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError([Diagnostic(SourceSpan(name), "unreadable_file", str(exc))]) from exc
    return load_yaml_text(text, name)


def load_yaml_text(text: str, name: str) -> tuple[Any, SourceMap]:
    """Parse YAML text (see :func:`load_yaml`)."""
    smap = SourceMap(name)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, smap
        problems: list[Diagnostic] = []
        budget = [MAX_NODES]
        data = _build(node, (), smap, loader, problems, budget)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = _span(name, mark) if mark is not None else SourceSpan(name)
        raise YamlError([Diagnostic(span, "yaml_syntax", str(exc.problem or exc))]) from exc
    except yaml.YAMLError as exc:
        raise YamlError([Diagnostic(SourceSpan(name), "yaml_syntax", str(exc))]) from exc
    finally:
        loader.dispose()
    if problems:
        raise YamlError(problems)
    return data, smap


def _build(
    node: yaml.Node,
    where: Path_,
    smap: SourceMap,
    loader: yaml.SafeLoader,
    problems: list[Diagnostic],
    budget: list[int],
) -> Any:
    name = smap.path
    budget[0] -= 1
    if budget[0] < 0:  # aliases can make a small file expand without bound ("billion laughs")
        raise YamlError(
            [
                Diagnostic(
                    _span(name, node.start_mark),
                    "yaml_too_large",
                    f"more than {MAX_NODES:,} values (aliases expanded); refusing to go on",
                )
            ]
        )
    smap.add(where, _span(name, node.start_mark))
    if len(where) > MAX_DEPTH:
        raise YamlError(
            [
                Diagnostic(
                    _span(name, node.start_mark),
                    "yaml_too_deep",
                    f"values nested more than {MAX_DEPTH} levels deep; refusing to go on",
                )
            ]
        )
    if node.tag not in _PLAIN_TAGS:
        problems.append(
            Diagnostic(
                _span(name, node.start_mark),
                "yaml_tag",
                f"YAML tags are not allowed ({node.tag}); write plain values",
            )
        )
        return None
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != _MERGE)
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<) safely
        merged = len(node.value) - own  # the first pairs now come from merged mappings
        own_keys = {str(k.value) for k, _ in node.value[merged:] if isinstance(k, yaml.ScalarNode)}
        out: dict[Any, Any] = {}
        for i, (key_node, value_node) in enumerate(node.value):
            if key_node.tag not in _PLAIN_TAGS:
                problems.append(
                    Diagnostic(
                        _span(name, key_node.start_mark),
                        "yaml_tag",
                        f"YAML tags are not allowed ({key_node.tag}); write plain values",
                    )
                )
                continue
            if i < merged and (
                (isinstance(key_node, yaml.ScalarNode) and str(key_node.value) in own_keys)
                or str(getattr(key_node, "value", "")) in out
            ):
                continue  # YAML merge: the mapping's own keys, then earlier merges, win
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                problems.append(
                    Diagnostic(
                        _span(name, key_node.start_mark), "bad_key", "a key must be a scalar"
                    )
                )
                continue
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                problems.append(
                    Diagnostic(
                        _span(name, key_node.start_mark),
                        "duplicate_key",
                        f"key {key!r} appears twice in this mapping",
                    )
                )
                continue
            child = (*where, key)
            out[key] = _build(value_node, child, smap, loader, problems, budget)
            smap.add(
                child, _span(name, value_node.start_mark), key=_span(name, key_node.start_mark)
            )
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*where, i), smap, loader, problems, budget)
            for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # e.g. 2024-13-45 looks like a timestamp but is not a date: keep the text, so that
        # lowering reports a located ``malformed_date`` instead of a crash.
        return str(node.value)
