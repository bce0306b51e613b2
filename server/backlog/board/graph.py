"""The Graph view: pending tasks in layers, each blocked task right of everything it waits on.

Layout (pure `layout`): a task's layer is 0 without shown dependencies, else one more than its
deepest shown dependency; within a layer tasks sit in rows ordered by the mean row of their
dependencies (then urgency). Boxes are a fixed size on a grid, so no two overlap however many
tasks there are; every edge is a line from the right edge of the blocker's box to the left
edge of the blocked task's box. Drawn as server-side SVG: no script needed.
"""

from __future__ import annotations

from html import escape

from backlog.board.columns import COLUMNS
from backlog.engine.backlog import Backlog

WAITING = next(c for c in COLUMNS if c.key == "waiting")

LIMIT = 500
BOX_W, BOX_H, GAP_X, GAP_Y = 200, 40, 70, 14


def layout(tasks: list[dict]) -> dict[int, tuple[int, int]]:
    """Short id → (layer, row) for tasks given as {"id", "depends"} in urgency order."""
    shown = {t["id"]: t for t in tasks}
    deps = {tid: [d for d in t.get("depends", ()) if d in shown and d != tid] for tid, t in shown.items()}
    layers: dict[int, int] = {}
    for first in shown:  # iterative post-order (the store refuses cycles): long chains need no recursion
        stack = [(first, False)]
        while stack:
            tid, ready = stack.pop()
            if tid in layers:
                continue
            if ready:
                layers[tid] = 1 + max(layers[d] for d in deps[tid]) if deps[tid] else 0
            else:
                stack.append((tid, True))
                stack.extend((d, False) for d in deps[tid] if d not in layers)
    rank = {t["id"]: n for n, t in enumerate(tasks)}
    rows: dict[int, int] = {}
    for level in sorted(set(layers.values())):
        members = [tid for tid in layers if layers[tid] == level]

        def key(tid: int) -> tuple[float, int]:
            above = [rows[d] for d in deps[tid]]
            return (sum(above) / len(above) if above else -1.0, rank[tid])

        for row, tid in enumerate(sorted(members, key=key)):
            rows[tid] = row
    return {tid: (layers[tid], rows[tid]) for tid in layers}


def state(task: dict, blocked: set[int], later: set[int]) -> str:
    """The task's column on the board, as one word."""
    if "start" in task:
        return "active"
    if task["id"] in blocked:
        return "blocked"
    return "waiting" if task["id"] in later else "ready"


def view(backlog: Backlog, user: str) -> str:
    """The graph of the pending tasks matching the user's filter (the most urgent LIMIT of them)."""
    if user.strip():
        backlog.count(user)
    where = f"({user}) and (+PENDING)" if user.strip() else "+PENDING"
    found = backlog.list(where, limit=LIMIT, fields="id,uuid,description,depends,start")
    tasks = found["tasks"]
    blocked = {t["id"] for t in backlog.list("+BLOCKED", limit=0, fields="id")["tasks"]}
    later = {t["id"] for t in backlog.list(WAITING.filter, limit=0, fields="id")["tasks"]}
    note = f"<p>{len(tasks)} of {found['total']} pending tasks (the most urgent)</p>" if found["truncated"] else ""
    return f"<h1>Dependency graph</h1>{note}" + svg(tasks, layout(tasks), blocked, later)


def svg(tasks: list[dict], places: dict[int, tuple[int, int]], blocked: set[int], later: set[int]) -> str:
    """Boxes (links to the tasks, status as colour class and as text) and edges blocker → blocked."""
    if not tasks:
        return '<p class="empty">no pending tasks</p>'

    def corner(tid: int) -> tuple[int, int]:
        layer, row = places[tid]
        return 10 + layer * (BOX_W + GAP_X), 10 + row * (BOX_H + GAP_Y)

    width = 20 + (1 + max(l for l, _ in places.values())) * (BOX_W + GAP_X)
    height = 20 + (1 + max(r for _, r in places.values())) * (BOX_H + GAP_Y)
    edges, boxes = [], []
    for t in tasks:
        x, y = corner(t["id"])
        for dep in t.get("depends", ()):
            if dep in places:
                dx, dy = corner(dep)
                edges.append(f'<line class="edge" data-from="{dep}" data-to="{t["id"]}" x1="{dx + BOX_W}" '
                             f'y1="{dy + BOX_H // 2}" x2="{x}" y2="{y + BOX_H // 2}"/>')
        status = state(t, blocked, later)
        label = t["description"] if len(t["description"]) <= 24 else t["description"][:23] + "…"
        boxes.append(f'<a href="/task/{escape(t["uuid"])}" class="node {status}" data-id="{t["id"]}">'
                     f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"/>'
                     f'<text x="{x + 6}" y="{y + 16}">{t["id"]} {escape(label)}</text>'
                     f'<text class="status" x="{x + 6}" y="{y + 32}">{status}</text>'
                     f'<title>{t["id"]} {escape(t["description"])} ({status})</title></a>')
    return (f'<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="dependency graph">'
            f'<g class="edges">{"".join(edges)}</g><g class="nodes">{"".join(boxes)}</g></svg></div>')
