"""The entry points' clock (`runtime.clock_from_env`): the real one, or BACKLOG_NOW's instant."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backlog.errors import BacklogError
from backlog.runtime import clock_from_env


@pytest.mark.parametrize("value, expected", [
    ("2031-10-26T00:30:00Z", datetime(2031, 10, 26, 0, 30, tzinfo=timezone.utc)),
    ("2031-10-26T02:30:00+02:00", datetime(2031, 10, 26, 0, 30, tzinfo=timezone.utc)),  # Berlin's first 02:30
    ("2031-10-26T02:30:00+01:00", datetime(2031, 10, 26, 1, 30, tzinfo=timezone.utc)),  # and its second
    ("2028-02-29T23:59:59.900-05:00", datetime(2028, 3, 1, 4, 59, 59, tzinfo=timezone.utc)),  # to the second
])
def test_backlog_now_stops_the_clock_at_its_instant(value, expected):
    clock = clock_from_env({"BACKLOG_NOW": value})
    assert clock() == clock() == expected
    assert clock().tzinfo == timezone.utc


@pytest.mark.parametrize("value", [
    "2031-10-26",           # a day, not an instant
    "2031-10-26T02:30:00",  # no offset: whose 02:30?
    "tomorrow",
    "1950744600",           # epoch seconds
])
def test_a_bad_backlog_now_is_one_line_naming_the_form(value):
    with pytest.raises(BacklogError) as err:
        clock_from_env({"BACKLOG_NOW": value})
    assert str(err.value) == (f"BACKLOG_NOW: '{value}' is not an ISO instant with an offset; "
                              "use e.g. 2031-10-26T00:30:00Z or 2031-10-26T02:30:00+02:00, or unset it")


@pytest.mark.wallclock
@pytest.mark.parametrize("env", [{}, {"BACKLOG_NOW": ""}], ids=["unset", "empty"])
def test_without_backlog_now_the_clock_is_the_real_one(env):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    now = clock_from_env(env)()
    assert before <= now <= datetime.now(timezone.utc) and now.tzinfo == timezone.utc
