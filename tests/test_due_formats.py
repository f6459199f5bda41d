"""``due --format ics|json|csv`` (issue 16, item 6): an RFC 5545 calendar with one event per
obligation due in the window, each with a reminder; the optional extra named when missing."""

from __future__ import annotations

import builtins
import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from conftest import REPO
from hazard_rules.cli import main

DUE = ["due", "examples/export", "--pack", "baoshan-2024", "--as-of", "2025-11-25"]


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(REPO)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ics_has_one_event_per_obligation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    icalendar = pytest.importorskip("icalendar")
    _, listed, _ = run(monkeypatch, capsys, *DUE, "--format", "json")
    items = json.loads(listed)
    code, out, _ = run(monkeypatch, capsys, *DUE, "--format", "ics")
    assert code == 0
    assert out.startswith("BEGIN:VCALENDAR\r\n") and "\r\nEND:VCALENDAR" in out
    cal = icalendar.Calendar.from_ical(out)
    assert cal["VERSION"] == "2.0" and "hazard-rules" in str(cal["PRODID"])
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(items) == 7
    uids = set()
    for ev, item in zip(events, items, strict=True):
        start = ev.decoded("DTSTART")
        assert start == date.fromisoformat(item["due"])
        assert ev.decoded("DTEND") == start + timedelta(days=1)
        assert item["title"] in str(ev["SUMMARY"])
        description = str(ev["DESCRIPTION"])
        assert item["rule"] in description and item["cite"] in description
        assert item["cite"].startswith("宝国资委〔2024〕11号")
        (alarm,) = ev.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY"
        assert alarm.decoded("TRIGGER") == -timedelta(days=2, hours=15)
        uids.add(str(ev["UID"]))
    assert len(uids) == 7
    # the same export and date give the same file (importing again updates, never duplicates)
    assert run(monkeypatch, capsys, *DUE, "--format", "ics")[1] == out
    _, no_alarm, _ = run(monkeypatch, capsys, *DUE, "--format", "ics", "--alarm", "0")
    assert "VALARM" not in no_alarm


def test_csv_names_the_citation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, *DUE, "--format", "csv")
    assert code == 0 and out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert len(rows) == 7
    assert rows[0]["rule"] == "baoshan-2024.hazard-rectified-on-time" and rows[0]["cite"]


def test_missing_icalendar_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = builtins.__import__

    def no_icalendar(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "icalendar" or name.startswith("icalendar."):
            raise ImportError("No module named 'icalendar'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_icalendar)
    code, out, err = run(monkeypatch, capsys, *DUE, "--format", "ics")
    assert code == 2 and out == ""
    assert "pip install 'hazard-rules[calendar]'" in err
    assert "Traceback" not in err
