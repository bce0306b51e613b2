"""The READY candidates of the hot store, ranked by urgency bound: `+READY` top-n without a full pass.

A task is READY at `now` when it is pending, not blocked, and its gate — the later of
`wait` and `scheduled` (`''` when it has neither) — is at or before `now`. `Ready` keeps
the time-independent part (pending and not blocked) as a list ranked by each task's urgency
bound (the view's cached horizon bound plus blocking), highest first, and the gate of the
few candidates that have one. The index notes in `touched` every task an op touches: the task,
its dependencies (their blocking term) and its dependents (their blocked state); a reader
settles those against the store (`settle`) before walking the ranking. When the bounds'
horizon moves (the view clears its cache), the ranking is made again from all pending tasks.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

_MANY = 64  # more changes than this at once: merge by sorting instead of one insort each


def gate(task: dict) -> str:
    """The instant from which `task` is neither waiting nor scheduled ahead (`''`: always)."""
    return max(task.get("wait", ""), task.get("scheduled", ""))


class Ready:
    """Pending, unblocked tasks ranked by urgency bound, kept up to date by the index and `settle`."""

    def __init__(self) -> None:
        self.ranked: list[tuple[float, str]] = []  # (-bound, uuid), ascending: highest bound first
        self.keys: dict[str, tuple[float, str]] = {}  # uuid → its entry in `ranked`
        self.gates: dict[str, str] = {}  # uuid → gate, for the candidates that have one
        self.horizon: datetime | None = None  # the horizon of the bounds the ranking holds
        self.touched: set[str] = set()  # uuids to re-rank (the index adds every task an op touches)

    def settle(self, ctx: Context) -> None:
        """Re-rank every touched task as `ctx` (a view with the index) sees it; all of them after the
        bounds' horizon moved."""
        index = ctx.index
        ctx.urgency_bounds(())  # moves the horizon (clearing the cached bounds) once now has passed it
        if self.horizon != index.horizon:
            self.horizon, self.ranked, self.keys, self.gates = index.horizon, [], {}, {}
            self.touched = set(index.status.get("pending", ()))
        if not self.touched:
            return
        touched, self.touched = self.touched, set()
        gone = [self.keys.pop(uuid) for uuid in touched if uuid in self.keys]
        for uuid in touched:
            self.gates.pop(uuid, None)
        if len(gone) > _MANY:
            dropped = set(gone)
            self.ranked = [key for key in self.ranked if key not in dropped]
        else:
            for key in gone:
                del self.ranked[bisect_left(self.ranked, key)]
        tasks, any_open = ctx.tasks, ctx.any_open
        found = [t for t in map(tasks.get, touched) if t is not None and t["status"] == "pending"
                 and not ("depends" in t and any_open(t["depends"]))]
        keys = [(-bound, t["uuid"]) for t, bound in zip(found, ctx.urgency_bounds(found))]
        self.keys.update((key[1], key) for key in keys)
        self.gates.update((t["uuid"], g) for t in found if (g := gate(t)))
        if len(keys) > _MANY:
            self.ranked = sorted(self.ranked + keys)
        else:
            for key in keys:
                insort(self.ranked, key)

    def count(self, now_s: str) -> int:
        """How many candidates are READY at `now_s` (a stored date string)."""
        return len(self.ranked) - sum(g > now_s for g in self.gates.values())

    def state(self) -> dict:
        """The ranking and gates (after `settle`): for comparing with a rebuild."""
        return {"ranked": self.ranked, "gates": self.gates}
