"""hazard-rules: workplace-safety obligations and major-hazard criteria as declarative,
testable rules.

>>> from datetime import date
>>> from hazard_rules import load_packs, evaluate
>>> packs = load_packs("baoshan-2024")
>>> result = evaluate(packs, {"enterprise": [...]}, as_of=date(2025, 1, 15))  # doctest: +SKIP
"""

from hazard_rules.api import evaluate, load_facts
from hazard_rules.assess.waivers import Waiver, load_waivers
from hazard_rules.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    Diagnostic,
    DocumentError,
    HazardRulesError,
    InputError,
    MapError,
    PackError,
    StrictRejectionError,
    TooManyRejectedError,
    WaiverError,
)
from hazard_rules.example import example_export
from hazard_rules.io.inspect import Inspection, inspect_export
from hazard_rules.io.maps import ColumnMap, load_column_map
from hazard_rules.packs import PackInfo, PackSet, bundled_packs, load_packs
from hazard_rules.periods import Period, parse_period
from hazard_rules.results import (
    Candidate,
    Classification,
    Counts,
    RecordRef,
    Rejected,
    Result,
    Violation,
)
from hazard_rules.schema import record_json_schema

__version__ = "0.2.0"

__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "BackendError",
    "BackendUnavailableError",
    "Candidate",
    "Classification",
    "ColumnMap",
    "ConfigError",
    "Counts",
    "Diagnostic",
    "DocumentError",
    "HazardRulesError",
    "InputError",
    "Inspection",
    "MapError",
    "PackError",
    "PackInfo",
    "PackSet",
    "Period",
    "RecordRef",
    "Rejected",
    "Result",
    "StrictRejectionError",
    "TooManyRejectedError",
    "Violation",
    "Waiver",
    "WaiverError",
    "__version__",
    "bundled_packs",
    "evaluate",
    "example_export",
    "inspect_export",
    "load_column_map",
    "load_facts",
    "load_packs",
    "load_waivers",
    "parse_period",
    "record_json_schema",
]
