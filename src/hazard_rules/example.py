"""The example export shipped with the package, for the README's examples and first tries.

``examples/export`` of the source tree (six district-managed enterprises, 2024–2025, with
deliberate problems described in examples/README.md) is installed with the wheel as
``hazard_rules/example_export``, so ``evaluate(packs, example_export(), as_of)`` works the
same from a clone and from ``pip install hazard-rules``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_export"]


def example_export() -> Path:
    """The folder of the bundled example export (one CSV file per record type)."""
    installed = resources.files("hazard_rules") / "example_export"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "examples" / "export"
