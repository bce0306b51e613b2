"""`backlog info`: one task as a card for people (pure).

Dates in the local zone with their distance from now (`--absolute`: without it), the states
as words, dependencies and dependents with their descriptions, the owner and lease, the doc's
size, the annotations and the newest history entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


from backlog.cli import look
from backlog.core import display
from backlog.cli.table import View, as_json, history_lines
from backlog.core.display import local_time
from backlog.core.model import DATE_FIELDS, parse_utc

HISTORY_TAIL = 3
LABELS = {"project": "Project", "tags": "Tags", "priority": "Priority", "due": "Due", "scheduled": "Scheduled",
          "wait": "Wait", "until": "Until", "recur": "Recur", "parent": "Parent", "start": "Started",
          "end": "Ended", "entry": "Entered", "modified": "Modified", "origin": "Origin", "urgency": "Urgency",
          "uuid": "UUID"}
SHOWN_APART = {"id", "description", "status", "agent", "lease", "depends", "blocking", "blocked_by", "archived",
               "annotations", "has_doc", "doc_size"}
Related = Callable[[int], Mapping | None]  # a task id → its row (description, status), None when not hot


def card(task: dict, view: View, related: Related, history: list[dict]) -> list[str]:
    """The lines of one task's card; `history` is its entries oldest first (the newest HISTORY_TAIL are shown)."""
    found = display.states(task, view.now, lambda t: bool(t.get("blocked_by")))
    status = task["status"] + (f" ({', '.join(found)})" if found else "")
    lines = [look.paint(f"Task {task['id']}: {task['description']}", "1" if view.color else None),
             look.paint(row("Status", status), look.STATES[found[0]] if view.color and found else None)]
    lines += [row(LABELS.get(k, k), value(task[k], k, view)) for k in ordered(task)]
    if task.get("agent"):
        lines.append(row("Owner", task["agent"]))
    if task.get("lease"):
        lines.append(row("Lease", lease_text(task["lease"], view)))
    archived = set(task.get("archived", ()))
    for label, key in (("Depends on", "depends"), ("Blocking", "blocking")):
        for n, id in enumerate(task.get(key, ())):
            lines.append(row(label if n == 0 else "", related_text(id, related, id in archived)))
    if "doc_size" in task:
        lines.append(row("Doc", f"{task['doc_size']} bytes (backlog {task['id']} doc --show)"))
    notes = task.get("annotations", ())
    if notes:
        lines += ["", "Annotations"] + [f"  {when(n['entry'], view)}  {n['description']}" for n in notes]
    if history:
        lines += ["", f"History (newest {min(HISTORY_TAIL, len(history))} of {len(history)}; backlog {task['id']} history)"]
        tail = ["  " + line for line in history_lines(history[-HISTORY_TAIL:], view.tz)]
        lines += tail if view.width is None else [look.fit(line, view.width).rstrip() for line in tail]
    return lines


def ordered(task: dict) -> list[str]:
    """The keys shown as plain rows: LABELS' fields in their order, then UDAs by name."""
    return [k for k in LABELS if k in task] + sorted(k for k in task if k not in LABELS and k not in SHOWN_APART)


def row(label: str, text: str) -> str:
    return f"{label:<11} {text}".rstrip()


def when(stamp: str, view: View) -> str:
    """A stored date as local time, then its distance from now unless --absolute."""
    local = local_time(stamp, view.tz)
    return local if view.absolute else f"{local} ({display.relative(parse_utc(stamp), view.now)})"


def value(item: object, key: str, view: View) -> str:
    if key in DATE_FIELDS and isinstance(item, str):
        return when(item, view)
    if key == "urgency" and isinstance(item, float):
        return f"{item:.1f}"
    if key == "tags" and isinstance(item, list):
        return " ".join(item)
    return item if isinstance(item, str) else as_json(item)


def lease_text(lease: Mapping, view: View) -> str:
    """`claimed by claude until <local> (in 8min)`, plus who held it before a takeover."""
    text = f"{lease.get('kind', 'held')} by {lease.get('holder', '?')} until {when(lease['expires'], view)}"
    taken = lease.get("took_over")
    return text + (f"; taken over from {taken['holder']}" if taken else "")


def related_text(id: int, related: Related, archived: bool) -> str:
    """`3 Write docs [pending]` for a dependency or dependent; archived or purged ones by id."""
    other = related(id)
    if other is None:
        return f"{id} [{'archived' if archived else 'gone'}]"
    return f"{id} {other['description']} [{other['status']}]"
