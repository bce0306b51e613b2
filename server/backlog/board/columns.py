"""What the board shows, read through the Backlog facade: columns, a task's page data, activity.

No HTTP and no HTML here: plain dicts for `pages` to render.
"""

from __future__ import annotations

from dataclasses import dataclass

from backlog.engine.backlog import Backlog

PAGE = 50  # cards per column page; "more" adds another page
DONE_LIMIT = 50
CARD_FIELDS = "id,uuid,description,project,priority,tags,agent,start,end,due,wait,scheduled,depends,urgency"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    filter: str
    sort: str | None = None  # None: urgency order
    cap: int | None = None  # the most cards it ever shows


# Every task sits in at most one column: Active first, then Blocked, then Waiting/Scheduled.
COLUMNS = (
    Column("ready", "Ready", "+READY -ACTIVE"),
    Column("active", "Active", "+ACTIVE"),
    Column("blocked", "Blocked", "+BLOCKED -ACTIVE"),
    Column("waiting", "Waiting / scheduled", "+PENDING -ACTIVE -BLOCKED (+WAITING or scheduled.after:now)"),
    Column("done", "Done recently", "+COMPLETED end.after:now-7d", sort="end-", cap=DONE_LIMIT),
)


def combined(user: str, column: Column) -> str:
    """The column's filter within the user's filter (the user's text is checked alone first)."""
    return f"({user}) and ({column.filter})" if user.strip() else column.filter


def column_cards(backlog: Backlog, column: Column, user: str, pages: int) -> dict:
    """{"cards", "total", "more"} of one column: its first `pages` pages, blockers on blocked cards."""
    limit = PAGE * max(pages, 1)
    if column.cap is not None:
        limit = min(limit, column.cap)
    found = backlog.list(combined(user, column), sort=column.sort, limit=limit, fields=CARD_FIELDS)
    cards = found["tasks"]
    if column.key == "blocked" and cards:
        blocking = {t["id"] for t in backlog.list("+BLOCKING", limit=0, fields="id")["tasks"]}
        for card in cards:
            card["blocked_by"] = [d for d in card.get("depends", ()) if d in blocking]
    total = found["total"] if column.cap is None else min(found["total"], column.cap)
    return {"cards": cards, "total": total, "more": len(cards) < total}


def board(backlog: Backlog, user: str, pages: dict[str, int]) -> dict:
    """Every column for the user's filter; BacklogError (one line, about the user's text) when it is wrong."""
    if user.strip():
        backlog.count(user)
    return {c.key: column_cards(backlog, c, user, pages.get(c.key, 1)) for c in COLUMNS}


def task_page(backlog: Backlog, ref: str) -> dict:
    """Every field, the doc's markdown (or None), the history and the dependencies of one task."""
    task = backlog.info(ref)["task"]
    doc = backlog.doc_read(task["uuid"])["content"] if "doc_size" in task else None
    history = backlog.history(task["uuid"])["entries"]
    return {"task": task, "doc": doc, "history": history}
