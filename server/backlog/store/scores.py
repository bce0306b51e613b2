"""Urgencies kept across calls: a task is scored again only when it, its blockers or dependents change,
or when time reaches the next instant its urgency steps.

A task's urgency moves with time only at known instants (`Steps.until`): its age steps once
a day at its entry's time of day, its due term is constant outside the ramp from 14 days
ahead to 7 days overdue, and scheduled and wait flip once. Its blocked and blocking terms
move only when a dependency or a dependent changes: the index touches those (`drop`) on every
applied op. Entries are keyed by the task object's id (the object is kept alive here), so a
lookup runs in C. A view at an instant earlier than one already scored forgets everything.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import timedelta

from backlog.core.model import format_utc
from backlog.core.urgency import AGE_MAX_DAYS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

DUE_RAMP = (14, 7)  # urgency's due term changes from this many days ahead until this many days overdue
FOREVER = float("inf")


class Scores:
    """Urgency per hot task object, each valid until its `Steps.until` (or a touch)."""

    def __init__(self) -> None:
        self.by_id: dict[int, float] = {}  # id(task) → its urgency
        self.tasks: dict[str, dict] = {}  # uuid → the task object scored
        self.expiry: list[tuple[float, str]] = []  # heap of (until, uuid), in seconds since 1970
        self.newest = 0  # the latest instant scored at (seconds since 1970)

    def drop(self, uuids: Iterable[str]) -> None:
        """Forget the scores of `uuids` (changed, or a blocker or dependent of a changed task)."""
        for uuid in uuids:
            task = self.tasks.pop(uuid, None)
            if task is not None:
                del self.by_id[id(task)]

    def at(self, now: int) -> None:
        """Forget what no longer holds at `now` (seconds since 1970): scores whose instant to step
        came, or all of them when `now` is before an instant already scored at."""
        if now < self.newest:
            self.by_id, self.tasks, self.expiry = {}, {}, []
        self.newest = now
        expiry = self.expiry
        while expiry and expiry[0][0] <= now:
            self.drop((heapq.heappop(expiry)[1],))
        if len(expiry) > 2 * len(self.tasks) + 64:  # mostly entries of tasks dropped since
            self.expiry = [entry for entry in expiry if entry[1] in self.tasks]
            heapq.heapify(self.expiry)

    def keep(self, tasks: Sequence[dict], scores: Sequence[float], ctx: Context) -> None:
        """Remember the urgency `ctx` computed for each of `tasks` that is hot and steady for a while."""
        hot, steps = ctx.tasks, Steps(ctx)
        for task, score in zip(tasks, scores):
            uuid = task["uuid"]
            if hot.get(uuid) is not task:
                continue
            until = steps.until(task)
            if until <= steps.now:
                continue
            self.drop((uuid,))
            self.tasks[uuid], self.by_id[id(task)] = task, score
            if until != FOREVER:
                heapq.heappush(self.expiry, (until, uuid))


class Steps:
    """When time next changes a task's urgency, from one view's `now` (its edges computed once)."""

    def __init__(self, c: Context) -> None:
        self.c, self.now_s, self.now = c, c.now_s, c.epoch(c.now_s)
        self.young = format_utc(c.now - timedelta(days=AGE_MAX_DAYS))  # entered after: the age term grows
        self.far = format_utc(c.now + timedelta(days=DUE_RAMP[0]))  # due after: the due term is its least
        self.overdue = format_utc(c.now - timedelta(days=DUE_RAMP[1]))  # due at or before: its most

    def until(self, t: dict) -> float:
        """The instant (seconds since 1970) before which time leaves `t`'s urgency what it is now
        (its blocked and blocking terms move with other tasks: `Scores.drop`); now when it may
        change at any moment."""
        now_s, until = self.now_s, FOREVER
        if t["status"] != "pending":
            return until
        entry = t.get("entry", "")
        if entry > now_s:
            return self.now  # a negative age: not worth the bookkeeping
        if entry > self.young:
            start = self.c.epoch(entry)
            until = start + ((self.now - start) // 86400 + 1) * 86400
        if "due" in t:
            due = t["due"]
            if due > self.far:
                until = min(until, self.c.epoch(due) - DUE_RAMP[0] * 86400)
            elif due > self.overdue:
                return self.now
        for name in ("scheduled", "wait"):
            if name in t and t[name] >= now_s:
                until = min(until, self.c.epoch(t[name]))
        return until

