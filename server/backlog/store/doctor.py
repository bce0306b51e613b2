"""`backlog doctor`: find damage in a data dir and, with --repair, restore the newest
consistent state, saying exactly what was dropped. Damaged files are kept beside the
repaired ones as `<name>.damaged-<time>`; nothing is deleted."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import orjson

from backlog.store.files import PREVIOUS, SNAPSHOT, FileBackend, write_atomic
from backlog.errors import StoreError
from backlog.core.model import sync_doc_tag
from backlog.store.store import Store, empty_snapshot, parse_record, parse_snapshot, split_lines


def _scan(backend: FileBackend) -> list[tuple[int, list[bytes], list[dict | None], int]]:
    """Per journal generation: its lines, their records (None = unreadable) and torn-tail bytes."""
    found = []
    for gen in backend.journal_generations():
        data = backend.read_journal(gen)
        lines, used = split_lines(data)
        records: list[dict | None] = []
        for line in lines:
            try:
                records.append(parse_record(line, ""))
            except StoreError:
                records.append(None)
        found.append((gen, lines, records, len(data) - used))
    return found


def _bad_lines(scan: list) -> list[tuple[int, int, int]]:
    """(generation, line number, expected seq) of every unreadable or out-of-sequence line."""
    bad, seq = [], None
    for gen, _lines, records, _torn in scan:
        for n, rec in enumerate(records, 1):
            expected = None if seq is None else seq + 1
            if rec is None or (expected is not None and rec["seq"] != expected):
                bad.append((gen, n, expected or 1))
                seq = expected or 1
            else:
                seq = rec["seq"]
    return bad


def check(root: Path) -> list[str]:
    """Problems found in the data dir at `root`, one line each (empty when healthy)."""
    backend = FileBackend(root)
    problems = []
    for name, previous in ((SNAPSHOT, False), (PREVIOUS, True)):
        data, _ = backend.read_snapshot(previous)
        if data is not None:
            try:
                parse_snapshot(data, backend.describe(name))
            except StoreError as err:
                problems.append(str(err).split(";")[0])
    scan = _scan(backend)
    for gen, n, seq in _bad_lines(scan):
        problems.append(f"{backend.describe(backend.journal_name(gen))} line {n} is damaged (transaction #{seq})")
    for gen, _lines, _records, torn in scan[:-1]:
        if torn:
            problems.append(f"{backend.describe(backend.journal_name(gen))} ends in a torn line")
    store = Store(backend)
    try:
        store.load()
    except StoreError as err:
        if not problems:
            problems.append(str(err).split(";")[0])
        return problems
    for name in store.segments():
        try:
            store.segment(name)
        except StoreError as err:
            problems.append(str(err).split(";")[0])
    for uuid, digest in store.docs.items():
        if not _blob_ok(backend, digest):
            problems.append(f"{backend.describe('docs/' + digest + '.md')} (doc of {uuid}) is missing or damaged")
    return problems


def _blob_ok(backend: FileBackend, digest: str) -> bool:
    try:
        return hashlib.sha256(backend.get_blob(digest)).hexdigest() == digest
    except StoreError:
        return False


def repair(root: Path, now: datetime) -> list[str]:
    """Restore the newest consistent state as of `now`; returns what was done and dropped, one line each."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    backend = FileBackend(root)
    report: list[str] = []
    with backend.lock():
        scan = _scan(backend)
        bad = _bad_lines(scan)
        for gen, lines, records, torn in scan:
            name = backend.journal_name(gen)
            mine = {n: seq for g, n, seq in bad if g == gen}
            if not mine and not torn:
                continue
            write_atomic(root / f"{name}.damaged-{stamp}", backend.read_journal(gen))
            kept = []
            for n, line in enumerate(lines, 1):
                if n in mine:
                    lost = {"seq": mine[n], "at": at, "agent": "doctor", "tool": "doctor:lost", "ops": []}
                    kept.append(orjson.dumps(lost))
                    report.append(f"dropped transaction #{mine[n]}: {name} line {n} was unreadable "
                                  f"({len(line)} bytes: {line[:60]!r})")
                else:
                    kept.append(line)
            if torn:
                report.append(f"cut a torn final line of {name} ({torn} bytes, never acknowledged)")
            backend.replace_journal(gen, b"".join(line + b"\n" for line in kept))
            report.append(f"kept the original as {name}.damaged-{stamp}")
        store = Store(backend)
        try:
            store.load()
        except StoreError as err:
            report.append(f"could not open the store: {str(err).split(';')[0]}")
            _rebuild(store, backend, stamp, report)
        _drop_missing_docs(store, backend, at, report)
        _rebuild_segments(store, backend, stamp, report)
        if report:
            store.compact()
            report.append(f"wrote a fresh snapshot: {len(store.tasks)} tasks, transaction #{store.seq}")
        store.close()
    return report


def _rebuild(store: Store, backend: FileBackend, stamp: str, report: list[str]) -> None:
    data, _ = backend.read_snapshot()
    if data is not None:
        write_atomic(backend.root / f"{SNAPSHOT}.damaged-{stamp}", data)
        (backend.root / SNAPSHOT).unlink()
        report.append(f"moved the damaged snapshot to {SNAPSHOT}.damaged-{stamp}")
    previous, _ = backend.read_snapshot(previous=True)
    candidates = []
    if previous is not None:
        candidates.append((PREVIOUS, previous))
    if 0 in backend.journal_generations():
        candidates.append(("the whole journal", None))
    for label, raw in candidates:
        try:
            snap = parse_snapshot(raw, label) if raw is not None else empty_snapshot()
            store.replay_from(snap)
        except StoreError:
            continue
        report.append(f"rebuilt the state from {label} and the journal generations after it")
        return
    raise StoreError(f"{backend.root}: no readable snapshot or complete journal to rebuild from; "
                     "restore the data dir from a backup")


def _drop_missing_docs(store: Store, backend: FileBackend, at: str, report: list[str]) -> None:
    missing = [(u, d) for u, d in store.docs.items() if not _blob_ok(backend, d)]
    if not missing:
        return
    with store.transaction(at=at, agent="doctor", tool="doctor:repair") as tx:
        for uuid, digest in missing:
            tx.delete_doc(uuid)
            task = store.tasks.get(uuid)
            if task is not None:
                tx.put(sync_doc_tag({k: v for k, v in task.items() if k != "has_doc"}))
            report.append(f"dropped the doc of task {task['id'] if task else uuid}: docs/{digest}.md is missing or damaged")


def _rebuild_segments(store: Store, backend: FileBackend, stamp: str, report: list[str]) -> None:
    for name in backend.list_segments():
        try:
            store.segment(name)
            continue
        except StoreError:
            pass
        raw = backend.read_segment(name) or b""
        write_atomic(backend.root / "archive" / f"{name}.json.damaged-{stamp}", raw, backend.root)
        tasks: dict[str, dict] = {}
        prefix = f"a:{name}:"
        for gen in backend.journal_generations():
            lines, _ = split_lines(backend.read_journal(gen))
            for line in lines:
                if prefix.encode() in line:
                    for op in parse_record(line, "")["ops"]:
                        if op["k"].startswith(prefix):
                            uuid = op["k"][len(prefix):]
                            if op["n"] is None:
                                tasks.pop(uuid, None)
                            else:
                                tasks[uuid] = op["n"]
        backend.write_segment(name, orjson.dumps({"seq": store.seq, "tasks": list(tasks.values())}) if tasks else None)
        report.append(f"rebuilt archive/{name}.json from the journal ({len(tasks)} tasks)")
