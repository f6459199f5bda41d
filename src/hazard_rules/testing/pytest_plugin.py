"""pytest plugin: every ``*.cases.yaml`` file under the collected paths becomes test items.

Installed with ``hazard-rules[testing]`` (entry point ``pytest11``), so a rule-pack repository
needs no Python at all: ``pytest`` in a folder of packs runs every case of every pack, under
every available backend. Each case is one item per backend, named as pytest names any
test: ``path/to/<file>.cases.yaml::<case name>[<backend>]`` (the path relative to the
rootdir); a failing item prints the case report (expected vs produced findings side by
side, see :meth:`~hazard_rules.testing.cases.CaseOutcome.report`).

The pack of a case file is the nearest folder above it holding ``pack.yaml``; a case file
outside any pack is not collected. Options:

* ``--hazard-rules-backend NAME`` (repeatable), or the ini option ``hazard_rules_backend``
  (a list, in ``pytest.ini``, ``[tool.pytest.ini_options]`` …; the command line wins): run the
  cases under these backends only. A backend that is unknown or not installed is one usage
  error, before anything is collected;
* ``--no-hazard-rules-cases``: do not collect case files at all.

A test that runs bundled cases itself (see ``tests/test_bundled_cases.py``) marks its items
with ``@pytest.mark.hazard_rules_case(case_id, backend)``; when the same case is also
collected from its YAML file, the marked duplicate is deselected, so nothing runs twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hazard_rules.errors import PackError
from hazard_rules.packs import PackSet, load_packs
from hazard_rules.testing.cases import Case, CaseOutcome, load_cases, run_case
from hazard_rules.testing.runner import available_backends

__all__ = ["CaseFailed", "CaseFile", "CaseItem", "find_pack_dir"]

_PACKS_KEY = pytest.StashKey[dict[Path, "PackSet | PackError"]]()
_SEEN_KEY = pytest.StashKey[set[str]]()


class CaseFailed(Exception):
    """Raised by a failing :class:`CaseItem`; carries the outcome for the report."""

    def __init__(self, outcome: CaseOutcome) -> None:
        super().__init__(outcome.report())
        self.outcome = outcome


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--hazard-rules-backend`` and ``--no-hazard-rules-cases``."""
    group = parser.getgroup("hazard-rules", "hazard-rules case files")
    group.addoption(
        "--hazard-rules-backend",
        action="append",
        default=None,
        metavar="NAME",
        help="run *.cases.yaml under this backend only (repeatable; default: every available)",
    )
    parser.addini(
        "hazard_rules_backend",
        type="linelist",
        default=[],
        help="backends to run *.cases.yaml under (default: every available)",
    )
    group.addoption(
        "--no-hazard-rules-cases",
        action="store_true",
        default=False,
        help="do not collect *.cases.yaml files",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``hazard_rules_case`` marker and the per-session caches."""
    config.addinivalue_line(
        "markers",
        "hazard_rules_case(case_id, backend): a test that runs one case of a case file "
        "(deselected when the case file itself is collected)",
    )
    config.stash[_PACKS_KEY] = {}
    config.stash[_SEEN_KEY] = set()
    if not config.getoption("no_hazard_rules_cases", False):
        backends_for(config)  # an unknown or missing backend: one usage error, now


def find_pack_dir(path: Path) -> Path | None:
    """The nearest folder at or above ``path``'s folder that holds ``pack.yaml``."""
    for folder in path.resolve().parents:
        if (folder / "pack.yaml").is_file():
            return folder
    return None


def backends_for(config: pytest.Config) -> list[str]:
    """The backends chosen with ``--hazard-rules-backend`` or the ``hazard_rules_backend``
    ini option, or every available one; :class:`pytest.UsageError` for a backend that is
    unknown or not installed."""
    from hazard_rules.api import BACKENDS

    chosen: list[str] | None = config.getoption("hazard_rules_backend", None)
    where = "--hazard-rules-backend"
    if not chosen:
        chosen = [str(b) for b in config.getini("hazard_rules_backend")]
        where = "hazard_rules_backend (ini)"
    if not chosen:
        return available_backends()
    have = available_backends()
    for name in chosen:
        if name not in BACKENDS:
            raise pytest.UsageError(
                f"{where} {name!r}: unknown backend; one of {', '.join(BACKENDS)}"
            )
        if name not in have:
            raise pytest.UsageError(
                f"{where} {name!r}: the {name} backend is not installed here "
                f"(pip install 'hazard-rules[{name}]'; Python < 3.13 for durable)"
            )
    return list(dict.fromkeys(chosen))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    """Collect ``*.cases.yaml`` files that lie inside a pack."""
    if not file_path.name.endswith(".cases.yaml"):
        return None
    if parent.config.getoption("no_hazard_rules_cases", False):
        return None
    folder = find_pack_dir(file_path)
    if folder is None:
        return None
    return CaseFile.from_parent(parent, path=file_path, pack_dir=folder)


class CaseFile(pytest.File):
    """A ``*.cases.yaml`` file: one :class:`CaseItem` per case and backend."""

    def __init__(self, *, pack_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pack_dir = pack_dir

    def _packs(self) -> PackSet:
        cache = self.config.stash[_PACKS_KEY]
        got = cache.get(self.pack_dir)
        if got is None:
            try:
                got = load_packs(self.pack_dir)
            except PackError as exc:
                got = exc
            cache[self.pack_dir] = got
        if isinstance(got, PackError):
            raise self.CollectError(_diagnostics(got))
        return got

    def collect(self) -> Iterator[CaseItem]:
        """Load the pack (once per session) and the case file; yield one item per case."""
        packs = self._packs()
        pack_id = packs.packs[-1].id
        try:
            cases = load_cases(self.path, packs, pack_id)
        except PackError as exc:
            raise self.CollectError(_diagnostics(exc)) from None
        seen = self.config.stash[_SEEN_KEY]
        for backend in backends_for(self.config):
            for case in cases:
                seen.add(_key(case.id, backend))
                yield CaseItem.from_parent(
                    self, name=f"{case.name}[{backend}]", case=case, packs=packs, backend=backend
                )


def _diagnostics(exc: PackError) -> str:
    lines = [str(d) for d in exc.diagnostics]
    return "\n".join([*lines, f"{len(lines)} problem(s) in the rule pack"])


def _key(case_id: str, backend: str) -> str:
    return f"{case_id}[{backend}]"


class CaseItem(pytest.Item):
    """One case of a case file, run under one backend."""

    def __init__(self, *, case: Case, packs: PackSet, backend: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.packs = packs
        self.backend = backend

    def runtest(self) -> None:
        """Run the case; skip when the backend cannot judge it; fail with the case report."""
        outcome = run_case(self.case, self.packs, self.backend)
        if outcome.error and outcome.error.startswith("skip:"):
            pytest.skip(outcome.error[5:].strip())
        if not outcome.ok:
            raise CaseFailed(outcome)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """The case report for a failed case; pytest's own report for anything else."""
        if isinstance(excinfo.value, CaseFailed):
            return excinfo.value.outcome.report()
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """File, 0-based line and name of the case, for pytest's headers (the name only:
        pytest shows the node id under ``-v``, and would turn dots in a longer name into
        ``::``)."""
        line = self.case.span.line - 1 if self.case.span.line else None
        return self.path, line, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Deselect marked tests that run a case whose YAML file is collected as well."""
    seen = config.stash.get(_SEEN_KEY, set())
    if not seen:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        mark = item.get_closest_marker("hazard_rules_case")
        if (
            mark is not None
            and not isinstance(item, CaseItem)
            and len(mark.args) >= 2
            and _key(str(mark.args[0]), str(mark.args[1])) in seen
        ):
            dropped.append(item)
            continue
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
