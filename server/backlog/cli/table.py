"""Rendering rows for people: an aligned table on a terminal, tab-separated lines when piped (pure).

A table is cut to the terminal width (the last column shrinks, wide characters counted as
two columns); piped output is never cut, one row per line, cells separated by tabs, so
`backlog list | grep word` sees every row, with dates as local days.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from backlog.cli import look
from backlog.core import display
from backlog.core.display import local_time
from backlog.core.model import DATE_FIELDS, parse_utc
from backlog.core.value import Value
from backlog.store.sealed import plain_dumps

# The columns of `list` when no --fields is given: (field, header), shown when some row has it.
DEFAULT_COLUMNS = (("id", "ID"), ("priority", "P"), ("project", "Project"), ("tags", "Tags"), ("due", "Due"),
                   ("agent", "Agent"), ("urgency", "Urg"), ("description", "Description"))
HEADERS = dict(DEFAULT_COLUMNS)


def cell(value: object, key: str, tz: tzinfo) -> str:
    """One value as text: dates as the local day, lists comma-joined, notes counted, the rest as JSON."""
    if value is None or value == "":
        return ""
    if key in DATE_FIELDS and isinstance(value, str):
        return parse_utc(value).astimezone(tz).strftime("%Y-%m-%d")
    if key == "annotations" and isinstance(value, list):
        return str(len(value))
    if key == "tags" and isinstance(value, list):
        return " ".join(value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(map(str, value))
    if isinstance(value, str):
        return " ".join(value.split())  # no tabs or newlines inside a cell
    return as_json(value) if isinstance(value, (dict, list, bool)) else str(value)


def as_json(value: object, indent: bool = False) -> str:
    """`value` as JSON text, as the MCP tools write it (orjson's compact form, or indented).

    orjson is imported only when needed: with the `dataclasses`, `inspect`, `uuid` and
    `platform` it pulls in, its import costs ~20 ms, which a command printing a table, a card
    or a write's answer need not pay. Compact plain JSON comes out of the standard library
    byte for byte as orjson writes it (`sealed.plain_dumps`).
    """
    data = None if indent else plain_dumps(value)
    if data is not None:
        return data.decode()
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else None).decode()


class View(Value):
    """How rows are shown: zone and now for dates, terminal width (None: piped), colour, date style."""

    tz: tzinfo
    now: datetime
    width: int | None = None  # None: tab-separated, never cut, dates as days
    color: bool = False
    absolute: bool = False  # on a terminal: dates as days rather than `in 3d` / `2d ago`


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int | None,
         colors: Sequence[str | None] | None = None) -> list[str]:
    """Aligned lines cut to `width` (last column shrinks to ≥ 20), or tab-separated when width is None.

    `colors` (one ANSI SGR per row, or None) paints rows and underlines the header.
    """
    if width is None:
        lines = ["\t".join(headers), *("\t".join(r) for r in rows)]
    else:
        widths = [max(look.width(h), *(look.width(r[i]) for r in rows)) for i, h in enumerate(headers)]
        room = width - sum(widths[:-1]) - len(widths)
        widths[-1] = max(20, min(widths[-1], room))
        lines = [" ".join(look.fit(c, w) for c, w in zip(line, widths)).rstrip() for line in (headers, *rows)]
    if colors is None:
        return lines
    return [look.paint(lines[0], look.HEADER), *(look.paint(line, sgr) for line, sgr in zip(lines[1:], colors))]


def task_table(tasks: list[dict], view: View, fields: Sequence[str] | None = None,
               blocked: Callable[[dict], bool] = lambda task: False) -> list[str]:
    """Task rows as lines: the `fields` columns in order, else the default columns some row has.

    On a terminal the default columns start with State (active, overdue, due soon, blocked,
    waiting as words); with colour each row takes its first state's colour.
    """
    if fields:
        columns = [(k, HEADERS.get(k, k.capitalize())) for k in fields]
    else:
        columns = [(k, h) for k, h in DEFAULT_COLUMNS if any(k in t for t in tasks)]
    found = [display.states(t, view.now, blocked) for t in tasks] if view.width is not None or view.color else None
    if found and not fields and any(found):
        columns.insert(1, ("state", "State"))

    def text(task: dict, n: int, key: str) -> str:
        if key == "state":
            return ", ".join(found[n])
        value = task.get(key)
        if key in DATE_FIELDS and isinstance(value, str) and view.width is not None and not view.absolute:
            return display.relative(parse_utc(value), view.now)
        return cell(value, key, view.tz)

    rows = [[text(t, n, k) for k, _ in columns] for n, t in enumerate(tasks)]
    colors = [look.STATES[s[0]] if s else None for s in found] if view.color and found is not None else None
    return grid([h for _, h in columns], rows, view.width, colors)


def history_lines(entries: list[dict], tz: tzinfo) -> list[str]:
    """One line per history entry: local time, who, through what, and each change as `field: old → new`."""
    def show(value: object) -> str:
        return "–" if value is None else value if isinstance(value, str) else as_json(value)

    return [f"{local_time(e['at'], tz)} {e['agent']} {e['tool']}"
            + ("" if "undoes" not in e else " (undo)") + ": "
            + "; ".join(f"{k} {show(old)} → {show(new)}" for k, (old, new) in e["changes"].items())
            for e in entries]
