"""Finding and loading rule packs: bundled ones by id, a user's by path.

:func:`load_packs` reads ``pack.yaml``, resolves ``extends`` (dependencies first), merges the
schemas, loads named lists, lowers every ``*.rule.yaml`` and returns a frozen
:class:`PackSet`. Every problem in every file is collected and raised together as one
:class:`~hazard_rules.errors.PackError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hazard_rules._yaml import SourceMap, YamlError, load_yaml
from hazard_rules.assess.config import Assessment, lower_assessment
from hazard_rules.errors import ArgumentTypeError, Diagnostic, PackError
from hazard_rules.ir import Rule
from hazard_rules.lower.rules import lower_rule_file
from hazard_rules.periods import timezone
from hazard_rules.schema import Schema, build_schema, did_you_mean
from hazard_rules.source import SourceSpan, display_path

__all__ = ["PackInfo", "PackSet", "bundled_packs", "bundled_root", "load_packs"]

_PACK_KEYS = {
    "id",
    "title",
    "title_en",
    "version",
    "cite",
    "extends",
    "timezone",
    "subject",
    "description",
    "assessment",
}
_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# pack.yaml problems after which the schema and rules cannot be read meaningfully
_FATAL = {
    "unknown_pack",
    "invalid_pack",
    "duplicate_pack",
    "extends_cycle",
    "yaml_syntax",
    "unreadable_file",
    "duplicate_key",
}


@dataclass(frozen=True)
class PackInfo:
    """One loaded pack: its metadata, folder and files."""

    id: str
    title: str
    version: str
    cite: str
    path: Path
    extends: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"
    subject: str = "enterprise"
    title_en: str | None = None
    rule_files: tuple[Path, ...] = ()
    case_files: tuple[Path, ...] = ()


@dataclass(frozen=True, eq=False)
class PackSet:
    """Packs loaded together: one schema, every rule, named lists. Load once, evaluate often.

    A pack set is compared and hashed by identity: it is what compiled forms are memoised by
    (:func:`hazard_rules.engine.compile.compile_pack`), and loading twice gives two sets.
    """

    packs: tuple[PackInfo, ...]
    schema: Schema
    rules: tuple[Rule, ...]
    lists: Mapping[str, tuple[Any, ...]]
    subject: str = "enterprise"
    # the assessment section of the last pack loaded that has one (assess/config.py)
    assessment: Assessment | None = None

    @property
    def timezone(self) -> str:
        return self.schema.timezone

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id`` (``KeyError`` when absent)."""
        for r in self.rules:
            if r.meta.id == rule_id:
                return r
        raise KeyError(rule_id)

    def pack(self, pack_id: str) -> PackInfo:
        for p in self.packs:
            if p.id == pack_id:
                return p
        raise KeyError(pack_id)

    def only(self, rule_ids: set[str]) -> PackSet:
        """The same schema with only the rules in ``rule_ids``."""
        return PackSet(
            self.packs,
            self.schema,
            tuple(r for r in self.rules if r.meta.id in rule_ids),
            self.lists,
            self.subject,
            self.assessment,
        )


def bundled_root() -> Path:
    """The folder of the bundled packs (installed with the package, or the source tree's)."""
    installed = resources.files("hazard_rules") / "rules"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "rules"


def bundled_packs() -> list[str]:
    """Ids of the bundled packs."""
    root = bundled_root()
    return sorted(p.parent.name for p in root.glob("*/pack.yaml"))


