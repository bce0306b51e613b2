"""The documented input limits (README "Limits"), in one place, and their one-line checks.

Every limit keeps the work a call can cause linear in its input and small enough to answer
in well under a second; going past one is a BacklogError `<param>: …; <fix>`, never a crash.
"""

from __future__ import annotations

from datetime import datetime, timezone

from backlog.errors import BacklogError, Fix

MAX_FILTER_CHARS = 10_000
MAX_FILTER_TERMS = 1_000  # terms and words, not counting operators and parentheses
MAX_FILTER_NESTING = 64  # levels opened by '(', 'not' and each 'xor' of a chain
MAX_EXTRA_BYTES = 64 * 1024  # UTF-8 bytes of `extra`
MAX_IMPORT_TASKS = 10_000  # task objects per task_import call
EARLIEST = datetime(1000, 1, 1, tzinfo=timezone.utc)  # earliest storable instant
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)  # latest storable instant (= `later`)
EARLIEST_STAMP, LATEST_STAMP = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (EARLIEST, LATEST))


def check_length(param: str, size: int, limit: int, unit: str, fix: Fix) -> None:
    """BacklogError when `size` (in `unit`) exceeds `limit`."""
    if size > limit:
        raise BacklogError(param, f"is {size:,} {unit}, the limit is {limit:,}", fix)


def check_instant(param: str, moment: datetime, shown: str) -> datetime:
    """`moment` when it lies within the storable range; BacklogError otherwise."""
    if not EARLIEST <= moment <= LATEST:
        raise BacklogError(param, f"'{shown}' is out of range",
                           "use a date from 1000-01-01 to 9999-12-30 ('later' is the last)")
    return moment
