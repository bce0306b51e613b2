"""The board's HTML (pure: data in, text out). Every value is escaped; docs arrive already sanitized.

The page loads only /static/board.css and /static/board.js (the Content-Security-Policy allows
nothing else), works without them (forms and links), and carries the store's sequence number
so the script knows when a pushed change makes it stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from urllib.parse import urlencode

from backlog.board.columns import COLUMNS
from backlog.board.markdown import render_inline
from backlog.core.display import local_time, relative, states
from backlog.core.model import DATE_FIELDS, parse_utc

VIEWS = (("/", "Board"), ("/graph", "Graph"), ("/activity", "Activity"))
PRIORITIES = ("", "H", "M", "L")


@dataclass(frozen=True)
class Moment:
    """The instant and zone a page is drawn in: dates read as the CLI shows them (`core.display`)."""

    now: datetime
    tz: tzinfo

    def when(self, stamp: str) -> str:
        """A stored date as its distance from now (`in 3d`), the local time on hover."""
        return (f'<time datetime="{escape(stamp)}" title="{escape(local_time(stamp, self.tz))}">'
                f"{relative(parse_utc(stamp), self.now)}</time>")

    def at(self, stamp: str) -> str:
        """A stored date as local time, its distance from now on hover."""
        return (f'<time datetime="{escape(stamp)}" title="{relative(parse_utc(stamp), self.now)}">'
                f"{escape(local_time(stamp, self.tz))}</time>")


def page(title: str, body: str, *, seq: int, view: str, filter: str = "", read_only: bool = False,
         grouped: bool = False, polled: float | None = None) -> str:
    """A whole page: header with the views and the filter box, then `body` in <main>; `polled`:
    the seconds between the server's requests to a remote store (S3), said in the header."""
    nav = "".join(f'<a href="{href}"{" aria-current=page" if href == view else ""}>{name}</a>'
                  for href, name in VIEWS)
    mode = '<span class="mode">read-only</span>' if read_only else ""
    if polled is not None:
        mode += f'<span class="polled">S3: the server asks the bucket for changes every {polled:g} s</span>'
    action = view if view in ("/", "/graph") else "/"
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · backlog board</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/board.css"><script src="/static/board.js" defer></script></head>'
        f'<body data-seq="{seq}"><header><strong>backlog</strong><nav>{nav}</nav>'
        f'<form class="filter" method="get" action="{action}" role="search">'
        f'<label for="filter">Filter</label><input id="filter" name="filter" value="{escape(filter)}" '
        'placeholder="project:web +bug due.before:friday" autocomplete="off">'
        + ('<label><input type="checkbox" name="group" value="project"'
           f'{" checked" if grouped else ""}> by project</label>' if view == "/" else "")
        + f'<button type="submit">Apply</button></form>{mode}<span id="live" aria-live="polite"></span></header>'
        f"<main>{body}</main></body></html>\n"
    )


def error_line(message: str) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>'


def _chip(text: str, cls: str) -> str:
    return f'<span class="{cls}">{escape(text)}</span>'


def card(task: dict, moment: Moment) -> str:
    """One task on the board: id, description, its states as words, and what says where it stands."""
    found = states(task, moment.now, lambda t: bool(t.get("blocked_by")))
    bits = ["".join(_chip(name, "state " + name.replace(" ", "-")) for name in found),
            _chip(f"pri {task['priority']}", "pri") if "priority" in task else "",
            _chip(task["project"], "project") if "project" in task else "",
            "".join(_chip("+" + t, "tag") for t in task.get("tags", ())),
            _chip(f"held by {task['agent']}", "holder") if "agent" in task else "",
            _chip("blocked by " + ", ".join(map(str, task["blocked_by"])), "blockers") if task.get("blocked_by") else "",
            _dated("waits until", task.get("wait"), moment),
            _dated("scheduled", task.get("scheduled") if "end" not in task else None, moment),
            _dated("due", task.get("due"), moment),
            _dated("ended", task.get("end"), moment)]
    return (f'<li class="card" data-id="{task["id"]}"><a href="/task/{escape(task["uuid"])}">'
            f'<span class="id">{task["id"]}</span> {render_inline(task["description"])}</a>'
            f'<div class="meta">{"".join(bits)}<span class="urg">u {task.get("urgency", 0)}</span></div></li>')


def _dated(label: str, stamp: str | None, moment: Moment) -> str:
    return f'<span class="when">{label} {moment.when(stamp)}</span>' if stamp else ""


def by_project(cards: list[dict], moment: Moment) -> str:
    """Cards under a heading per project, projects in the order of their most urgent card."""
    groups: dict[str, list[dict]] = {}
    for task in cards:
        groups.setdefault(task.get("project", ""), []).append(task)
    return "".join(f'<li class="group"><h3>{escape(name) or "no project"}</h3><ol>{"".join(card(t, moment) for t in tasks)}</ol></li>'
                   for name, tasks in groups.items())