class _Loader:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.infos: dict[str, PackInfo] = {}
        self.order: list[str] = []
        self.docs: dict[Path, tuple[Any, SourceMap]] = {}

    def read(self, path: Path) -> tuple[Any, SourceMap] | None:
        if path in self.docs:
            return self.docs[path]
        try:
            out = load_yaml(path, display_path(path))
        except YamlError as exc:
            self.diags.extend(exc.diagnostics)
            return None
        self.docs[path] = out
        return out

    def resolve(self, ref: str | os.PathLike[str], near: Path | None) -> Path | None:
        """The folder of the pack ``ref`` names, or None (a name no file system accepts — too
        long, a NUL — names no pack either)."""
        try:
            return self._resolve(ref, near)
        except (OSError, ValueError):
            return None

    def _resolve(self, ref: str | os.PathLike[str], near: Path | None) -> Path | None:
        text = str(ref)
        p = Path(text)
        if p.name == "pack.yaml":
            p = p.parent
        elif p.is_file() and p.name.endswith((".rule.yaml", ".cases.yaml")):
            # a rule or case file: its pack is the nearest folder above it with a pack.yaml
            p = next((d for d in p.resolve().parents if (d / "pack.yaml").is_file()), p.parent)
        candidates = []
        if near is not None and _PACK_ID.match(text):
            candidates.append(near.parent / text)
        if os.sep in text or "/" in text or (p.exists() and (p / "pack.yaml").exists()):
            candidates.append(p)
        if _PACK_ID.match(text):
            candidates.append(bundled_root() / text)
        for c in candidates:
            if (c / "pack.yaml").is_file():
                return c.resolve()
        return None

    def load(
        self,
        ref: str | os.PathLike[str],
        near: Path | None,
        trail: tuple[str, ...],
        span: SourceSpan,
    ) -> str | None:
        folder = self.resolve(ref, near)
        if folder is None:
            known = bundled_packs()
            hint = did_you_mean(str(ref), known)
            self.diags.append(
                Diagnostic(
                    span,
                    "unknown_pack",
                    f"no pack {str(ref)!r}: give a bundled pack id ({', '.join(known)}) or a folder with pack.yaml{hint}",
                )
            )
            return None
        got = self.read(folder / "pack.yaml")
        if got is None:
            return None
        data, smap = got
        if not isinstance(data, dict):
            self.diags.append(
                Diagnostic(smap.span(()), "invalid_pack", "pack.yaml must be a mapping")
            )
            return None
        for key in data:
            if key not in _PACK_KEYS:
                self.diags.append(
                    Diagnostic(
                        smap.key_span((key,)),
                        "unknown_key",
                        f"unknown key {key!r} in pack.yaml{did_you_mean(str(key), _PACK_KEYS)}",
                    )
                )
        pid = data.get("id")
        if not isinstance(pid, str) or not _PACK_ID.match(pid):
            self.diags.append(
                Diagnostic(
                    smap.span(("id",)),
                    "invalid_pack",
                    f"pack id {pid!r}: lower-case letters, digits, '-'",
                )
            )
            return None
        if pid in self.infos:
            if self.infos[pid].path != folder:
                self.diags.append(
                    Diagnostic(
                        smap.span(("id",)),
                        "duplicate_pack",
                        f"pack id {pid!r} is also {self.infos[pid].path}",
                    )
                )
            return pid
        if pid in trail:
            self.diags.append(
                Diagnostic(smap.span(("extends",)), "extends_cycle", " → ".join((*trail, pid)))
            )
            return None
        extends = data.get("extends") or []
        if not isinstance(extends, list):
            extends = [extends]
        for i, parent in enumerate(extends):
            self.load(str(parent), folder, (*trail, pid), smap.span(("extends", i)))
        tz = str(data.get("timezone", "Asia/Shanghai"))
        try:
            timezone(tz)
        except ValueError as exc:
            self.diags.append(Diagnostic(smap.span(("timezone",)), "invalid_pack", str(exc)))
        for key in ("title", "version", "cite"):
            if key not in data:
                self.diags.append(
                    Diagnostic(smap.span(()), "missing_key", f"pack.yaml needs `{key}`")
                )
        self.infos[pid] = PackInfo(
            id=pid,
            title=str(data.get("title", pid)),
            version=str(data.get("version", "")),
            cite=str(data.get("cite", "")),
            path=folder,
            extends=tuple(str(e) for e in extends),
            timezone=tz,
            subject=str(data.get("subject", "enterprise")),
            title_en=str(data["title_en"]) if data.get("title_en") else None,
            rule_files=tuple(sorted(folder.rglob("*.rule.yaml"))),
            case_files=tuple(sorted(folder.rglob("*.cases.yaml"))),
        )
        self.order.append(pid)
        return pid

    def schema_files(self, info: PackInfo) -> Iterator[Path]:
        if (info.path / "schema.yaml").is_file():
            yield info.path / "schema.yaml"
        yield from sorted((info.path / "schema").glob("*.yaml"))

    def lists(self, info: PackInfo, out: dict[str, tuple[Any, ...]]) -> None:
        for file in sorted((info.path / "lists").glob("*.yaml")):
            got = self.read(file)
            if got is None:
                continue
            data, smap = got
            name = file.stem
            values = data.get("values") if isinstance(data, dict) else None
            if not isinstance(values, list):
                self.diags.append(
                    Diagnostic(smap.span(()), "invalid_list", "a list file has `values: [...]`")
                )
                continue
            items = []
            for i, v in enumerate(values):
                item = v.get("value") if isinstance(v, dict) else v
                if item is None or isinstance(item, (dict, list)):
                    self.diags.append(
                        Diagnostic(
                            smap.span(("values", i)), "invalid_list", "each entry needs a `value`"
                        )
                    )
                    continue
                items.append(item)
            if name in out:
                self.diags.append(
                    Diagnostic(smap.span(()), "duplicate_list", f"list {name!r} is defined twice")
                )
            out[name] = tuple(items)


