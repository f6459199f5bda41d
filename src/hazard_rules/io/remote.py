"""Exports at an fsspec URL (``s3://bucket/export/``, ``gs://…``, ``file:///…``): read through a
local mirror of the folder.

A mirror is a local folder with an entry for every entry of the remote folder, in the same
names: a file that this process needs (it reads it) is downloaded, every other file is an
empty stand-in, so that :func:`~hazard_rules.io.export.read_export` plans exactly the parts a
local copy would have. Workbooks are always downloaded (the names of their sheets decide
their parts). Each process downloads only what it reads: the planning process the files of
the broadcast types, a worker the file of its part. Sources name the remote file
(``s3://bucket/export/hazard.csv:20``), as they would in one process.

Needs fsspec (installed with the ``dask`` extra) and the fsspec driver of the URL's protocol
(``s3fs`` for ``s3://``, ``gcsfs`` for ``gs://`` …).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hazard_rules.errors import BackendUnavailableError, InputError
from hazard_rules.source import display_view

__all__ = ["is_url", "mirror", "viewed"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ALWAYS = (".xlsx", ".xlsm")


def is_url(path: object) -> bool:
    """True for ``protocol://…`` (an fsspec URL), not for a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise BackendUnavailableError(
            f"{url}: reading a URL needs fsspec: pip install 'hazard-rules[dask]' (and the "
            "driver of its protocol, e.g. s3fs for s3://)"
        ) from None
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise BackendUnavailableError(f"{url}: {exc}") from None
    return fs, str(root)


def _folder(url: str) -> Path:
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "hazard-rules-remote" / key


def mirror(url: str, need: Callable[[str], bool]) -> Path:
    """The local mirror of the export at ``url`` (see the module docstring); files whose name
    ``need`` accepts are downloaded (once per machine, unless they changed size)."""
    fs, root = _fs(url)
    try:
        if not fs.exists(root):
            raise InputError(f"{url}: no such file or folder")
        single = not fs.isdir(root)
        entries = [fs.info(root)] if single else fs.ls(root, detail=True)
    except OSError as exc:
        raise InputError(f"{url}: cannot read: {exc}") from exc
    base = _folder(url)
    base.mkdir(parents=True, exist_ok=True)
    for entry in sorted(entries, key=lambda e: str(e["name"])):
        name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
        local = base / name
        if entry.get("type") == "directory":
            local.mkdir(exist_ok=True)
            continue
        size = int(entry.get("size") or 0)
        wanted = need(name) or name.lower().endswith(_ALWAYS)
        if wanted and not (local.is_file() and local.stat().st_size == size):
            part = local.with_name(f".{name}.{os.getpid()}.part")
            try:
                fs.get_file(entry["name"], str(part))
            except OSError as exc:
                raise InputError(f"{url}/{name}: cannot read: {exc}") from exc
            os.replace(part, local)
        elif not local.exists():
            local.touch()
    return base / name if single else base


@contextmanager
def viewed(url: str, local: Path) -> Iterator[None]:
    """Sources below the mirror ``local`` shown as below ``url``."""
    with display_view(None, str(local), url.rstrip("/")):
        yield
