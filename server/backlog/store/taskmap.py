"""The hot tasks of a snapshot, decoded when asked for: a store opens without parsing them.

`sealed.seal_snapshot` writes one task per line, each beginning `{"uuid":"<uuid>","id":<id>,`.
A `TaskMap` keeps the snapshot's bytes and answers a lookup by uuid or short id by searching
the lines (no JSON string holds an unescaped quote, so `{"uuid":"` and `","id":` match only
where a line begins), decoding the one line found. Changes applied since the snapshot (journal
ops) are kept beside the lines in the order they came. Anything that walks all tasks decodes
every line at once (as parsing the whole snapshot would) and gets a plain dict in the same order
a fully parsed store has: the snapshot's order, each changed task moved to the end when it changed.
`mentioning(uuid)` and `with_member(key, value)` give the tasks whose line holds the uuid or the member
(plus every changed task): a superset the caller filters exactly, so "who depends on X" or
"which task has origin Y" decodes only the lines that mention X or Y.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping

from backlog.errors import StoreError
from backlog.store.sealed import parse, plain_text

FREEZE_BYTES = 1 << 20  # tasks at least this large: their objects leave the collector's generations
SEARCHES = 64  # after this many searches of the lines a TaskMap decodes them all (a loop of lookups)
_START = b'{"uuid":"'
_GONE = object()


class TaskMap(Mapping):
    """uuid → task: snapshot lines decoded on demand, plus the changes since the snapshot."""

    def __init__(self, data: bytes, start: int, end: int, damaged: Callable[[str], StoreError],
                 on_full: Callable[[TaskMap, dict[str, dict]], None], lock) -> None:
        self._data, self._start, self._end = data, start, end  # the lines are data[start:end]
        self._damaged = damaged  # the StoreError naming the snapshot, for a line that cannot be read
        self._on_full, self._lock = on_full, lock
        self._got: dict[str, dict] = {}  # decoded lines, unchanged (the same objects stay)
        self._changed: dict[str, dict | None] = {}  # since the snapshot, oldest change first; None: gone
        self._lines_of: dict[str, list[tuple[int, int]]] = {}  # uuid → the lines that hold it
        self._searches = 0
        self._full: dict[str, dict] | None = None

    # -- single tasks: no decoding beyond the lines found ---------------------------------
    def get(self, uuid: str, default: object = None) -> object:
        if self._decided():
            return self._full.get(uuid, default)
        found = self._changed.get(uuid, _GONE)
        if found is _GONE:
            found = self._got.get(uuid) or self._own(uuid)
        return default if found is None else found

    def __getitem__(self, uuid: str) -> dict:
        task = self.get(uuid)
        if task is None:
            raise KeyError(uuid)
        return task  # type: ignore[return-value]

    def __contains__(self, uuid: object) -> bool:
        return isinstance(uuid, str) and self.get(uuid) is not None

    def uuid_of(self, short_id: int) -> str | None:
        """The uuid of the task with this short id (the last in store order, as a dict of ids keeps)."""
        if self._decided():
            return next((u for u, t in reversed(self._full.items()) if t["id"] == short_id), None)
        changed = [u for u, t in self._changed.items() if t is not None and t["id"] == short_id]
        if changed:
            return changed[-1]
        data, needle, found = self._data, b'","id":%d' % short_id, None
        self._searches += 1
        at = data.find(needle, self._start, self._end)
        while at >= 0:
            start = at - 36 - len(_START)
            if (start >= self._start and data[at + len(needle)] in b",}" and data[start - 1] == 10
                    and data.startswith(_START, start)):
                uuid = data[start + len(_START):at].decode()
                if uuid not in self._changed:
                    found = uuid
            at = data.find(needle, at + 1, self._end)
        return found

    def in_order(self, uuids: Iterable[str]) -> list[dict]:
        """The tasks of `uuids` (each present) in store order."""
        if self._decided():
            wanted = set(uuids)
            return [t for u, t in self._full.items() if u in wanted]
        changed = list(self._changed)
        return [self[u] for u in sorted(uuids, key=lambda u: (1, changed.index(u)) if u in self._changed
                                        else (0, self._own_line(u)))]

    @property
    def decoded(self) -> bool:
        """True once every line is decoded (then `full()` costs nothing)."""
        return self._full is not None

    def with_member(self, key: str, value: str | None = None) -> list[dict]:
        """A superset of the tasks that have member `key` (a field name), with string `value`
        when given, in store order (a longer needle: the search is ~2.5x faster)."""
        if self._decided():
            return list(self._full.values())
        needle = b'"%s":' % key.encode()
        if value is not None and plain_text(value):
            needle += b'"%s"' % value.encode()
        return self._tasks_of(self._find(needle))

    def mentioning(self, uuid: str) -> list[dict]:
        """A superset of the tasks whose values hold the string `uuid` (e.g. in depends), in store order."""
        if self._decided() or not plain_text(uuid):
            return list(self.full().values())
        return self._tasks_of(self._lines(uuid))

    # -- changes (the store's journal replay) ---------------------------------------------
    def pop(self, uuid: str, default: object = None) -> object:
        if self._decided():  # (before `get`, which could decide in the middle of this change)
            return self._full.pop(uuid, default)
        old = self.get(uuid)
        self._got.pop(uuid, None)
        self._changed.pop(uuid, None)
        self._changed[uuid] = None
        return default if old is None else old

    def replace(self, uuid: str, task: dict | None) -> None:
        """Put `task` (None: remove) at `uuid`, as pop and set do, without reading what was there."""
        if self._decided():
            self._full.pop(uuid, None)
            if task is not None:
                self._full[uuid] = task
            return
        self._got.pop(uuid, None)
        self._changed.pop(uuid, None)
        self._changed[uuid] = task

    def __setitem__(self, uuid: str, task: dict) -> None:
        if self._full is not None:
            self._full[uuid] = task
            return
        self._got.pop(uuid, None)
        self._changed.pop(uuid, None)
        self._changed[uuid] = task

    # -- everything: every line decoded once -----------------------------------------------
    def full(self) -> dict[str, dict]:
        """All tasks as a plain dict (decoding every line the first time)."""
        with self._lock:
            if self._full is None:
                try:
                    with bulk(freeze=self._end - self._start >= FREEZE_BYTES):  # the whole snapshot: no copy
                        full = {t["uuid"]: t for t in parse(self._data)["tasks"]}
                except (ValueError, TypeError, KeyError) as err:
                    raise self._damaged(str(err)) from None
                full.update(self._got)  # the objects already handed out (same places)
                for uuid, task in self._changed.items():
                    full.pop(uuid, None)
                    if task is not None:
                        full[uuid] = task
                self._full, self._data, self._got, self._changed, self._lines_of = full, b"", {}, {}, {}
                self._on_full(self, full)
            return self._full

    def __deepcopy__(self, memo: dict) -> dict[str, dict]:
        from copy import deepcopy

        return deepcopy(self.full(), memo)

    def __iter__(self) -> Iterator[str]:
        return iter(self.full())

    def __len__(self) -> int:
        return len(self.full())

    def keys(self):
        return self.full().keys()

    def values(self):
        return self.full().values()

    def items(self):
        return self.full().items()

    # -- reading lines ------------------------------------------------------------------------
    def _own(self, uuid: str) -> dict | None:
        """The snapshot's task `uuid`, or None."""
        line = self._own_line(uuid)
        return None if line is None else self._decode(uuid, line)

    def _own_line(self, uuid: str) -> tuple[int, int] | None:
        """(start, end) of the line that begins with `uuid`, or None."""
        if len(uuid) != 36 or not plain_text(uuid):
            return None  # every uuid in the lines is plain (seal_snapshot)
        head = b'%s%s"' % (_START, uuid.encode())
        return next((line for line in self._lines(uuid) if self._data.startswith(head, line[0])), None)

    def _lines(self, uuid: str) -> list[tuple[int, int]]:
        """(start, end) of each line holding `"<uuid>"`, its own and those that mention it: one
        search per uuid, kept (a new task's uuid is looked up, then asked who depends on it)."""
        found = self._lines_of.get(uuid)
        if found is None:
            found = self._lines_of[uuid] = self._find(b'"%s"' % uuid.encode())
        return found

    def _decided(self) -> bool:
        """True once every line is decoded, which happens when they were searched SEARCHES times."""
        if self._full is None and self._searches >= SEARCHES:
            self.full()
        return self._full is not None

    def _find(self, needle: bytes) -> list[tuple[int, int]]:
        self._searches += 1
        data, first, last, found = self._data, self._start, self._end, []
        at = data.find(needle, first, last)
        while at >= 0:
            start = data.rfind(b"\n", first - 1, at) + 1  # data[first - 1] is the newline before the first line
            end = data.find(b"\n", at, last)
            found.append((start, last if end < 0 else end))
            at = data.find(needle, found[-1][1], last)
        return found

    def _tasks_of(self, lines: list[tuple[int, int]]) -> list[dict]:
        """The tasks of `lines` not changed since, then every changed task, in store order."""
        out = []
        for start, end in lines:
            uuid = self._data[start + len(_START):start + len(_START) + 36].decode()
            if uuid not in self._changed:
                out.append(self._got.get(uuid) or self._decode(uuid, (start, end)))
        return out + [t for t in self._changed.values() if t is not None]

    def _decode(self, uuid: str, line: tuple[int, int]) -> dict:
        start, end = line
        if self._data[end - 1] == 44:  # the comma between lines
            end -= 1
        try:
            task = parse(self._data[start:end])
            if not isinstance(task, dict) or task.get("uuid") != uuid:
                raise ValueError(f"the line of task {uuid} does not hold it")
        except ValueError as err:
            raise self._damaged(str(err)) from None
        return self._got.setdefault(uuid, task)  # (a thread that decoded it first keeps its object)


@contextmanager
def bulk(freeze: bool) -> Iterator[None]:
    """The cyclic garbage collector paused while many long-lived objects are made (a 100k
    snapshot parses in 40% of the time); with `freeze`, everything alive afterwards moves to
    its permanent generation (gc.freeze), so later collections no longer walk every task.
    Tasks hold no cycles: when replaced they are still freed by their reference counts; what
    is cyclic garbage at that moment (any thread's) is never collected, a bounded one-off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
