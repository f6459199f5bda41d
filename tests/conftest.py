"""Shared fixtures: a factory of temporary rule packs (extending ``core``) and date helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import hazard_rules

REPO = Path(__file__).resolve().parents[1]
EXPORT = REPO / "examples" / "export"

# A type with one optional field of every kind, for operator tests (SPEC §3.2).
ITEM_SCHEMA = {
    "types": {
        "item": {
            "fields": {
                "enterprise_id": {"ref": "enterprise"},
                "s": "string?",
                "s2": "string?",
                "i": "int?",
                "i2": "int?",
                "f": "float?",
                "b": "bool?",
                "d": "date?",
                "d2": "date?",
                "dt": "datetime?",
                "e": {"type": "enum?", "values": ["a", "b", "c"]},
                "e2": {"type": "enum?", "values": ["a", "b", "c"]},
                "p": "period?",
                "ls": "list[string]?",
                "le": {"type": "list[enum]?", "values": ["x", "y", "z"]},
            }
        }
    }
}


def d(text: str) -> date:
    """``date.fromisoformat`` with a short name: ``d("2024-06-30")``."""
    return date.fromisoformat(text)


def rule(rid: str, kind: str, **body: Any) -> dict[str, Any]:
    """A rule document with the keys every rule needs filled in."""
    doc: dict[str, Any] = {
        "id": rid,
        "kind": kind,
        "title": "测试规则",
        "cite": "测试 一、1",
        "severity": "high",
        "message": {"zh": "{subject}：{status}", "en": "{subject}: {status}"},
    }
    doc.update(body)
    return doc


def _dump(doc: Any) -> str:
    if isinstance(doc, str):
        return doc
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def write_pack(
    root: Path,
    rules: Mapping[str, Any] | Iterable[Mapping[str, Any]] = (),
    *,
    pack_id: str = "t",
    schema: Any = None,
    cases: Mapping[str, Any] | None = None,
    extends: Iterable[str] = ("core",),
) -> Path:
    """Write a pack folder under ``root`` and return its path.

    ``rules`` is either ``{file name: YAML text or data}`` or a list of rule documents (written
    to ``rules.rule.yaml``); ``cases`` is ``{file name: YAML text or data}``.
    """
    folder = root / pack_id
    folder.mkdir(parents=True, exist_ok=True)
    pack = {
        "id": pack_id,
        "title": "测试包",
        "version": "1",
        "cite": "测试",
        "extends": list(extends),
    }
    (folder / "pack.yaml").write_text(_dump(pack), encoding="utf-8")
    if schema is not None:
        (folder / "schema.yaml").write_text(_dump(schema), encoding="utf-8")
    files = rules if isinstance(rules, Mapping) else {"rules.rule.yaml": list(rules)}
    for name, doc in files.items():
        (folder / name).write_text(_dump(doc), encoding="utf-8")
    for name, doc in (cases or {}).items():
        (folder / name).write_text(_dump(doc), encoding="utf-8")
    return folder


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """``make_pack(rules, schema=..., cases=..., pack_id=...)`` → the pack's folder."""
    counter = iter(range(1_000_000))

    def make(rules: Any = (), **kw: Any) -> Path:
        return write_pack(tmp_path / f"p{next(counter)}", rules, **kw)

    return make


@pytest.fixture
def load(make_pack: Callable[..., Path]) -> Callable[..., hazard_rules.PackSet]:
    """``load(rules, **kw)``: write a pack and load it."""

    def go(rules: Any = (), **kw: Any) -> hazard_rules.PackSet:
        return hazard_rules.load_packs(make_pack(rules, **kw))

    return go


def findings(result: hazard_rules.Result) -> list[tuple[Any, ...]]:
    """Violations as ``(rule, subject id, period, due, record id, status)`` tuples."""
    return [
        (
            v.rule,
            v.subject.id,
            v.period,
            v.due.isoformat() if v.due else None,
            v.record.id if v.record else None,
            v.status,
        )
        for v in result.violations
    ]


# -- durable engines made during a module's tests (to check that every one was closed) ---------

DURABLE_ENGINES: list[Any] = []


@pytest.fixture(scope="module")
def track_durable_engines() -> Iterator[None]:
    """Record every DurableEngine a module's tests create (use with ``live_rulesets()``)."""
    from hazard_rules.backends.durable import engine as backend

    original = backend.DurableEngine.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)  # an engine that fails here has closed itself
        DURABLE_ENGINES.append(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend.DurableEngine, "__init__", init)
        yield
    DURABLE_ENGINES.clear()


def live_rulesets() -> int:
    """Rulesets still registered in durable's C core by the engines recorded so far."""
    return sum(e.live_rulesets for e in DURABLE_ENGINES)
