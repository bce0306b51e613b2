"""Indexes over the hot tasks, kept by the store from the journal: each change costs what it touches.

`Index` holds status, project and tag postings (uuid sets), every uuid in sorted order (for
uuid prefixes), the reverse of `depends` (who depends on a task) with the count of
*pending* dependents (the BLOCKING test), each task's place in the store's order (so a
planned selection comes out in the same order as a full scan) and each task's urgency bound
(`bounds`, filled by the view, valid up to `horizon`), and once a `+READY` list asked for it,
the ranked READY candidates (`ready`, `backlog.store.ready`), and the rows the renderer made
per set of fields (`rows`: each holds for the task object it was made from), and urgencies
kept across calls (`scores`, `backlog.store.scores`). An op touches in both the task, its
dependencies and its dependents. The store makes it on first use; each family of postings is
built from the tasks when first asked for, then kept by every applied op (`replace`); a
reload drops it. Nothing here is written to disk.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from typing import Any

    from backlog.store.ready import Ready
    from backlog.store.scores import Scores


def _add(postings: dict[str, set[str]], key: str, uuid: str) -> None:
    found = postings.get(key)
    if found is None:
        postings[key] = {uuid}
    else:
        found.add(uuid)


def _discard(postings: dict[str, set[str]], key: str, uuid: str) -> None:
    found = postings.get(key)
    if found is not None:
        found.discard(uuid)
        if not found:
            del postings[key]


class _family:  # noqa: N801 (used as a decorator)
    """A family of postings: built in one pass on first use, under the index's lock; from then
    on it is a plain attribute of the instance (this descriptor has no __set__)."""

    def __init__(self, build: Callable[[Index], object]) -> None:
        self.build, self.name = build, build.__name__
        self.__doc__ = build.__doc__

    def __get__(self, index: Index | None, owner: type | None = None) -> Any:
        if index is None:
            return self
        with index._lock:
            found = index.__dict__.get(self.name)
            if found is None:
                found = index.__dict__[self.name] = self.build(index)
            return found


class Index:
    """Postings over `tasks` (uuid → task), maintained through `replace`; `ids` is the store's id → uuid.

    It keeps both mappings (the store's own, which the store changes alongside it), so a
    reader can tell whether it indexes the tasks it is looking at. Each family of postings
    (status, project, tags, sorted uuids, dependents with blocking, order) is built in one
    pass on first use, under `lock` (the store's, which every `replace` holds too): a call
    that only asks whether a task blocks never pays for the tag postings.
    """

    def __init__(self, tasks: Mapping[str, dict], ids: Mapping[int, str],
                 lock: AbstractContextManager = nullcontext()) -> None:
        self.tasks, self.ids, self._lock = tasks, ids, lock
        self.bounds: dict[str, float] = {}  # uuid → urgency bound until `horizon` (kept by the view)
        self.horizon: datetime | None = None
        self.ready: Ready | None = None  # made by the view on the first `+READY` list, then touched by every op
        self.rows: dict[tuple[str, ...], dict[str, tuple[dict, dict]]] = {}  # fields → uuid → (task, its row)
        self.scores: Scores | None = None  # urgencies kept across calls, made by the view on first use
        self._next = len(tasks)

    # -- families, built on first use ----------------------------------------------------
    @_family
    def status(self) -> dict[str, set[str]]:
        """Uuids by status."""
        out: defaultdict[str, set[str]] = defaultdict(set)
        for uuid, t in self.tasks.items():
            out[t["status"]].add(uuid)
        return dict(out)

    @_family
    def project(self) -> dict[str, set[str]]:
        """Uuids by project (exact name)."""
        out: defaultdict[str, set[str]] = defaultdict(set)
        for uuid, t in self.tasks.items():
            if "project" in t:
                out[t["project"]].add(uuid)
        return dict(out)

    @_family
    def tags(self) -> dict[str, set[str]]:
        """Uuids by tag."""
        out: defaultdict[str, set[str]] = defaultdict(set)
        for uuid, t in self.tasks.items():
            for tag in t.get("tags", ()):
                out[tag].add(uuid)
        return dict(out)

    @_family
    def sorted(self) -> list[str]:
        """Every uuid, sorted (for prefixes)."""
        return sorted(self.tasks)

    @_family
    def order(self) -> dict[str, int]:
        """uuid → its place in the store's order."""
        return dict(zip(self.tasks, range(len(self.tasks))))

    @_family
    def dependents(self) -> dict[str, set[str]]:
        """uuid → the uuids that depend on it."""
        out: defaultdict[str, set[str]] = defaultdict(set)
        for uuid, t in self.tasks.items():
            for dep in t.get("depends", ()):
                out[dep].add(uuid)
        return dict(out)

    @_family
    def blocking(self) -> dict[str, int]:
        """uuid → how many pending tasks depend on it (present only when > 0)."""
        out: dict[str, int] = {}
        for t in self.tasks.values():
            if t["status"] == "pending":
                for dep in t.get("depends", ()):
                    out[dep] = out.get(dep, 0) + 1
        return out

    # -- upkeep --------------------------------------------------------------------------
    def replace(self, old: dict | None, new: dict | None) -> None:
        """Account for one task going from `old` to `new` (None = absent) in the families built so far."""
        built = self.__dict__
        if old is not None:
            self._remove(old, built, keep=new is not None)
            self.bounds.pop(old["uuid"], None)
            for made in self.rows.values():
                made.pop(old["uuid"], None)
        if new is not None:
            self._add(new, built, listed=old is not None)
        if self.ready is not None or self.scores is not None:
            near = {uuid for t in (old, new) if t is not None
                    for uuid in (t["uuid"], *t.get("depends", ()), *self.dependents.get(t["uuid"], ()))}
            if self.ready is not None:
                self.ready.touched |= near
            if self.scores is not None:
                self.scores.drop(near)

    def _add(self, t: dict, built: dict, listed: bool) -> None:
        uuid = t["uuid"]
        if not listed and "sorted" in built:
            insort(self.sorted, uuid)
        if "status" in built:
            _add(self.status, t["status"], uuid)
        if "project" in t and "project" in built:
            _add(self.project, t["project"], uuid)
        if "tags" in built:
            for tag in t.get("tags", ()):
                _add(self.tags, tag, uuid)
        if "dependents" in built:
            for dep in t.get("depends", ()):
                _add(self.dependents, dep, uuid)
        if "blocking" in built and t["status"] == "pending":
            for dep in t.get("depends", ()):
                self.blocking[dep] = self.blocking.get(dep, 0) + 1
        if "order" in built:
            self.order[uuid] = self._next
        self._next += 1

    def _remove(self, t: dict, built: dict, keep: bool) -> None:
        uuid = t["uuid"]
        if not keep and "sorted" in built:
            del self.sorted[bisect_left(self.sorted, uuid)]
        if "status" in built:
            _discard(self.status, t["status"], uuid)
        if "project" in t and "project" in built:
            _discard(self.project, t["project"], uuid)
        if "tags" in built:
            for tag in t.get("tags", ()):
                _discard(self.tags, tag, uuid)
        if "dependents" in built:
            for dep in t.get("depends", ()):
                _discard(self.dependents, dep, uuid)
        if "blocking" in built and t["status"] == "pending":
            for dep in t.get("depends", ()):
                left = self.blocking[dep] - 1
                if left:
                    self.blocking[dep] = left
                else:
                    del self.blocking[dep]
        if "order" in built:
            del self.order[uuid]

    # -- questions --------------------------------------------------------------------------
    def with_prefix(self, prefix: str) -> set[str]:
        """Uuids starting with `prefix`."""
        found, uuids = set(), self.sorted
        for i in range(bisect_left(uuids, prefix), len(uuids)):
            if not uuids[i].startswith(prefix):
                break
            found.add(uuids[i])
        return found

    def in_project(self, name: str) -> set[str]:
        """Uuids whose project is `name` or below it (`a` covers `a.b`), case-insensitive."""
        below = name.lower() + "."
        out: set[str] = set()
        for project, uuids in self.project.items():
            if (project + ".").lower().startswith(below):
                out |= uuids
        return out

    def in_order(self, uuids: Iterable[str]) -> list[str]:
        """`uuids` in the store's order (the order of a full scan)."""
        return sorted(uuids, key=self.order.__getitem__)

    def state(self) -> dict:
        """Everything this index holds, order as a list: for comparing with a rebuild."""
        return {"status": self.status, "project": self.project, "tags": self.tags, "sorted": self.sorted,
                "dependents": self.dependents, "blocking": self.blocking,
                "order": sorted(self.order, key=self.order.__getitem__)}
