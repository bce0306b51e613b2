"""SPEC §8: periods, month-end clamping from the anchor, DST-stable steps, weekdays, old anchors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from backlog.core.dates import start_of_day
from backlog.errors import BacklogError
from backlog.core.recur import check_period, next_occurrence, occurrence_on_or_after

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(wall: str, tz=UTC) -> datetime:
    return datetime.fromisoformat(wall).replace(tzinfo=tz)


@pytest.mark.parametrize("text, stored", [
    ("daily", "daily"),
    ("weekdays", "weekdays"),
    ("weekly", "weekly"),
    ("biweekly", "biweekly"),
    ("fortnight", "biweekly"),          # synonyms are stored under one name
    ("monthly", "monthly"),
    ("bimonthly", "bimonthly"),
    ("quarterly", "quarterly"),
    ("semiannual", "semiannual"),
    ("yearly", "yearly"),
    ("annual", "yearly"),
    ("biannual", "biannual"),
    ("biyearly", "biannual"),
    ("week", "weekly"),                 # a unit alone is one of it
    ("  Weekly ", "weekly"),            # case and blanks do not matter
    ("3d", "3d"),
    ("2w", "2w"),
    ("2wk", "2w"),
    ("2 weeks", "2w"),
    ("6mo", "6mo"),
    ("3 months", "3mo"),
    ("1q", "1q"),
    ("1y", "1y"),
    ("10 years", "10y"),
    ("1D", "1d"),
])
def test_check_period_normalises(text, stored):
    assert check_period(text) == stored


def test_a_stored_period_checks_as_itself():
    for text in ("daily", "weekdays", "biweekly", "yearly", "biannual", "3d", "2w", "6mo", "1q", "1y"):
        assert check_period(check_period(text)) == check_period(text)


@pytest.mark.parametrize("text, reason", [
    ("0d", " (the count must be at least 1)"),
    ("-1w", " (the count must be at least 1)"),
    ("4h", " (periods are at least a day)"),         # sub-day periods are refused
    ("30min", " (periods are at least a day)"),
    ("hourly", " (periods are at least a day)"),
    ("3m", " ('m' could be minutes or months; months are 'mo')"),
    ("3", " (a period needs a unit)"),
    ("sometimes", ""),
    ("every day", ""),
    ("P1D", ""),
    ("", ""),
])
def test_check_period_refuses(text, reason):
    with pytest.raises(BacklogError) as caught:
        check_period(text)
    assert str(caught.value) == (
        f"recur: '{text}' is not a recurrence period{reason}; use daily, weekdays, weekly, biweekly, "
        "monthly, quarterly, semiannual, yearly, biannual or N+unit like '3d', '2w', '6mo', '1y'"
    )


# (anchor, period, moment, expected) in UTC.
@pytest.mark.parametrize("anchor, period, moment, expected", [
    ("2026-11-20T09:00", "daily", "2026-11-24T00:00", "2026-11-24T09:00"),
    ("2026-11-20T09:00", "daily", "2026-11-24T09:00", "2026-11-24T09:00"),      # on: included
    ("2026-11-20T09:00", "daily", "2026-11-24T09:00:01", "2026-11-25T09:00"),
    ("2026-11-20T09:00", "daily", "2026-11-01T00:00", "2026-11-20T09:00"),      # before: the anchor
    ("2026-11-20T09:00", "daily", "2026-11-20T09:00", "2026-11-20T09:00"),      # k = 0
    ("2026-11-20T09:00", "weekly", "2026-11-24T00:00", "2026-11-27T09:00"),
    ("2026-11-06T09:00", "biweekly", "2026-11-24T00:00", "2026-12-04T09:00"),
    ("2026-11-06T09:00", "fortnight", "2026-11-20T09:00", "2026-11-20T09:00"),
    ("2026-11-20T09:00", "3d", "2026-11-24T00:00", "2026-11-26T09:00"),
    ("2026-11-20T09:00", "2w", "2026-11-24T00:00", "2026-12-04T09:00"),
    ("2026-01-31T09:00", "monthly", "2026-02-01T00:00", "2026-02-28T09:00"),    # clamp
    ("2026-01-31T09:00", "monthly", "2026-03-01T00:00", "2026-03-31T09:00"),    # ... no drift
    ("2026-01-31T09:00", "monthly", "2026-04-01T00:00", "2026-04-30T09:00"),
    ("2026-01-31T09:00", "monthly", "2026-05-01T00:00", "2026-05-31T09:00"),
    ("2028-01-31T09:00", "monthly", "2028-02-01T00:00", "2028-02-29T09:00"),    # leap year
    ("2028-01-31T09:00", "monthly", "2028-03-01T00:00", "2028-03-31T09:00"),
    ("2027-12-31T09:00", "monthly", "2028-02-01T00:00", "2028-02-29T09:00"),
    ("2026-01-31T09:00", "bimonthly", "2026-02-01T00:00", "2026-03-31T09:00"),
    ("2026-01-31T09:00", "quarterly", "2026-02-01T00:00", "2026-04-30T09:00"),
    ("2026-01-31T09:00", "quarterly", "2026-05-01T00:00", "2026-07-31T09:00"),
    ("2026-01-31T09:00", "1q", "2026-05-01T00:00", "2026-07-31T09:00"),
    ("2026-08-31T09:00", "semiannual", "2026-09-01T00:00", "2027-02-28T09:00"),
    ("2026-08-31T09:00", "semiannual", "2027-03-01T00:00", "2027-08-31T09:00"),
    ("2026-08-31T09:00", "6mo", "2027-03-01T00:00", "2027-08-31T09:00"),
    ("2026-05-31T09:00", "3mo", "2026-06-01T00:00", "2026-08-31T09:00"),
    ("2028-02-29T09:00", "yearly", "2028-03-01T00:00", "2029-02-28T09:00"),     # Feb 29 anchor
    ("2028-02-29T09:00", "yearly", "2029-03-01T00:00", "2030-02-28T09:00"),
    ("2028-02-29T09:00", "annual", "2031-03-01T00:00", "2032-02-29T09:00"),     # back to the 29th
    ("2028-02-29T09:00", "1y", "2031-03-01T00:00", "2032-02-29T09:00"),
    ("2024-02-29T09:00", "biannual", "2024-03-01T00:00", "2026-02-28T09:00"),
    ("2024-02-29T09:00", "biyearly", "2026-03-01T00:00", "2028-02-29T09:00"),
    ("2026-11-20T09:00", "weekdays", "2026-11-21T00:00", "2026-11-23T09:00"),   # Fri → Mon
    ("2026-11-20T09:00", "weekdays", "2026-11-20T09:00:01", "2026-11-23T09:00"),
    ("2026-11-20T09:00", "weekdays", "2026-11-23T09:00:01", "2026-11-24T09:00"),
    ("2026-11-20T09:00", "weekdays", "2026-11-26T08:00", "2026-11-26T09:00"),
    ("2026-11-20T09:00", "weekdays", "2026-11-01T00:00", "2026-11-20T09:00"),   # before: the anchor
    ("2026-11-21T09:00", "weekdays", "2026-11-01T00:00", "2026-11-23T09:00"),   # Sat anchor → Mon
    ("2026-11-22T09:00", "weekdays", "2026-11-22T10:00", "2026-11-23T09:00"),   # Sun anchor → Mon
])
def test_occurrence_on_or_after(anchor, period, moment, expected):
    assert occurrence_on_or_after(at(anchor), period, at(moment), UTC) == at(expected)


# Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00;
# America/New_York: 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00.
@pytest.mark.parametrize("tz, anchor, period, moment, expected", [
    (BERLIN, "2026-03-27T09:00", "daily", "2026-03-29T00:00", "2026-03-29T09:00:00+02:00"),
    (BERLIN, "2026-03-27T09:00", "daily", "2026-03-30T00:00", "2026-03-30T09:00:00+02:00"),
    (BERLIN, "2026-03-20T09:00", "weekly", "2026-03-24T00:00", "2026-03-27T09:00:00+01:00"),
    (BERLIN, "2026-03-20T09:00", "weekly", "2026-03-28T00:00", "2026-04-03T09:00:00+02:00"),
    (BERLIN, "2026-10-20T09:00", "weekly", "2026-10-26T00:00", "2026-10-27T09:00:00+01:00"),
    (BERLIN, "2026-10-23T09:00", "weekdays", "2026-10-24T00:00", "2026-10-26T09:00:00+01:00"),
    (BERLIN, "2026-02-28T09:00", "monthly", "2026-03-29T12:00", "2026-04-28T09:00:00+02:00"),
    (BERLIN, "2026-03-27T02:30", "daily", "2026-03-29T00:00", "2026-03-29T03:30:00+02:00"),  # gap: forward
    (BERLIN, "2026-03-27T02:30", "daily", "2026-03-29T04:00", "2026-03-30T02:30:00+02:00"),  # then back
    (BERLIN, "2026-03-27T02:30", "daily", "2026-03-29T03:10", "2026-03-29T03:30:00+02:00"),  # moved one counts
    (BERLIN, "2026-10-23T02:30", "daily", "2026-10-25T00:00", "2026-10-25T02:30:00+02:00"),  # fold: first
    (NEW_YORK, "2026-10-30T09:00", "daily", "2026-11-01T00:00", "2026-11-01T09:00:00-05:00"),
    (NEW_YORK, "2026-03-06T09:00", "daily", "2026-03-08T00:00", "2026-03-08T09:00:00-04:00"),
    (NEW_YORK, "2026-10-30T23:30", "daily", "2026-11-01T00:00", "2026-11-01T23:30:00-05:00"),
])
def test_occurrences_keep_local_wall_time_across_dst(tz, anchor, period, moment, expected):
    assert occurrence_on_or_after(at(anchor, tz), period, at(moment, tz), tz).isoformat() == expected


# An anchor 20 years back: O(1) estimate, exact answer. Now is Tue 2026-11-24 10:14:53.
@pytest.mark.parametrize("anchor, period, expected", [
    ("2006-11-24T09:00", "daily", "2026-11-25T09:00:00-05:00"),     # today's 09:00 has passed
    ("2006-11-24T11:00", "daily", "2026-11-24T11:00:00-05:00"),
    ("2006-11-23T09:00", "weekly", "2026-11-26T09:00:00-05:00"),    # a Thursday
    ("2006-11-23T09:00", "biweekly", "2026-11-26T09:00:00-05:00"),  # 1044 weeks: even
    ("2006-11-30T09:00", "biweekly", "2026-12-03T09:00:00-05:00"),  # 1043 weeks: odd, skip one
    ("2006-11-24T09:00", "3d", "2026-11-27T09:00:00-05:00"),        # 7305 days = 3 * 2435
    ("2006-11-24T09:00", "weekdays", "2026-11-25T09:00:00-05:00"),
    ("2006-01-31T09:00", "monthly", "2026-11-30T09:00:00-05:00"),   # November clamps to 30
    ("2006-01-31T09:00", "quarterly", "2027-01-31T09:00:00-05:00"),
    ("2006-01-31T09:00", "yearly", "2027-01-31T09:00:00-05:00"),
    ("2006-12-01T09:00", "yearly", "2026-12-01T09:00:00-05:00"),
])
def test_an_anchor_years_back_gives_the_exact_occurrence(anchor, period, expected):
    moment = at("2026-11-24T10:14:53", NEW_YORK)
    assert occurrence_on_or_after(at(anchor, NEW_YORK), period, moment, NEW_YORK).isoformat() == expected


def expected_occurrences(anchor: datetime, period: str, count: int, tz) -> list[datetime]:
    """An independent oracle: anchor + k·period with relativedelta on local wall time."""
    step = {"daily": relativedelta(days=1), "weekly": relativedelta(weeks=1),
            "3d": relativedelta(days=3), "monthly": relativedelta(months=1),
            "quarterly": relativedelta(months=3), "yearly": relativedelta(years=1)}[period]
    wall = anchor.replace(tzinfo=None)
    return [(wall + step * k).replace(tzinfo=tz) for k in range(count)]


@pytest.mark.parametrize("tz", [UTC, BERLIN, NEW_YORK], ids=str)
@pytest.mark.parametrize("period", ["daily", "weekly", "3d", "monthly", "quarterly", "yearly"])
def test_next_occurrence_walks_the_oracle_sequence(period, tz):
    anchor = at("2027-10-31T09:00", tz)
    walked = [anchor]
    for _ in range(59):
        walked.append(next_occurrence(anchor, period, walked[-1], tz))
    assert walked == expected_occurrences(anchor, period, 60, tz)


def test_weekdays_walk_skips_weekends():
    anchor = at("2026-11-19T09:00")  # Thursday
    walked = [anchor]
    for _ in range(7):
        walked.append(next_occurrence(anchor, "weekdays", walked[-1], UTC))
    assert [d.strftime("%a %d") for d in walked] == [
        "Thu 19", "Fri 20", "Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Mon 30",
    ]


def test_next_occurrence_is_strictly_after():
    anchor = at("2026-11-20T09:00")
    assert next_occurrence(anchor, "daily", anchor, UTC) == at("2026-11-21T09:00")
    assert next_occurrence(anchor, "daily", at("2026-11-21T08:59:59"), UTC) == at("2026-11-21T09:00")


def test_engine_formula_skips_past_periods():
    """First instance of an old template = the first occurrence on or after today (no back-fill)."""
    anchor, now = at("2026-01-05T09:00", NEW_YORK), at("2026-11-24T10:14:53", NEW_YORK)
    first = occurrence_on_or_after(anchor, "weekly", max(anchor, start_of_day(now, NEW_YORK)), NEW_YORK)
    assert first.isoformat() == "2026-11-30T09:00:00-05:00"  # Monday; Nov 23 is already past
    following = occurrence_on_or_after(
        anchor, "weekly", max(first + timedelta(seconds=1), start_of_day(now, NEW_YORK)), NEW_YORK,
    )
    assert following.isoformat() == "2026-12-07T09:00:00-05:00"


def test_check_period_error_stays_one_line():
    with pytest.raises(BacklogError) as caught:
        check_period("every\nday")
    assert str(caught.value).startswith("recur: 'every day' is not a recurrence period;")


def test_occurrence_accepts_synonyms_and_rejects_bad_periods():
    anchor = at("2026-11-20T09:00")
    assert occurrence_on_or_after(anchor, "Fortnight", at("2026-11-21T00:00"), UTC) == at("2026-12-04T09:00")
    with pytest.raises(BacklogError, match="^recur: 'often' is not a recurrence period"):
        occurrence_on_or_after(anchor, "often", anchor, UTC)


def test_occurrence_beyond_year_9999_is_an_error():
    anchor = at("9999-12-30T00:00")
    with pytest.raises(BacklogError, match="^recur: no 'daily' occurrence after 9999-12-31"):
        next_occurrence(anchor, "daily", at("9999-12-31T00:00"), UTC)
