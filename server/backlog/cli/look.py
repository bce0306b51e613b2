"""How a task looks on a terminal (pure): the colour of each state, display widths.

The states themselves and relative dates are `backlog.core.display` (the board shows the
same). A row takes the colour of its first state. Widths count East Asian wide characters as
two columns and combining marks as none, so CJK text stays aligned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from backlog.core.display import STATE_NAMES
from backlog.errors import BacklogError

# state → ANSI SGR parameters of its row
STATES = dict(zip(STATE_NAMES, ("31", "32", "33", "35", "2")))
HEADER = "1;4"
COLOR_CHOICES = ("auto", "always", "never")


def use_color(choice: object, env: Mapping[str, str], tty: bool) -> bool:
    """Whether to colour: `--color=always|never` decide; `auto` (the default) colours a terminal
    unless NO_COLOR is set (non-empty) or TERM is `dumb`. BacklogError for another choice."""
    choice = "auto" if choice is None else choice
    if choice not in COLOR_CHOICES:
        raise BacklogError("--color", f"'{choice}' is not a choice", "use --color=auto, --color=always or --color=never")
    if choice != "auto":
        return choice == "always"
    return tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def paint(text: str, sgr: str | None) -> str:
    """`text` wrapped in the ANSI colour `sgr` (unchanged for None)."""
    return text if not sgr else f"\x1b[{sgr}m{text}\x1b[0m"


def width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (W, F) characters two, combining and format characters none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf")
               else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns`, or cut to `columns - 1` and ended with `…`."""
    size = width(text)
    if size <= columns:
        return text + " " * (columns - size)
    out, used = [], 0
    for c in text:
        w = width(c)
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…" + " " * (columns - 1 - used)
