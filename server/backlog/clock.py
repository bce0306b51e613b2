"""The clock of every entry point: now in UTC, or the instant BACKLOG_NOW pins (a test seam).

Its own small module so that a hook answering from the summary reads the clock without
importing the engine (`backlog.runtime` builds a whole Backlog).
"""

from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import Callable, Mapping

from backlog.errors import BacklogError


def utc_now() -> datetime:
    """The clock of every entry point: now, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def clock_from_env(env: Mapping[str, str]) -> Callable[[], datetime]:
    """`utc_now`, or a clock stopped at BACKLOG_NOW when it is set (tests pin "now" with it).

    Raises BacklogError("BACKLOG_NOW", …) for a value that is not an ISO instant with an offset.
    """
    value = env.get("BACKLOG_NOW", "")
    if not value:
        return utc_now
    text = value[:-1] + "+00:00" if value[-1:] in "Zz" else value
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise BacklogError("BACKLOG_NOW", f"'{value}' is not an ISO instant with an offset",
                           "use e.g. 2031-10-26T00:30:00Z or 2031-10-26T02:30:00+02:00, or unset it")
    fixed = instant.astimezone(timezone.utc).replace(microsecond=0)
    return lambda: fixed