def load_packs(*refs: str | os.PathLike[str]) -> PackSet:
    """Load rule packs by bundled id (``"baoshan-2024"``) or folder path, with what they extend.

    Raises :class:`~hazard_rules.errors.PackError` listing every problem found.
    """
    for ref in refs:
        if not isinstance(ref, (str, os.PathLike)):
            raise ArgumentTypeError(
                f"load_packs takes pack ids or folder paths, not {type(ref).__name__}"
            )
    if not refs:
        refs = tuple(p for p in bundled_packs())
    loader = _Loader()
    for ref in refs:
        loader.load(ref, None, (), SourceSpan(str(ref)))
    # Problems that leave nothing to build on stop here; the others (a missing `cite`, an
    # unknown key in pack.yaml, a bad time zone) are reported together with every problem
    # of the schema and the rule files, so that one lint run shows them all.
    if any(d.code in _FATAL for d in loader.diags) or not loader.order:
        for info in loader.infos.values():  # the rule files' own YAML errors join them
            for file in info.rule_files:
                loader.read(file)
        raise PackError(loader.diags)
    infos = [loader.infos[p] for p in loader.order]
    zones = {i.timezone for i in infos}
    subjects = {i.subject for i in infos}
    tz = infos[0].timezone if len(zones) == 1 else "Asia/Shanghai"
    if len(zones) > 1:
        loader.diags.append(
            Diagnostic(
                SourceSpan(display_path(infos[-1].path / "pack.yaml")),
                "timezone_conflict",
                f"packs loaded together use different time zones: {', '.join(sorted(zones))}",
            )
        )
    schema_docs = [
        got for info in infos for f in loader.schema_files(info) if (got := loader.read(f))
    ]
    schema, sdiags = build_schema(schema_docs, tz)
    loader.diags.extend(sdiags)
    lists: dict[str, tuple[Any, ...]] = {}
    for info in infos:
        loader.lists(info, lists)
    subject = infos[-1].subject
    if subject not in schema.types:
        loader.diags.append(
            Diagnostic(
                SourceSpan(display_path(infos[-1].path / "pack.yaml")),
                "unknown_type",
                f"subject type {subject!r} is not in the schema",
            )
        )
    rules: list[Rule] = []
    seen: dict[str, SourceSpan] = {}
    for info in infos:
        for file in info.rule_files:
            got = loader.read(file)
            if got is None:
                continue
            rules.extend(
                lower_rule_file(
                    got[0], got[1], schema, lists, info.id, info.subject, loader.diags, seen
                )
            )
    assessment = None
    for info in reversed(infos):
        got = loader.read(info.path / "pack.yaml")
        if got is not None and isinstance(got[0], dict) and "assessment" in got[0]:
            assessment = lower_assessment(
                info.id, got[0]["assessment"], got[1], rules, schema, lists, loader.diags
            )
            break
    if loader.diags:
        raise PackError(loader.diags)
    if len(subjects) > 1:
        subject = "enterprise" if "enterprise" in subjects else sorted(subjects)[0]
    return PackSet(tuple(infos), schema, tuple(rules), lists, subject, assessment)
