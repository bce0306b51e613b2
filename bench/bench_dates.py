"""Microseconds per call of parse_date and occurrence_on_or_after (run by hand, not a test).

    .venv/bin/python bench/bench_dates.py
"""

from __future__ import annotations

import timeit
from datetime import datetime
from zoneinfo import ZoneInfo

from backlog.core.dates import parse_date
from backlog.core.recur import occurrence_on_or_after

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=TZ)
DATES = ("2026-12-01", "2026-12-01T09:00:00Z", "today", "eow", "friday", "31st", "+3d", "eom-1d", "next week")
ANCHOR = datetime(2006, 1, 31, 9, tzinfo=TZ)
PERIODS = ("daily", "weekdays", "2w", "monthly", "yearly")


def per_call(statement, number: int = 20_000) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6


def main() -> None:
    for text in DATES:
        print(f"parse_date {text!r:24} {per_call(lambda: parse_date(text, NOW, TZ)):6.2f} µs")
    for period in PERIODS:
        micros = per_call(lambda: occurrence_on_or_after(ANCHOR, period, NOW, TZ))
        print(f"occurrence {period!r:24} {micros:6.2f} µs (anchor 20 years back)")


if __name__ == "__main__":
    main()
