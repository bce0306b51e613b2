"""The hot tasks of a snapshot, decoded when asked for: a store opens without parsing them.

`sealed.seal_snapshot` writes one task per line, each beginning `{"uuid":"<uuid>","id":<id>,`.
A `TaskMap` keeps those lines as one bytes object and answers a lookup by uuid or short id by
searching it (no JSON string holds an unescaped quote, so `{"uuid":"` and `","id":` match only
where a line begins), decoding the one line found. Changes applied since the snapshot (journal
ops) are kept beside the lines in the order they came. Anything that walks all tasks decodes
every line at once (as parsing the whole snapshot would) and gets a plain dict in the same order
a fully parsed store has: the snapshot's order, each changed task moved to the end when it changed.
`containing(needle)` gives the tasks whose line holds some bytes (plus every changed task): a
superset the caller filters exactly, so "who depends on X" or "which task has origin Y" decodes
only the lines that mention X or Y.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping

from backlog.errors import StoreError
from backlog.store.sealed import parse, plain_text

FREEZE_BYTES = 1 << 20  # tasks at least this large: their objects leave the collector's generations
_START = b'{"uuid":"'
_ID_AT = len(_START) + 36  # where `","id":` begins in a line
_GONE = object()


class TaskMap(Mapping):
    """uuid → task: snapshot lines decoded on demand, plus the changes since the snapshot."""

    def __init__(self, lines: bytes, damaged: Callable[[str], StoreError],
                 on_full: Callable[[TaskMap, dict[str, dict]], None], lock) -> None:
        self._lines = lines
        self._damaged = damaged  # the StoreError naming the snapshot, for a line that cannot be read
        self._on_full, self._lock = on_full, lock
        self._got: dict[str, dict] = {}  # decoded lines, unchanged (the same objects stay)
        self._changed: dict[str, dict | None] = {}  # since the snapshot, oldest change first; None: gone
        self._full: dict[str, dict] | None = None

    # -- single tasks: no decoding beyond the lines found ---------------------------------
    def get(self, uuid: str, default: object = None) -> object:
        if self._full is not None:
            return self._full.get(uuid, default)
        found = self._changed.get(uuid, _GONE)
        if found is _GONE:
            found = self._got.get(uuid) or self._read(uuid)
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
        if self._full is not None:
            return next((u for u, t in reversed(self._full.items()) if t["id"] == short_id), None)
        changed = [u for u, t in self._changed.items() if t is not None and t["id"] == short_id]
        if changed:
            return changed[-1]
        lines, needle, found = self._lines, b'","id":%d' % short_id, None
        at = lines.find(needle)
        while at >= 0:
            start, after = at - 36 - len(_START), lines[at + len(needle):at + len(needle) + 1]
            if (start >= 0 and after in (b",", b"}") and lines.startswith(_START, start)
                    and (start == 0 or lines[start - 1] == 10)):
                uuid = lines[start + len(_START):at].decode()
                if uuid not in self._changed:
                    found = uuid
            at = lines.find(needle, at + 1)
        return found

    def in_order(self, uuids: Iterable[str]) -> list[dict]:
        """The tasks of `uuids` (each present) in store order."""
        changed = list(self._changed)
        return [self[u] for u in sorted(uuids, key=lambda u: (1, changed.index(u)) if u in self._changed
                                        else (0, self._lines.find(b'%s%s"' % (_START, u.encode()))))]

    @property
    def decoded(self) -> bool:
        """True once every line is decoded (then `full()` costs nothing)."""
        return self._full is not None

    def with_member(self, key: str) -> list[dict]:
        """A superset of the tasks that have member `key` (a field name), in store order."""
        return self.containing(b'"%s":' % key.encode())

    def mentioning(self, uuid: str) -> list[dict]:
        """A superset of the tasks whose values hold the string `uuid` (e.g. in depends), in store order."""
        if plain_text(uuid):
            return self.containing(b'"%s"' % uuid.encode())
        return list(self.full().values())

    def containing(self, needle: bytes) -> list[dict]:
        """Every task whose line holds `needle`, and every changed task, in store order: a superset
        of the tasks with some member or value (the caller checks each)."""
        if self._full is not None:
            return list(self._full.values())
        lines, out, end = self._lines, [], 0
        at = lines.find(needle)
        while at >= 0:
            start = lines.rfind(b"\n", 0, at) + 1
            end = lines.find(b"\n", at)
            end = len(lines) if end < 0 else end
            uuid = lines[start + len(_START):start + _ID_AT].decode()
            if uuid not in self._changed:
                task = self._got.get(uuid)
                out.append(task if task is not None else self._decode(uuid, lines[start:end]))
            at = lines.find(needle, end)
        return out + [t for t in self._changed.values() if t is not None]

    # -- changes (the store's journal replay) ---------------------------------------------
    def pop(self, uuid: str, default: object = None) -> object:
        if self._full is not None:
            return self._full.pop(uuid, default)
        old = self.get(uuid)
        self._got.pop(uuid, None)
        self._changed.pop(uuid, None)
        self._changed[uuid] = None
        return default if old is None else old

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
                    with bulk(freeze=len(self._lines) >= FREEZE_BYTES):
                        full = {t["uuid"]: t for t in parse(b"[%s]" % self._lines)}
                except (ValueError, TypeError, KeyError) as err:
                    raise self._damaged(str(err)) from None
                full.update(self._got)  # the objects already handed out (same places)
                for uuid, task in self._changed.items():
                    full.pop(uuid, None)
                    if task is not None:
                        full[uuid] = task
                self._full, self._lines, self._got, self._changed = full, b"", {}, {}
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

    # -- reading one line -------------------------------------------------------------------
    def _read(self, uuid: str) -> dict | None:
        if len(uuid) != 36 or not plain_text(uuid):
            return None  # every uuid in the lines is plain (seal_snapshot)
        lines = self._lines
        start = lines.find(b'%s%s","id":' % (_START, uuid.encode()))
        if start < 0:
            return None
        end = lines.find(b"\n", start)
        return self._decode(uuid, lines[start:] if end < 0 else lines[start:end])

    def _decode(self, uuid: str, line: bytes) -> dict:
        try:
            task = parse(line[:-1] if line.endswith(b",") else line)
            if not isinstance(task, dict) or task.get("uuid") != uuid:
                raise ValueError(f"the line of task {uuid} does not hold it")
        except ValueError as err:
            raise self._damaged(str(err)) from None
        self._got[uuid] = task
        return task


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
