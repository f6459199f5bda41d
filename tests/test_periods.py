"""Calendar periods (SPEC §3.3 recurring, §3.4.6): labels, parsing, containment, iteration, due
dates and boundaries; with hypothesis properties."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import d
from hazard_rules import Period, parse_period
from hazard_rules.periods import (
    EVERY,
    check_year,
    local_date,
    parse_date,
    parse_datetime,
    period_of,
    periods_within,
    timezone,
)

SHANGHAI = timezone("Asia/Shanghai")
COUNT = {"month": 12, "quarter": 4, "half_year": 2, "year": 1}


@pytest.mark.parametrize(
    ("period", "label", "start", "end"),
    [
        (Period("month", 2024, 5), "2024-05", "2024-05-01", "2024-05-31"),
        (Period("month", 2024, 2), "2024-02", "2024-02-01", "2024-02-29"),
        (Period("month", 2023, 2), "2023-02", "2023-02-01", "2023-02-28"),
        (Period("month", 2024, 12), "2024-12", "2024-12-01", "2024-12-31"),
        (Period("quarter", 2024, 1), "2024-Q1", "2024-01-01", "2024-03-31"),
        (Period("quarter", 2024, 2), "2024-Q2", "2024-04-01", "2024-06-30"),
        (Period("quarter", 2024, 3), "2024-Q3", "2024-07-01", "2024-09-30"),
        (Period("quarter", 2024, 4), "2024-Q4", "2024-10-01", "2024-12-31"),
        (Period("half_year", 2024, 1), "2024-H1", "2024-01-01", "2024-06-30"),
        (Period("half_year", 2024, 2), "2024-H2", "2024-07-01", "2024-12-31"),
        (Period("year", 2025), "2025", "2025-01-01", "2025-12-31"),
    ],
)
def test_label_start_end(period: Period, label: str, start: str, end: str):
    assert period.label == label
    assert str(period) == label
    assert (period.start, period.end) == (d(start), d(end))
    assert parse_period(label) == period


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05", Period("month", 2024, 5)),
        ("2024-Q2", Period("quarter", 2024, 2)),
        ("2024-H1", Period("half_year", 2024, 1)),
        ("2024", Period("year", 2024)),
        (2024, Period("year", 2024)),
    ],
)
def test_parse_period(text: object, expected: Period):
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "2024-Q5",
        "2024-Q0",
        "2024-H3",
        "2024-13",
        "2024-00",
        "24-05",
        "May 2024",
        "",
        True,
        2024.0,
        None,
    ],
)
def test_parse_period_rejects_bad_labels(bad: object):
    with pytest.raises(ValueError):
        parse_period(bad)


@pytest.mark.parametrize(
    ("day", "every", "label"),
    [
        ("2024-03-31", "quarter", "2024-Q1"),  # last day of a quarter
        ("2024-04-01", "quarter", "2024-Q2"),
        ("2024-06-30", "quarter", "2024-Q2"),
        ("2024-07-01", "quarter", "2024-Q3"),
        ("2024-12-31", "quarter", "2024-Q4"),
        ("2024-02-29", "month", "2024-02"),
        ("2024-02-29", "quarter", "2024-Q1"),
        ("2024-02-29", "half_year", "2024-H1"),
        ("2024-02-29", "year", "2024"),
        ("2024-06-30", "half_year", "2024-H1"),
        ("2024-07-01", "half_year", "2024-H2"),
        ("2024-12-31", "year", "2024"),
        ("2025-01-01", "year", "2025"),
    ],
)
def test_period_of(day: str, every: str, label: str):
    p = period_of(d(day), every)
    assert p.label == label
    assert p.contains(d(day))


def test_containment_is_closed_at_both_ends():
    q2 = parse_period("2024-Q2")
    assert q2.contains(d("2024-04-01"))
    assert q2.contains(d("2024-06-30"))
    assert not q2.contains(d("2024-03-31"))
    assert not q2.contains(d("2024-07-01"))
    feb = parse_period("2024-02")
    assert feb.contains(d("2024-02-29"))
    assert not feb.contains(d("2024-03-01"))


@pytest.mark.parametrize(
    ("text", "day", "label"),
    [
        # 23:30Z on a quarter's last day is the next day, next quarter, in Shanghai
        ("2024-03-31T23:30:00Z", "2024-04-01", "2024-Q2"),
        ("2024-06-30T23:30:00Z", "2024-07-01", "2024-Q3"),
        ("2024-12-31T23:30:00Z", "2025-01-01", "2025-Q1"),
        ("2024-06-30T15:59:59Z", "2024-06-30", "2024-Q2"),
        ("2024-06-30T16:00:00Z", "2024-07-01", "2024-Q3"),
        ("2024-02-28T20:00:00Z", "2024-02-29", "2024-Q1"),
        ("2024-06-30T23:30:00", "2024-06-30", "2024-Q2"),  # naive: local already
        ("2024-06-30T23:30:00+08:00", "2024-06-30", "2024-Q2"),
        ("2024-06-30", "2024-06-30", "2024-Q2"),
    ],
)
def test_datetime_boundaries(text: str, day: str, label: str):
    local = parse_date(text, SHANGHAI)
    assert local == d(day)
    assert period_of(local, "quarter").label == label


def test_local_date_of_aware_datetime():
    from datetime import datetime
    from datetime import timezone as tz

    assert local_date(datetime(2024, 3, 31, 23, 30, tzinfo=tz.utc), SHANGHAI) == d("2024-04-01")
    assert local_date(datetime(2024, 3, 31, 23, 30), SHANGHAI) == d("2024-03-31")
    assert local_date(d("2024-03-31"), SHANGHAI) == d("2024-03-31")


@pytest.mark.parametrize(
    ("label", "day", "due"),
    [
        ("2024-05", None, "2024-05-31"),  # default: the period's last day
        ("2024-05", 20, "2024-05-20"),
        ("2024-05", 1, "2024-05-01"),
        ("2024-02", None, "2024-02-29"),
        ("2024-02", 20, "2024-02-20"),
        ("2024-02", 30, "2024-02-29"),  # day past the end: the last day
        ("2023-02", 29, "2023-02-28"),
        ("2024-Q2", None, "2024-06-30"),
        ("2024-Q2", 20, "2024-04-20"),  # day N of the period, counted from its first day
        ("2024-H2", None, "2024-12-31"),
        ("2025", None, "2025-12-31"),
    ],
)
def test_due_dates(label: str, day: int | None, due: str):
    assert parse_period(label).due(day) == d(due)


@pytest.mark.parametrize(
    ("start", "end", "every", "labels"),
    [
        ("2024-04-01", "2024-12-31", "quarter", ["2024-Q2", "2024-Q3", "2024-Q4"]),
        ("2024-05-15", "2024-11-30", "quarter", ["2024-Q3"]),  # partial periods left out
        ("2024-05-15", "2024-11-30", "month", [f"2024-{m:02d}" for m in range(6, 12)]),
        ("2024-01-01", "2024-06-29", "half_year", []),
        ("2024-01-01", "2024-06-30", "half_year", ["2024-H1"]),
        ("2024-01-02", "2025-12-31", "year", ["2025"]),
        ("2024-02-01", "2024-02-29", "month", ["2024-02"]),
        ("2024-02-01", "2024-02-28", "month", []),
        ("2024-06-30", "2024-06-30", "month", []),
        ("2024-07-01", "2024-06-30", "month", []),
    ],
)
def test_periods_within(start: str, end: str, every: str, labels: list[str]):
    assert [p.label for p in periods_within(d(start), d(end), every)] == labels


def test_periods_within_campaign_window():
    quarters = list(periods_within(d("2024-04-01"), d("2026-12-31"), "quarter"))
    assert len(quarters) == 11
    assert (quarters[0].label, quarters[-1].label) == ("2024-Q2", "2026-Q4")
    months = list(periods_within(d("2024-05-01"), d("2026-12-31"), "month"))
    assert len(months) == 32


def test_next_and_sort_key():
    assert Period("month", 2024, 12).next() == Period("month", 2025, 1)
    assert Period("quarter", 2024, 4).next() == Period("quarter", 2025, 1)
    assert Period("half_year", 2024, 1).next() == Period("half_year", 2024, 2)
    assert Period("year", 2024).next() == Period("year", 2025)
    labels = ["2025", "2024-Q2", "2024-04", "2024", "2024-H1", "2024-05"]
    ordered = sorted((parse_period(x) for x in labels), key=lambda p: p.sort_key)
    # chronological; at equal starts the shorter period first
    assert [p.label for p in ordered] == [
        "2024-H1",
        "2024",
        "2024-04",
        "2024-Q2",
        "2024-05",
        "2025",
    ]
    assert [p.start for p in ordered] == sorted(p.start for p in ordered)


# -- hypothesis properties --------------------------------------------------------------------

periods = st.sampled_from(EVERY).flatmap(
    lambda every: st.builds(
        Period,
        st.just(every),
        st.integers(min_value=1, max_value=9998),
        st.integers(min_value=1, max_value=COUNT[every]),
    )
)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@settings(max_examples=300, deadline=None)
@given(periods)
def test_label_parses_back_to_the_same_period(p: Period):
    assert parse_period(p.label) == p
    assert parse_period(p.label).label == p.label


@settings(max_examples=300, deadline=None)
@given(days, st.sampled_from(EVERY))
def test_period_of_contains_its_day(day: date, every: str):
    p = period_of(day, every)
    assert p.every == every
    assert p.contains(day)
    assert p.start <= day <= p.end


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=0, max_value=1200), st.sampled_from(EVERY))
def test_periods_within_are_consecutive_and_wholly_inside(start: date, length: int, every: str):
    end = start + timedelta(days=length)
    got = list(periods_within(start, end, every))
    for p in got:
        assert start <= p.start and p.end <= end
        assert p.every == every
    for a, b in pairwise(got):
        assert a.next() == b
        assert b.start == a.end + timedelta(days=1)
    # maximal: the periods just before and just after are not wholly inside
    if got:
        before = period_of(got[0].start - timedelta(days=1), every)
        assert before.start < start
        assert got[-1].next().end > end
    else:
        first = period_of(start, every)
        candidate = first if first.start >= start else first.next()
        assert candidate.end > end


# -- the year bounds (issue 17: mutants of 9998 survived) ------------------------------------


def test_years_1_to_9998_exist_and_no_others():
    assert Period("year", 1).start == date(1, 1, 1)
    assert Period("month", 9998, 12).end == date(9998, 12, 31)
    for bad in (0, 9999):
        with pytest.raises(ValueError):
            Period("year", bad)


@pytest.mark.parametrize("every", ["month", "quarter", "half_year", "year"])
def test_periods_within_stop_at_the_last_period_of_9998(every: str):
    got = list(periods_within(date(9998, 1, 1), date(9999, 12, 31), every))
    assert [p.label for p in got] == [p.label for p in got if p.year == 9998]
    assert len(got) == {"month": 12, "quarter": 4, "half_year": 2, "year": 1}[every]
    assert got[-1].end == date(9998, 12, 31)


# -- due dates in the following period (due: {day: N, of: next}) -----------------------------


@pytest.mark.parametrize(
    ("label", "day", "due"),
    [
        ("2024-05", 10, "2024-06-10"),
        ("2024-12", 10, "2025-01-10"),  # the last month: the next year's January
        ("2024-Q2", 15, "2024-07-15"),
        ("2024-Q4", 15, "2025-01-15"),
        ("2024-H1", 31, "2024-07-31"),
        ("2024-H2", 31, "2025-01-31"),
        ("2024", 31, "2025-01-31"),
        ("2024-01", 31, "2024-02-29"),  # past the end of the month it is counted in
        ("2024-Q1", 1, "2024-04-01"),
    ],
)
def test_due_dates_of_the_next_period(label: str, day: int, due: str):
    assert parse_period(label).due(day, of_next=True) == d(due)


def test_due_of_next_without_a_day_is_the_next_periods_last_day():
    assert Period("quarter", 2024, 2).due(None, of_next=True) == d("2024-09-30")
    assert Period("year", 9998).due(31, of_next=True) == d("9999-01-31")


@pytest.mark.parametrize(
    ("text", "ok"),
    [("1899-12-31", False), ("1900-01-01", True), ("9998-12-31", True), ("9999-01-01", False)],
)
def test_record_dates_are_years_1900_to_9998(text: str, ok: bool):
    zone = timezone("Asia/Shanghai")
    if ok:
        assert parse_date(text, zone) == d(text)
        assert check_year(d(text), text) == d(text)
    else:
        with pytest.raises(ValueError, match="outside 1900–9998"):
            parse_date(text, zone)
        with pytest.raises(ValueError, match="outside 1900–9998"):
            check_year(d(text), text)


# -- dates as people write them ----------------------------------------------------------------

SH = timezone("Asia/Shanghai")


@pytest.mark.parametrize(
    "text", ["2024-05-20", "2024/5/20", "2024.5.20", "2024年5月20日", "2024 年 5 月 20", "20240520"]
)
def test_written_date_forms(text: str):
    assert parse_date(text, SH) == d("2024-05-20")


def test_day_and_month_order_comes_from_the_map():
    assert parse_date("5/6/2024", SH, day_first=True) == d("2024-06-05")
    assert parse_date("5/6/2024", SH, day_first=False) == d("2024-05-06")
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("5/6/2024", SH)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("5/6/24", SH, day_first=True)  # the order is known, the century is not
    with pytest.raises(ValueError, match="two-digit year"):
        parse_date("24/5/6", SH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-20 10:30", "2024-05-20T10:30:00+08:00"),
        ("2024-05-20T10:30:15.5", "2024-05-20T10:30:15.500000+08:00"),
        ("2024-05-20T10:30:00+08", "2024-05-20T10:30:00+08:00"),
        ("2024-05-20T02:30:00+00:00", "2024-05-20T10:30:00+08:00"),
        ("2024-05-20T10:29:00+23:59", "2024-05-19T18:30:00+08:00"),
        ("2024-05-20T10:30:00-01:30", "2024-05-20T20:00:00+08:00"),
    ],
)
def test_written_datetimes(text: str, expected: str):
    got = parse_datetime(text, SH)
    assert got.isoformat() == expected


@pytest.mark.parametrize("offset", ["+24:00", "+08:60"])
def test_impossible_offsets_are_refused(offset: str):
    with pytest.raises(ValueError, match="time zone offset"):
        parse_datetime(f"2024-05-20T10:30:00{offset}", SH)
