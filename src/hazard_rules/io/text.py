"""Text files as numbered physical lines: encoding detection, one bad line never the file.

Encodings: UTF-8 with or without BOM, GB18030 (detected when the text is not UTF-8),
UTF-16 and UTF-32 with a BOM or without one (detected from where the NUL bytes fall), or the
one the user names. An undecodable byte rejects its line only
(``not valid UTF-8: byte 0xff at column 12``); a line longer than :data:`LINE_CAP` is
rejected without being held whole; a file that is none of these (NUL bytes in no text
pattern) is refused as binary.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hazard_rules.errors import InputError

__all__ = [
    "LINE_CAP",
    "Line",
    "TextFile",
    "byte_lines",
    "check_encoding",
    "open_text",
    "sniff_encoding",
]

LINE_CAP = 16 * 1024 * 1024  # bytes (characters for UTF-16/32) in one physical line
_SAMPLE = 1 << 16
_SKIP_CHUNK = 1 << 20


@dataclass(frozen=True)
class Line:
    """One physical line: its 1-based number and its text (with its line ending), or
    ``error`` when it cannot be read (``text`` is then None)."""

    number: int
    text: str | None
    error: str | None = None


def check_encoding(name: str) -> str:
    """The codec's canonical name; :class:`InputError` for a name Python does not know."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(
            f"unknown encoding {name!r}: use e.g. utf-8, gb18030, utf-16 (or leave it out: "
            "it is detected)"
        ) from None


def _wide(codec: str) -> bool:
    return codec.startswith(("utf-16", "utf-32"))


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length to skip) for a file starting with ``head``; ``ValueError`` for
    binary data (NUL bytes in no UTF-16/UTF-32 pattern)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", 0  # the codec reads the BOM itself
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    if b"\x00" in head:
        return _nul_pattern(head), 0
    if not head:
        return "utf-8", 0
    text = head.decode("utf-8", errors="replace")
    if len(head) == _SAMPLE:  # a character may be cut at the sample's end
        text = text[:-2]
    bad = text.count("\ufffd")
    if bad == 0:
        return "utf-8", 0
    good = sum(1 for ch in text if ch > "\x7f" and ch != "\ufffd")
    # GB18030 text read as UTF-8 is mostly invalid; UTF-8 text with a few bad bytes is not
    return ("utf-8", 0) if good >= 4 * bad else ("gb18030", 0)


def _nul_pattern(head: bytes) -> str:
    n = len(head) - len(head) % 4
    if n < 4 or not head.strip(b"\x00"):
        raise ValueError("only NUL bytes: not a text file")
    nuls = [sum(1 for i in range(k, n, 4) if head[i] == 0) for k in range(4)]
    units = n // 4
    if nuls[3] == units and nuls[2] >= 0.9 * units:
        return "utf-32-le"
    if nuls[0] == units and nuls[1] >= 0.9 * units:
        return "utf-32-be"
    # ASCII in UTF-16 puts its NUL after (LE) or before (BE) each character; a few CJK
    # characters (一 is U+4E00) put one on the other side
    odd, even = nuls[1] + nuls[3], nuls[0] + nuls[2]
    if odd and even * 4 <= odd:
        return "utf-16-le"
    if even and odd * 4 <= even:
        return "utf-16-be"
    raise ValueError("NUL bytes in no UTF-16 or UTF-32 pattern: not a text file")


@dataclass
class TextFile:
    """An open text file: its codec (as detected or given) and its lines."""

    name: str
    codec: str
    detected: bool
    lines: Iterator[Line]
    _fh: BinaryIO | None = None

    def close(self) -> None:
        """Release the file (also when its lines were not read to the end)."""
        close = getattr(self.lines, "close", None)
        if close is not None:
            close()
        if self._fh is not None:
            self._fh.close()


def open_text(path: Path, name: str, encoding: str | None) -> TextFile:
    """Open ``path`` for reading lines (see the module docstring); :class:`InputError`
    naming the file when it cannot be opened, is binary or vanishes while read."""
    given = check_encoding(encoding) if encoding is not None else None
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    try:
        head = fh.read(_SAMPLE)
        fh.seek(0)
    except OSError as exc:
        fh.close()
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    skip = 0
    if given is not None:
        codec = given
        if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
            skip = 3
    else:
        try:
            codec, skip = sniff_encoding(head)
        except ValueError as exc:
            fh.close()
            raise InputError(f"{name}: {exc}") from None
    lines = _wide_lines(fh, name, codec) if _wide(codec) else _byte_lines(fh, name, codec, skip)
    return TextFile(name, codec, encoding is None, lines, fh)


def _read_error(name: str, exc: OSError) -> InputError:
    return InputError(f"{name}: the file became unreadable while read: {exc.strerror or exc}")


def _byte_lines(fh: BinaryIO, name: str, codec: str, skip: int) -> Iterator[Line]:
    """Lines of an ASCII-compatible encoding (a 0x0A byte is always a line end)."""
    label = codec.upper()
    with fh:
        try:
            if skip:
                fh.read(skip)
            number = 0
            while True:
                raw = fh.readline(LINE_CAP + 1)
                if not raw:
                    return
                number += 1
                if len(raw) > LINE_CAP and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(_SKIP_CHUNK)
                    yield Line(number, None, f"line longer than {LINE_CAP >> 20} MiB; not read")
                    continue
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError as exc:
                    column = len(raw[: exc.start].decode(codec, errors="replace")) + 1
                    byte = raw[exc.start]
                    yield Line(
                        number,
                        None,
                        f"not valid {label}: byte 0x{byte:02x} at column {column} (try --encoding)",
                    )
                    continue
                if "\x00" in text:
                    yield Line(number, None, "the line contains NUL bytes: binary data?")
                    continue
                yield Line(number, text)
        except OSError as exc:
            raise _read_error(name, exc) from exc


def _wide_lines(fh: BinaryIO, name: str, codec: str) -> Iterator[Line]:
    """Lines of UTF-16/UTF-32 (decoded as a stream; a bad code unit marks its line)."""
    label = codec.upper()
    text = io.TextIOWrapper(fh, encoding=codec, errors="replace", newline="")
    with text:
        try:
            number = 0
            while True:
                line = text.readline(LINE_CAP + 1)
                if not line:
                    return
                number += 1
                if len(line) > LINE_CAP and not line.endswith(("\n", "\r")):
                    while line and not line.endswith(("\n", "\r")):
                        line = text.readline(_SKIP_CHUNK)
                    yield Line(number, None, f"line longer than {LINE_CAP >> 20} MiB; not read")
                    continue
                bad = line.find("\ufffd")
                if bad >= 0:
                    yield Line(number, None, f"not valid {label} at column {bad + 1}")
                    continue
                if "\x00" in line:
                    yield Line(number, None, "the line contains NUL characters: binary data?")
                    continue
                yield Line(number, line)
        except OSError as exc:
            raise _read_error(name, exc) from exc


def byte_lines(fh: BinaryIO, name: str, codec: str) -> Iterator[Line]:
    """The lines of an open binary file of an ASCII-compatible codec from where it stands (a
    block of a file: io/blocks.py), numbered from 1, read as :func:`open_text` reads them."""
    return _byte_lines(fh, name, codec, 0)
