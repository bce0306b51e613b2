"""Recurrence periods and their occurrences (SPEC §8): pure, the zone passed in.

- `check_period(text)`: the normalised period as stored, or BacklogError("recur", …).
- `occurrence_on_or_after(anchor, period, moment, tz)`: the first occurrence ≥ `moment`.
- `next_occurrence(anchor, period, after, tz)`: the first occurrence > `after`.

Occurrence k (k ≥ 0) is computed from the anchor, never from the previous occurrence, so
month steps clamp per occurrence and never drift (Jan 31 monthly: Feb 28/29, Mar 31, Apr 30).
Day and week steps move the anchor's local wall-clock time (09:00 stays 09:00 across DST);
an occurrence at a wall time skipped by DST moves forward by the gap, an ambiguous one takes
the first instant (see `dates.localize`). `weekdays` occurs Mon–Fri at the anchor's wall time
on or after the anchor's day (an anchor on a Saturday first occurs on Monday). Finding an
occurrence costs O(1) however old the anchor is.

Decisions where SPEC §8 is silent: synonyms are stored under one name (fortnight → biweekly,
annual → yearly, biyearly → biannual, a unit alone like `week` → weekly); `bimonthly` is
every 2 months; `N unit` is stored compact (`2 weeks` → `2w`, `3 months` → `3mo`, `1 year`
→ `1y`); the count must be ≥ 1; periods shorter than a day (`4h`, `hourly`) are refused,
because instances are generated per day (SPEC §8 "on or after today").
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from collections.abc import Mapping

from backlog.core.dates import UNITS, add_months, localize
from backlog.core.patterns import Pattern
from backlog.errors import BacklogError

# Stored name → (months, days) per step; `weekdays` is handled on its own.
NAMED_PERIODS: Mapping[str, tuple[int, int]] = {
    "daily": (0, 1), "weekdays": (0, 1), "weekly": (0, 7), "biweekly": (0, 14),
    "monthly": (1, 0), "bimonthly": (2, 0), "quarterly": (3, 0), "semiannual": (6, 0),
    "yearly": (12, 0), "biannual": (24, 0),
}
_SYNONYMS: Mapping[str, str] = {
    "fortnight": "biweekly", "fortnightly": "biweekly", "annual": "yearly", "annually": "yearly",
    "biyearly": "biannual", "day": "daily", "week": "weekly", "month": "monthly",
    "quarter": "quarterly", "year": "yearly",
}
_COUNTED = Pattern(r"([+-]?\d+) ?([a-z]+)")
_STORED = Pattern(r"(\d+)(d|w|mo|q|y)")
_FIX = (
    "use daily, weekdays, weekly, biweekly, monthly, quarterly, semiannual, yearly, biannual "
    "or N+unit like '3d', '2w', '6mo', '1y'"
)


def _refuse(text: str, why: str = "") -> BacklogError:
    return BacklogError("recur", f"'{' '.join(text.split())}' is not a recurrence period{why}", _FIX)


def check_period(text: str) -> str:
    """The period as stored (`weekly`, `3d`, `6mo`…); BacklogError naming `recur` if it is not one."""
    norm = " ".join(text.lower().split())
    if norm in NAMED_PERIODS:
        return norm
    if norm in _SYNONYMS:
        return _SYNONYMS[norm]
    match = _COUNTED.fullmatch(norm)
    unit = UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        if norm.lstrip("+-").isdigit():
            raise _refuse(text, " (a period needs a unit)")
        if match and match.group(2) == "m":
            raise _refuse(text, " ('m' could be minutes or months; months are 'mo')")
        if norm in ("hourly", "minutely"):
            raise _refuse(text, " (periods are at least a day)")
        raise _refuse(text)
    count = int(match.group(1))
    if count < 1:
        raise _refuse(text, " (the count must be at least 1)")
    if unit[1] == "seconds":
        raise _refuse(text, " (periods are at least a day)")
    return f"{count}{unit[0]}"


def _step(period: str) -> tuple[int, int]:
    """(months, days) of one step of a stored period."""
    if period in NAMED_PERIODS:
        return NAMED_PERIODS[period]
    match = _STORED.fullmatch(period)
    assert match, period
    count, unit = int(match.group(1)), UNITS[match.group(2)]
    return (count * unit[2], 0) if unit[1] == "months" else (0, count * unit[2])


def occurrence_on_or_after(anchor: datetime, period: str, moment: datetime, tz: tzinfo) -> datetime:
    """The first occurrence `anchor + k·period` (k ≥ 0) that is ≥ `moment`, aware in `tz`.

    Raises BacklogError("recur", …) for an invalid period or when that occurrence would
    fall after the year 9999.
    """
    period = check_period(period)
    first = anchor.astimezone(tz)
    wall = first.replace(tzinfo=None)
    target = moment.astimezone(tz).replace(tzinfo=None)
    try:
        if period == "weekdays":
            return _weekday_on_or_after(first, moment, target, tz)
        months, days = _step(period)
        if months:
            k = ((target.year - wall.year) * 12 + target.month - wall.month) // months
        else:
            k = -((wall - target) // timedelta(days=days))  # ceiling of the elapsed steps

        def at(k: int) -> datetime:
            if k == 0:
                return first
            return localize(add_months(wall, k * months) if months else wall + timedelta(days=k * days), tz)

        k = max(k, 0)
        while k > 0 and at(k - 1) >= moment:
            k -= 1
        while at(k) < moment:
            k += 1
        return at(k)
    except (OverflowError, ValueError):
        raise BacklogError(
            "recur", f"no '{period}' occurrence after {moment:%Y-%m-%d} fits before the year 10000",
            "give the task an earlier due date or an until date",
        ) from None


def _weekday_on_or_after(first: datetime, moment: datetime, target: datetime, tz: tzinfo) -> datetime:
    """The first Mon–Fri at `first`'s wall time, on or after `first`'s day, that is ≥ `moment`."""
    day = max(first.date(), target.date())
    while True:
        if day.weekday() < 5:
            candidate = first if day == first.date() else localize(datetime.combine(day, first.time()), tz)
            if candidate >= moment:
                return candidate
        day += timedelta(days=1)


def next_occurrence(anchor: datetime, period: str, after: datetime, tz: tzinfo) -> datetime:
    """The first occurrence strictly after `after` (see occurrence_on_or_after)."""
    return occurrence_on_or_after(anchor, period, after + timedelta(microseconds=1), tz)
