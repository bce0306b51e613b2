"""The pure pieces of how tasks look: states and relative dates (core.display), display widths, the colour choice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backlog.cli import look
from backlog.core import display
from backlog.errors import BacklogError
from tests.conftest import NOW


def stamp(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("delta, text", [
    (timedelta(seconds=30), "now"),                  # under a minute either way
    (timedelta(seconds=-59), "now"),
    (timedelta(minutes=5), "in 5min"),
    (timedelta(hours=-2, minutes=-59), "2h ago"),    # whole units, rounded down
    (timedelta(days=3, hours=1), "in 3d"),
    (timedelta(days=-2), "2d ago"),
    (timedelta(days=15), "in 2w"),
    (timedelta(days=-75), "2mo ago"),
    (timedelta(days=800), "in 2y"),
])
def test_relative_dates(delta, text):
    assert display.relative(NOW + delta, NOW) == text


@pytest.mark.parametrize("task, expected", [
    ({"status": "pending", "due": stamp(timedelta(days=-1))}, ["overdue"]),
    ({"status": "pending", "due": stamp(timedelta(days=6)), "start": stamp(timedelta(0))}, ["active", "due soon"]),
    ({"status": "pending", "due": stamp(timedelta(days=8))}, []),                  # beyond Taskwarrior's rc.due=7
    ({"status": "completed", "due": stamp(timedelta(days=-1)), "start": "x"}, []),  # done: no states
    ({"status": "pending", "depends": [3]}, ["blocked"]),
    ({"status": "waiting", "wait": stamp(timedelta(days=2))}, ["waiting"]),
    ({"status": "pending", "wait": stamp(timedelta(days=-2))}, []),                # the wait has passed
])
def test_states_in_precedence_order(task, expected):
    assert display.states(task, NOW, blocked=lambda row: True) == expected


def test_blocked_needs_an_open_dependency():
    assert display.states({"status": "pending", "depends": [3]}, NOW, blocked=lambda row: False) == []


@pytest.mark.parametrize("text, columns", [
    ("abc", 3), ("修复", 4), ("e\u0301t\u00e9", 3),  # a combining accent takes no column
    ("\u200bx", 1),                                      # nor a zero-width space
    ("ｘ", 2),                                           # fullwidth Latin
])
def test_display_width(text, columns):
    assert look.width(text) == columns


def test_fit_pads_and_cuts_by_columns():
    assert look.fit("修复登录", 10) == "修复登录  "
    assert look.fit("修复登录", 6) == "修复… "   # never half a wide character
    assert look.width(look.fit("修复登录", 6)) == 6


@pytest.mark.parametrize("choice, env, tty, colour", [
    (None, {}, True, True),
    (None, {}, False, False),
    (None, {"NO_COLOR": "1"}, True, False),
    (None, {"NO_COLOR": ""}, True, True),      # NO_COLOR counts only when not empty
    (None, {"TERM": "dumb"}, True, False),
    ("always", {"NO_COLOR": "1"}, False, True),  # the flag wins over the environment
    ("never", {}, True, False),
])
def test_use_color(choice, env, tty, colour):
    assert look.use_color(choice, env, tty) is colour


def test_use_color_refuses_other_choices():
    with pytest.raises(BacklogError, match="--color: 'yes' is not a choice"):
        look.use_color("yes", {}, True)