def board(columns: dict, filter: str, pages: dict[str, int], moment: Moment, grouped: bool = False) -> str:
    """The five columns (cards grouped by project when `grouped`); a column with more cards than shown links to its next page."""
    out = []
    for col in COLUMNS:
        data = columns[col.key]
        shown = by_project(data["cards"], moment) if grouped else "".join(card(t, moment) for t in data["cards"])
        cards = shown or '<li class="empty">none</li>'
        more = ""
        if data["more"]:
            query = {**{f"more_{k}": v for k, v in pages.items() if v > 1}, f"more_{col.key}": pages.get(col.key, 1) + 1}
            if filter:
                query["filter"] = filter
            if grouped:
                query["group"] = "project"
            more = f'<a class="more" href="/?{escape(urlencode(query))}">more ({len(data["cards"])} of {data["total"]})</a>'
        out.append(f'<section class="column" id="col-{col.key}" aria-labelledby="h-{col.key}">'
                   f'<h2 id="h-{col.key}">{col.title} <span class="count">{data["total"]}</span></h2>'
                   f'<ol>{cards}</ol>{more}</section>')
    return f'<div class="columns">{"".join(out)}</div>'


def _value(name: str, value: object, moment: Moment) -> str:
    if name in DATE_FIELDS and isinstance(value, str):
        return moment.at(value)
    if name in ("depends", "blocked_by", "blocking", "archived") and isinstance(value, list):
        return ", ".join(f'<a href="/task/{v}">{v}</a>' for v in value)
    if isinstance(value, list):
        return escape(", ".join(map(str, value)))
    return escape(str(value))


def task(data: dict, doc_html: str | None, moment: Moment, *, read_only: bool, error: str = "") -> str:
    """A task's page: every field, annotations, the rendered doc, actions, history."""
    t = data["task"]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_value(k, v, moment)}</td></tr>"
                   for k, v in t.items() if k not in ("annotations", "description"))
    notes = "".join(f'<li>{moment.at(a["entry"]) if "entry" in a else ""} {render_inline(a.get("description", ""))}</li>'
                    for a in t.get("annotations", ()))
    doc = f'<article class="doc">{doc_html}</article>' if doc_html is not None else '<p class="empty">no doc</p>'
    history = "".join(
        f'<li>{moment.at(e["at"])} <b>{escape(e["agent"])}</b> via {escape(e["tool"])}: '
        + escape("; ".join(f"{k} {_short(o)} → {_short(n)}" for k, (o, n) in e["changes"].items())) + "</li>"
        for e in reversed(data["history"]))
    return (f'<h1><span class="id">{t["id"]}</span> {render_inline(t["description"])}</h1>'
            + (error_line(error) if error else "") + ("" if read_only else actions(t))
            + f'<table class="fields">{rows}</table><h2>Annotations</h2><ul class="notes">{notes or "<li>none</li>"}</ul>'
            f'<h2>Doc</h2>{doc}<h2>History</h2><ol class="history">{history}</ol>')


def _short(value: object) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def actions(t: dict) -> str:
    """Start/stop, done, release a lease, priority and annotate as plain forms (POST, same origin)."""
    base = f"/task/{escape(t['uuid'])}"
    buttons = []
    if t["status"] == "pending":
        buttons.append(("stop", "Stop") if "start" in t else ("start", "Start"))
        buttons.append(("done", "Done"))
        if "lease" in t:
            buttons.append(("release", "Release lease"))
    forms = "".join(f'<form method="post" action="{base}/{name}"><button type="submit" id="act-{name}">{label}</button></form>'
                    for name, label in buttons)
    options = "".join(f'<option value="{p}"{" selected" if t.get("priority", "") == p else ""}>{p or "none"}</option>'
                      for p in PRIORITIES)
    return (f'<div class="actions">{forms}'
            f'<form method="post" action="{base}/priority"><label for="priority">Priority</label>'
            f'<select id="priority" name="priority">{options}</select><button type="submit" id="act-priority">Set</button></form>'
            f'<form method="post" action="{base}/annotate"><label for="note">Note</label>'
            f'<input id="note" name="text" required><button type="submit" id="act-annotate">Annotate</button></form></div>')


def activity(entries: list[dict], moment: Moment, read_only: bool = True, note: str = "", error: str = "") -> str:
    """The newest changes by every writer; an "undo my last change" form unless read-only."""
    items = []
    for e in entries:
        tasks = ", ".join(
            (f'<a href="/task/{escape(t["uuid"])}">{t["id"]} {render_inline(t["description"])}</a>' if "id" in t
             else escape(t["uuid"][:8])) + f' <span class="fields">({escape(", ".join(t["fields"]))})</span>'
            for t in e["tasks"]) or "no tasks"
        undo = f' <span class="undo">undoes #{e["undoes"]}</span>' if "undoes" in e else ""
        items.append(f'<li>{moment.when(e["at"])} <b>{escape(e["agent"])}</b> '
                     f'<span class="tool">{escape(e["tool"])}</span>{undo}: {tasks}</li>')
    undo_form = "" if read_only else ('<form method="post" action="/undo"><button type="submit" id="act-undo">'
                                      'Undo my last change</button></form>')
    shown = error_line(error) if error else f'<p class="note" role="status">{escape(note)}</p>' if note else ""
    return f'<h1>Activity</h1>{shown}{undo_form}<ol class="activity">{"".join(items) or "<li>nothing yet</li>"}</ol>'
