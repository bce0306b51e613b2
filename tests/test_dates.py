"""SPEC §7: every date form, durations, DST-stable arithmetic, one-line errors, local_zone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from backlog.core.dates import (
    LazyZone,
    Duration, add_months, local_zone, localize, parse_date, parse_duration, period_bounds,
    same_local_day, shift, start_of_day,
)
from backlog.errors import BacklogError
from backlog.core.model import format_utc

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [UTC, NEW_YORK, BERLIN]


def at(wall: str, tz) -> datetime:
    """A fixed `now`: local wall time `wall` in `tz` (never ambiguous in these tests)."""
    return datetime.fromisoformat(wall).replace(tzinfo=tz)


def wall_of(moment: datetime, tz) -> str:
    return moment.astimezone(tz).replace(tzinfo=None).isoformat()


# Now is Tuesday 2026-11-24 10:14:53 local, in every zone; results are local wall times.
@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize("text, expected", [
    ("now", "2026-11-24T10:14:53"),
    ("today", "2026-11-24T00:00:00"),
    ("sod", "2026-11-24T00:00:00"),
    ("eod", "2026-11-24T23:59:59"),
    ("yesterday", "2026-11-23T00:00:00"),
    ("tomorrow", "2026-11-25T00:00:00"),
    ("sow", "2026-11-23T00:00:00"),            # weeks start Monday
    ("eow", "2026-11-29T23:59:59"),            # ... and end Sunday
    ("soww", "2026-11-23T00:00:00"),           # work week Mon-Fri
    ("eoww", "2026-11-27T23:59:59"),
    ("som", "2026-11-01T00:00:00"),
    ("eom", "2026-11-30T23:59:59"),
    ("soq", "2026-10-01T00:00:00"),
    ("eoq", "2026-12-31T23:59:59"),
    ("soy", "2026-01-01T00:00:00"),
    ("eoy", "2026-12-31T23:59:59"),
    ("monday", "2026-11-30T00:00:00"),
    ("tuesday", "2026-12-01T00:00:00"),        # today's weekday: strictly after today
    ("tue", "2026-12-01T00:00:00"),
    ("wednesday", "2026-11-25T00:00:00"),
    ("wed", "2026-11-25T00:00:00"),
    ("thu", "2026-11-26T00:00:00"),
    ("thurs", "2026-11-26T00:00:00"),
    ("fri", "2026-11-27T00:00:00"),
    ("saturday", "2026-11-28T00:00:00"),
    ("sun", "2026-11-29T00:00:00"),
    ("november", "2027-11-01T00:00:00"),       # the current month: next year's
    ("nov", "2027-11-01T00:00:00"),
    ("december", "2026-12-01T00:00:00"),
    ("jan", "2027-01-01T00:00:00"),
    ("october", "2027-10-01T00:00:00"),        # an earlier month: next year's
    ("sept", "2027-09-01T00:00:00"),
    ("1st", "2026-12-01T00:00:00"),
    ("2nd", "2026-12-02T00:00:00"),
    ("3rd", "2026-12-03T00:00:00"),
    ("11th", "2026-12-11T00:00:00"),
    ("21st", "2026-12-21T00:00:00"),
    ("24th", "2026-12-24T00:00:00"),           # today's day: strictly after today
    ("25th", "2026-11-25T00:00:00"),
    ("30th", "2026-11-30T00:00:00"),
    ("31st", "2026-11-30T00:00:00"),           # November's last day counts, no overflow
    ("3d", "2026-11-27T10:14:53"),             # a bare duration is now + duration
    ("+3d", "2026-11-27T10:14:53"),
    ("-3d", "2026-11-21T10:14:53"),
    ("2w", "2026-12-08T10:14:53"),
    ("+2wk", "2026-12-08T10:14:53"),
    ("3mo", "2027-02-24T10:14:53"),
    ("1q", "2027-02-24T10:14:53"),
    ("1y", "2027-11-24T10:14:53"),
    ("4h", "2026-11-24T14:14:53"),
    ("30min", "2026-11-24T10:44:53"),
    ("90s", "2026-11-24T10:16:23"),
    ("-1h30min", "2026-11-24T08:44:53"),
    ("P1D", "2026-11-25T10:14:53"),
    ("PT2H", "2026-11-24T12:14:53"),
    ("in 3 days", "2026-11-27T10:14:53"),
    ("in 2 weeks", "2026-12-08T10:14:53"),
    ("in 1 month", "2026-12-24T10:14:53"),
    ("next week", "2026-11-30T00:00:00"),      # sow + 7 days
    ("next friday", "2026-11-27T00:00:00"),    # = friday
    ("next tuesday", "2026-12-01T00:00:00"),
    ("next month", "2026-12-01T00:00:00"),     # som + 1 month
    ("next quarter", "2027-01-01T00:00:00"),
    ("next year", "2027-01-01T00:00:00"),      # soy + 1 year
    ("next november", "2027-11-01T00:00:00"),
    ("eom-1d", "2026-11-29T23:59:59"),
    ("eom - 1d", "2026-11-29T23:59:59"),       # spaces around the operator
    ("today+2w", "2026-12-08T00:00:00"),
    ("friday+1d", "2026-11-28T00:00:00"),
    ("2026-12-01+3d", "2026-12-04T00:00:00"),
    ("2026-12-01-3d", "2026-11-28T00:00:00"),
    ("today + 2w - 1d", "2026-12-07T00:00:00"),  # chained
    ("eom+1mo", "2026-12-30T23:59:59"),        # Nov 30 + 1 month keeps day 30
    ("tomorrow+4h", "2026-11-25T04:00:00"),
    ("2026-12-01", "2026-12-01T00:00:00"),     # a date alone is local midnight
    ("2026-12-01T09:00", "2026-12-01T09:00:00"),  # naive: local wall time
    ("2026-12-01 09:00:30", "2026-12-01T09:00:30"),
    ("2026-12-01T09:00:30.999", "2026-12-01T09:00:30"),  # fractions dropped
    ("20261201T090000", "2026-12-01T09:00:00"),  # Taskwarrior compact, local
    ("TOMORROW", "2026-11-25T00:00:00"),       # case-insensitive
    ("  Friday ", "2026-11-27T00:00:00"),
    ("EOM-1D", "2026-11-29T23:59:59"),
])
def test_parse_date_local_forms(text, expected, tz):
    now = at("2026-11-24T10:14:53", tz)
    result = parse_date(text, now, tz)
    assert result.tzinfo is not None
    assert wall_of(result, tz) == expected
    assert result == at(expected, tz)  # same instant, not only same wall time


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize("text, expected_utc", [
    ("2026-12-01T09:00Z", "2026-12-01T09:00:00Z"),
    ("2026-12-01T09:00:00z", "2026-12-01T09:00:00Z"),
    ("2026-12-01T09:00:00+02:00", "2026-12-01T07:00:00Z"),
    ("2026-12-01T09:00-0530", "2026-12-01T14:30:00Z"),
    ("2026-12-01T09:00+02", "2026-12-01T07:00:00Z"),
    ("20261201T090000Z", "2026-12-01T09:00:00Z"),        # Taskwarrior compact
    ("2026-12-01T09:00Z+1d", "2026-12-02T09:00:00Z"),   # math on an instant
    ("someday", "9999-12-30T00:00:00Z"),
    ("later", "9999-12-30T00:00:00Z"),
    ("SomeDay", "9999-12-30T00:00:00Z"),
])
def test_parse_date_instants(text, expected_utc, tz):
    assert format_utc(parse_date(text, at("2026-11-24T10:14:53", tz), tz)) == expected_utc


def test_now_is_the_exact_instant():
    now = datetime(2026, 11, 24, 15, 14, 53, 123456, tzinfo=timezone.utc)
    assert parse_date("now", now, NEW_YORK) == now


@pytest.mark.parametrize("now, text, expected", [
    ("2026-01-31T10:00:00", "31st", "2026-02-28T00:00:00"),  # today is the 31st: Feb clamps
    ("2028-01-31T10:00:00", "31st", "2028-02-29T00:00:00"),  # leap year
    ("2026-02-28T10:00:00", "30th", "2026-03-30T00:00:00"),  # Feb's last day is today
    ("2026-02-27T10:00:00", "30th", "2026-02-28T00:00:00"),  # Feb's last day counts
    ("2026-11-30T10:00:00", "31st", "2026-12-31T00:00:00"),
    ("2026-12-31T10:00:00", "1st", "2027-01-01T00:00:00"),   # across the year
    ("2026-12-15T10:00:00", "january", "2027-01-01T00:00:00"),
    ("2026-12-15T10:00:00", "december", "2027-12-01T00:00:00"),
    ("2026-12-15T10:00:00", "next month", "2027-01-01T00:00:00"),
    ("2026-11-29T10:00:00", "sow", "2026-11-23T00:00:00"),    # Sunday is in Monday's week
    ("2026-11-29T10:00:00", "monday", "2026-11-30T00:00:00"),
    ("2026-11-29T10:00:00", "next week", "2026-11-30T00:00:00"),
    ("2026-02-15T10:00:00", "eom", "2026-02-28T23:59:59"),
    ("2028-02-15T10:00:00", "eom", "2028-02-29T23:59:59"),
    ("2026-05-15T10:00:00", "soq", "2026-04-01T00:00:00"),
    ("2026-05-15T10:00:00", "eoq", "2026-06-30T23:59:59"),
    ("2026-01-31T10:00:00", "+1mo", "2026-02-28T10:00:00"),  # month math clamps
    ("2028-02-29T10:00:00", "+1y", "2029-02-28T10:00:00"),
])
def test_parse_date_calendar_edges(now, text, expected):
    assert wall_of(parse_date(text, at(now, UTC), UTC), UTC) == expected


# Europe/Berlin: 2026-03-29 02:00 → 03:00 (spring), 2026-10-25 03:00 → 02:00 (autumn);
# America/New_York: 2026-11-01 02:00 → 01:00.
@pytest.mark.parametrize("tz, now, text, expected", [
    (BERLIN, "2026-03-28T10:14:53", "tomorrow", "2026-03-29T00:00:00+01:00"),
    (BERLIN, "2026-03-28T10:14:53", "+1d", "2026-03-29T10:14:53+02:00"),   # wall kept, 23 h
    (BERLIN, "2026-03-28T10:14:53", "1d", "2026-03-29T10:14:53+02:00"),
    (BERLIN, "2026-03-28T10:14:53", "+24h", "2026-03-29T11:14:53+02:00"),  # hours elapse
    (BERLIN, "2026-03-28T10:14:53", "in 2 days", "2026-03-30T10:14:53+02:00"),
    (BERLIN, "2026-03-28T10:14:53", "eod", "2026-03-28T23:59:59+01:00"),
    (BERLIN, "2026-03-28T10:14:53", "sow", "2026-03-23T00:00:00+01:00"),
    (BERLIN, "2026-03-28T10:14:53", "eow", "2026-03-29T23:59:59+02:00"),
    (BERLIN, "2026-03-28T10:14:53", "next week", "2026-03-30T00:00:00+02:00"),
    (BERLIN, "2026-03-28T10:14:53", "monday", "2026-03-30T00:00:00+02:00"),
    (BERLIN, "2026-03-28T10:14:53", "tomorrow+10h", "2026-03-29T11:00:00+02:00"),  # 10 h elapsed
    (BERLIN, "2026-03-30T10:14:53", "-1d", "2026-03-29T10:14:53+02:00"),
    (BERLIN, "2026-03-30T10:14:53", "sow", "2026-03-30T00:00:00+02:00"),
    (BERLIN, "2026-03-28T02:30:00", "+1d", "2026-03-29T03:30:00+02:00"),   # 02:30 skipped: forward
    (BERLIN, "2026-03-28T10:00:00", "2026-03-29T02:30", "2026-03-29T03:30:00+02:00"),
    (BERLIN, "2026-03-28T10:00:00", "2026-10-25T02:30", "2026-10-25T02:30:00+02:00"),  # ambiguous: first
    (BERLIN, "2026-10-24T10:14:53", "+1d", "2026-10-25T10:14:53+01:00"),   # wall kept, 25 h
    (BERLIN, "2026-10-24T10:14:53", "tomorrow", "2026-10-25T00:00:00+02:00"),
    (BERLIN, "2026-10-24T10:14:53", "eod", "2026-10-24T23:59:59+02:00"),
    (BERLIN, "2026-10-24T10:14:53", "eow", "2026-10-25T23:59:59+01:00"),
    (BERLIN, "2026-10-24T10:14:53", "sow", "2026-10-19T00:00:00+02:00"),
    (BERLIN, "2026-10-24T10:14:53", "+1w", "2026-10-31T10:14:53+01:00"),
    (NEW_YORK, "2026-10-31T10:14:53", "+1d", "2026-11-01T10:14:53-05:00"),
    (NEW_YORK, "2026-10-31T10:14:53", "tomorrow", "2026-11-01T00:00:00-04:00"),
    (NEW_YORK, "2026-10-31T10:14:53", "eod+1d", "2026-11-01T23:59:59-05:00"),
    (NEW_YORK, "2026-10-31T10:14:53", "+1mo", "2026-11-30T10:14:53-05:00"),
    (NEW_YORK, "2026-03-07T10:14:53", "tomorrow", "2026-03-08T00:00:00-05:00"),
    (NEW_YORK, "2026-03-07T10:14:53", "+1d", "2026-03-08T10:14:53-04:00"),
])
def test_parse_date_keeps_wall_time_across_dst(tz, now, text, expected):
    assert parse_date(text, at(now, tz), tz).astimezone(tz).isoformat() == expected


_EXAMPLES = re.compile(r"; try '([^']+)', '([^']+)' or '([^']+)'$")


def read_error(text: str, tz=NEW_YORK, now: str = "2026-11-24T10:14:53") -> str:
    """The message of the error parse_date raises for `text`, after checking its shape."""
    moment = at(now, tz)
    with pytest.raises(BacklogError) as caught:
        parse_date(text, moment, tz, "due")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith("due: cannot read '")
    assert caught.value.param == "due"
    examples = _EXAMPLES.search(message)
    assert examples, message
    for example in examples.groups():  # every example offered really works
        parse_date(example, moment, tz)
    return message


@pytest.mark.parametrize("text, expected_fragment", [
    ("3", "(a number alone is not a date); try '+3d', '+3w' or '3rd'"),  # never 2001-03-01
    ("-3", "try '-3d', '-3w'"),
    ("1700000000", "a number alone is not a date"),          # no epoch guessing
    ("m", "'m' could be minutes or months"),
    ("3m", "try '+3min', '+3mo'"),
    ("+3m", "try '+3min', '+3mo'"),
    ("in 3m", "try 'in 3min', 'in 3mo'"),
    ("eom-1m", "try 'eom-1min', 'eom-1mo'"),
    ("2026-02-30", "(February 2026 has 28 days); try '2026-02-28'"),  # impossible date
    ("2028-02-30", "February 2028 has 29 days"),
    ("2026-04-31", "April 2026 has 30 days"),
    ("2026-13-01", "there is no month 13"),
    ("2026-00-10", "there is no month 00"),
    ("2026-12-01T25:00", "no such time of day"),
    ("2026-12-01T09:60", "no such time of day"),
    ("2026-12-01T09:00+25:00", "'+25:00' is not a UTC offset"),
    ("2026-12", "a date needs its day"),
    ("22th", "the ordinal is '22nd'"),
    ("1th", "try '1st'"),
    ("32nd", "no month has that day"),
    ("0th", "no month has that day"),
    ("tomorow", "try 'tomorrow'"),                          # misspelling → the word meant
    ("nxt week", "try 'next week'"),
    ("fridy", "try 'friday'"),
    ("1.5h", "use whole numbers"),
    ("3 dys", "unknown unit 'dys'"),
    ("10000y", "out of range"),
    ("0001-01-01", "out of range"),                         # before year 1 in UTC
    ("", "(empty)"),
    ("next", "cannot read 'next'"),
    ("friday+", "cannot read 'friday+'"),
    ("eom+3", "cannot read 'eom+3'"),
    ("2026-12-01T09", "cannot read '2026-12-01T09'"),
    ("yesterday tomorrow", "cannot read 'yesterday tomorrow'"),
    ("3 days ago", "cannot read '3 days ago'"),
    ("weekly", "cannot read 'weekly'"),                     # a period, not a date
])
def test_parse_date_errors_are_one_line_with_examples(text, expected_fragment):
    message = read_error(text, tz=ZoneInfo("Asia/Tokyo") if text == "0001-01-01" else NEW_YORK)
    assert expected_fragment in message


def test_parse_date_error_quotes_the_input_as_given():
    assert "cannot read 'TOMORROWW'" in read_error("TOMORROWW")


def test_parse_date_error_stays_one_line_for_control_characters():
    assert "cannot read 'tomorrow\\nnoon'" in read_error("tomorrow\nnoon")


def test_parse_date_error_shortens_long_input():
    message = read_error("x" * 500)
    assert len(message) < 200 and "xxx..." in message


def test_parse_date_rejects_a_naive_now():
    with pytest.raises(ValueError):
        parse_date("today", datetime(2026, 11, 24), UTC)


@pytest.mark.parametrize("text, expected", [
    ("3d", Duration(days=3)),
    ("3 days", Duration(days=3)),
    ("1 day", Duration(days=1)),
    ("2w", Duration(days=14)),
    ("2wk", Duration(days=14)),
    ("2 weeks", Duration(days=14)),
    ("3mo", Duration(months=3)),
    ("1 month", Duration(months=1)),
    ("1q", Duration(months=3)),
    ("1y", Duration(months=12)),
    ("2 years", Duration(months=24)),
    ("4h", Duration(seconds=4 * 3600)),
    ("30min", Duration(seconds=1800)),
    ("90s", Duration(seconds=90)),
    ("1h30min", Duration(seconds=5400)),           # compound
    ("1d 12h", Duration(days=1, seconds=43200)),
    ("36h", Duration(seconds=36 * 3600)),          # hours are never folded into days
    ("P1D", Duration(days=1)),
    ("PT2H", Duration(seconds=7200)),
    ("P2W", Duration(days=14)),
    ("PT30M", Duration(seconds=1800)),             # ISO: M after T is minutes
    ("P1M", Duration(months=1)),                   # ... before T months
    ("P1Y2M3DT4H5M6S", Duration(14, 3, 4 * 3600 + 5 * 60 + 6)),
    ("PT0S", Duration()),
    ("-2w", Duration(days=-14)),
    ("+3d", Duration(days=3)),
    ("  3D ", Duration(days=3)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text, expected_fragment", [
    ("m", "('m' could be minutes or months); try '1min', '1mo'"),
    ("3m", "try '3min', '3mo'"),
    ("3", "(a number needs a unit); try '3d', '3h' or '3w'"),
    ("P", "cannot read 'P'"),
    ("PT", "cannot read 'PT'"),
    ("P1DT", "cannot read 'P1DT'"),
    ("1.5h", "use whole numbers"),
    ("3 dys", "unknown unit 'dys'"),
    ("", "cannot read ''"),
    ("weekly", "cannot read 'weekly'"),            # periods belong to recur
    ("tomorrow", "cannot read 'tomorrow'"),
])
def test_parse_duration_errors(text, expected_fragment):
    with pytest.raises(BacklogError) as caught:
        parse_duration(text, "wait")
    message = str(caught.value)
    assert message.startswith(f"wait: cannot read '{text}'") and "\n" not in message
    assert expected_fragment in message
    for example in _EXAMPLES.search(message).groups():
        parse_duration(example)


@pytest.mark.parametrize("start, duration, expected", [
    ("2026-01-31T09:00:00+00:00", Duration(months=1), "2026-02-28T09:00:00+00:00"),
    ("2028-01-31T09:00:00+00:00", Duration(months=1), "2028-02-29T09:00:00+00:00"),
    ("2026-03-31T09:00:00+00:00", Duration(months=-1), "2026-02-28T09:00:00+00:00"),
    ("2026-12-15T09:00:00+00:00", Duration(months=2), "2027-02-15T09:00:00+00:00"),
    ("2026-01-01T00:00:00+00:00", Duration(days=-1), "2025-12-31T00:00:00+00:00"),
    ("2026-03-28T09:00:00+01:00", Duration(days=1, seconds=3600), "2026-03-29T10:00:00+02:00"),
])
def test_shift(start, duration, expected):
    tz = BERLIN if "+01:00" in start else UTC
    assert shift(datetime.fromisoformat(start), duration, tz).isoformat() == expected


def test_add_months_keeps_the_day_from_the_start():
    assert add_months(datetime(2026, 1, 31, 9), 2) == datetime(2026, 3, 31, 9)


@pytest.mark.parametrize("wall, expected", [
    ("2026-03-29T02:30:00", "2026-03-29T03:30:00+02:00"),  # nonexistent: moves forward
    ("2026-10-25T02:30:00", "2026-10-25T02:30:00+02:00"),  # ambiguous: the first one
    ("2026-07-01T12:00:00", "2026-07-01T12:00:00+02:00"),
])
def test_localize(wall, expected):
    assert localize(datetime.fromisoformat(wall), BERLIN).isoformat() == expected


@pytest.mark.parametrize("tz, unit, now, start, end", [
    (UTC, "day", "2026-11-24T10:14:53", "2026-11-24T00:00:00+00:00", "2026-11-25T00:00:00+00:00"),
    (UTC, "week", "2026-11-24T10:14:53", "2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00"),
    (UTC, "month", "2026-11-24T10:14:53", "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
    (UTC, "quarter", "2026-11-24T10:14:53", "2026-10-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),
    (UTC, "year", "2026-11-24T10:14:53", "2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),
    (UTC, "week", "2026-11-29T23:59:59", "2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00"),  # Sunday
    (BERLIN, "week", "2026-03-28T10:00:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    (BERLIN, "day", "2026-10-25T12:00:00", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),  # 25 h
    (NEW_YORK, "month", "2026-11-24T10:14:53", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
])
def test_period_bounds(tz, unit, now, start, end):
    assert tuple(b.isoformat() for b in period_bounds(unit, at(now, tz), tz)) == (start, end)


def test_period_bounds_rejects_an_unknown_unit():
    with pytest.raises(ValueError):
        period_bounds("fortnight", at("2026-11-24T10:14:53", UTC), UTC)


def test_start_of_day_is_local_midnight():
    moment = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Nov 24 22:00 in New York
    assert start_of_day(moment, NEW_YORK).isoformat() == "2026-11-24T00:00:00-05:00"
    assert start_of_day(moment, UTC).isoformat() == "2026-11-25T00:00:00+00:00"


@pytest.mark.parametrize("tz, expected", [(UTC, False), (NEW_YORK, True)], ids=str)
def test_same_local_day_depends_on_the_zone(tz, expected):
    late = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    morning = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    assert same_local_day(late, morning, tz) is expected


def offsets(zone) -> tuple[timedelta, timedelta]:
    """(January, July) UTC offsets: differ when the zone knows DST."""
    return tuple(datetime(2026, month, 1, 12, tzinfo=zone).utcoffset() for month in (1, 7))


@pytest.mark.parametrize("value, january, july", [
    ("Europe/Berlin", 1, 2),                         # IANA name, DST-aware
    (":Europe/Berlin", 1, 2),                        # libc's leading ':'
    ("America/New_York", -5, -4),
    ("UTC", 0, 0),
    ("", 0, 0),                                      # empty TZ is UTC, as in libc
    ("CET-1CEST,M3.5.0,M10.5.0/3", 1, 2),            # POSIX rule string
    ("EST5EDT", -5, -4),
    ("JST-9", 9, 9),                                 # POSIX: west of UTC is positive
    ("UTC+3", -3, -3),
])
def test_local_zone_honours_tz(value, january, july):
    assert offsets(local_zone({"TZ": value})) == (timedelta(hours=january), timedelta(hours=july))


def test_local_zone_keeps_the_iana_key():
    assert local_zone({"TZ": "Europe/Berlin"}) == ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("value", ["Europe/Berlinn", "Nowhere", "Europe", "../etc/passwd", "/no/such/file", "+3"])
def test_local_zone_rejects_an_unknown_tz(value):
    with pytest.raises(BacklogError) as caught:
        local_zone({"TZ": value})
    message = str(caught.value)
    assert message == f"TZ: '{value}' is not a known time zone; use an IANA name like 'Europe/Berlin'"


def test_local_zone_reads_a_tz_file_path():
    path = "/usr/share/zoneinfo/Asia/Tokyo"
    if not Path(path).exists():
        pytest.skip("no system zoneinfo")
    assert offsets(local_zone({"TZ": path})) == (timedelta(hours=9), timedelta(hours=9))


def test_local_zone_uses_the_localtime_symlink_name(tmp_path):
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/America/New_York")  # only the name is read
    assert local_zone({}, str(link)) == ZoneInfo("America/New_York")


def test_local_zone_reads_a_copied_localtime_file(tmp_path):
    source = Path("/usr/share/zoneinfo/Europe/Berlin")
    if not source.exists():
        pytest.skip("no system zoneinfo")
    copy = tmp_path / "localtime"
    shutil.copyfile(source, copy)
    assert offsets(local_zone({}, str(copy))) == (timedelta(hours=1), timedelta(hours=2))


def test_local_zone_falls_back_to_tzlocal(tmp_path):
    assert isinstance(local_zone({}, str(tmp_path / "missing")), dateutil_tz.tzlocal)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC", ""])
def test_a_lazy_zone_behaves_as_the_zone_itself(zone):
    env = {"TZ": zone}
    lazy, real = LazyZone(env), local_zone(env)
    start = datetime(2031, 3, 29, 23, 0, tzinfo=timezone.utc)  # across Berlin's spring and autumn changes
    for hours in range(0, 24 * 220, 7):
        utc = start + timedelta(hours=hours, minutes=30)
        a, b = utc.astimezone(lazy), utc.astimezone(real)
        assert (a.replace(tzinfo=None), a.fold, a.utcoffset(), a.dst(), a.tzname()) == (
            b.replace(tzinfo=None), b.fold, b.utcoffset(), b.dst(), b.tzname())
        assert a.astimezone(timezone.utc) == utc == b.astimezone(timezone.utc)
        for fold in (0, 1):  # a wall time as given (in a gap or twice)
            wall = a.replace(tzinfo=None, fold=fold)
            assert wall.replace(tzinfo=lazy).utcoffset() == wall.replace(tzinfo=real).utcoffset()


def test_a_lazy_zone_loads_nothing_until_used_and_refuses_an_unknown_zone_then():
    code = ("import sys; from backlog.core.dates import LazyZone; zone = LazyZone({'TZ': 'Europe/Berlin'});"
            "print('zoneinfo' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
    with pytest.raises(BacklogError, match="'Mars/Olympus' is not a known time zone"):
        datetime(2031, 1, 1, tzinfo=timezone.utc).astimezone(LazyZone({"TZ": "Mars/Olympus"}))
