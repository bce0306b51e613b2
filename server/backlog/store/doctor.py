"""`backlog doctor`: find damage in a data dir or a bucket prefix and, with --repair, restore
the newest consistent state without losing anything readable, saying exactly what was dropped.

Repair keeps every readable checksum-valid transaction (scan.py decides what happens to
each journal line), rebuilds derived files (snapshot, archive segments) from the journal
when they are damaged, missing or disagree with it, renumbers tasks that share an id and
moves `next_id` past every id. Every file it replaces is kept beside it as
`<name>.damaged-<time>`; nothing is deleted. A second run finds nothing to do. A store of a
newer format is refused (FormatError) before anything is read or written.

On S3 (store/s3.py) the same checks run through the backend seam; what differs: every
snapshot object is checked (a damaged one is set aside: generations there are only ranges
of `txn/` keys, so its records join the generation before), a journal rewrite touches only
the `txn/<seq>` objects that change, copies go to `damaged/<time>/<name>`, and there is no
lock, head or temp file. Repair's own commits are rerun when another writer commits first.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime
from collections.abc import Callable
from pathlib import Path

from backlog.core.model import sync_doc_tag
from backlog import __version__
from backlog.errors import Conflict, FormatError, StoreError
from backlog.store import scan as journal_scan, strays as stray_search
from backlog.store.backend import Backend
from backlog.store.files import PREVIOUS, SNAPSHOT, FileBackend, write_atomic
from backlog.store.sealed import FORMAT, FORMAT_FILE, HEAD_FILE, format_info, format_record, head_record, is_sealed, read_head, seal
from backlog.store.store import Store, empty_snapshot, parse_snapshot, split_lines


def _first_line(err: StoreError) -> str:
    return str(err).split(";")[0]


RETRIES = 20  # repair's commits rerun this often when other writers commit first (S3)


def _backend(place: str | Path | Backend) -> Backend:
    return FileBackend(place) if isinstance(place, (str, Path)) else place


def check(place: str | Path | Backend) -> list[str]:
    """Problems found in the data dir at `place` (or the backend given), one line each (empty when healthy).

    Raises FormatError (not a problem: nothing to repair) for a store of a newer format.
    """
    backend = _backend(place)
    files = isinstance(backend, FileBackend)
    problems: list[str] = [problem for problem in [backend.lock_problem()] if problem] if files else []
    version, since = _format(backend, problems)
    if files:
        for name, previous in ((SNAPSHOT, False), (PREVIOUS, True)):
            data, _ = backend.read_snapshot(previous)
            if data is not None:
                try:
                    parse_snapshot(data, backend.describe(name), version >= FORMAT and not previous)
                except StoreError as err:
                    problems.append(_first_line(err))
    else:
        problems += [problem for _gen, problem in _bad_snapshots(backend, version)]
    try:
        found = journal_scan.scan(backend, since)
    except StoreError as err:  # on S3: a snapshot whose seq cannot be read at all (reported above)
        return problems or [_first_line(err)]
    plan = journal_scan.plan(found, backend, "", read_head(backend.read_head()))
    problems += [f.problem for f in plan.findings]
    store = Store(backend)
    try:
        store.load()
    except StoreError as err:
        if not problems:
            problems.append(_first_line(err))
        return problems
    problems += _segment_problems(store, found, plan.lost)
    for uuid, digest in store.docs.items():
        if not _blob_ok(backend, digest):
            problems.append(f"{backend.describe('docs/' + digest + '.md')} (doc of {uuid}) is missing or damaged")
    problems += [line for line, _fix in _id_problems(store)]
    problems += [problem for problem in [_head_problem(backend)] if problem]
    if files:
        problems += [f"{backend.describe(name)} is a temp file left by an interrupted write (the next write removes it)"
                     for name in _temp_files(backend)]
    return problems


def _bad_snapshots(backend: Backend, version: int) -> list[tuple[int, str]]:
    """(gen, problem) per snapshot object of a bucket that is damaged or whose seq metadata disagrees."""
    bad = []
    for gen in backend.snapshots():  # type: ignore[attr-defined]
        data, meta = backend.read_snapshot_of(gen)  # type: ignore[attr-defined]
        where = backend.describe(f"snap/{gen:06d}.json")
        if data is None:
            continue  # removed since the listing (another doctor)
        try:
            snap = parse_snapshot(data, where, version >= FORMAT)
        except StoreError as err:
            bad.append((gen, _first_line(err)))
            continue
        if meta and meta != str(snap["seq"]):
            bad.append((gen, f"{where} says it ends at transaction #{meta}, but its body says #{snap['seq']}"))
        elif snap["gen"] != gen:
            bad.append((gen, f"{where} holds the snapshot of generation {snap['gen']}"))
    return bad


def _keep(backend: Backend, name: str, data: bytes, stamp: str) -> str:
    """Keep the damaged item `name`'s bytes beside the store, never read again; returns where."""
    if isinstance(backend, FileBackend):
        write_atomic(os.path.join(backend.root, f"{name}.damaged-{stamp}"), data, backend.root)
        return f"{name}.damaged-{stamp}"
    return backend.keep_damaged(name, data, stamp)  # type: ignore[attr-defined]


def _committed(store: Store, change: Callable[[], None]) -> None:
    """Run `change` (one store transaction) again while other writers commit first (S3)."""
    for _ in range(RETRIES):
        try:
            change()
            return
        except Conflict:
            continue
    raise StoreError(f"{store.backend.root}: other writers kept committing first; run `backlog doctor --repair` again")


def _head_problem(backend: Backend) -> str | None:
    data = backend.read_head()
    if data is None or read_head(data) is not None:
        return None
    return f"{backend.describe(HEAD_FILE)} is damaged, so a cut journal would go unnoticed (the next commit rewrites it)"


def _temp_files(backend: FileBackend) -> list[str]:
    """Temp files that stay put for a moment: a live writer's is renamed within microseconds."""
    try:
        first = set(backend.temp_files())
    except FileNotFoundError:
        return []
    if not first:
        return []
    time.sleep(0.2)
    return sorted(first & set(backend.temp_files()))


def _format(backend: Backend, problems: list[str]) -> tuple[int, int | None]:
    """(format, first sealed generation); a damaged format.json is added to `problems` and
    the values inferred: format 2 from the oldest generation of an unbroken run of sealed
    ones. FormatError (a newer format) is raised: doctor leaves such a store alone."""
    try:
        return format_info(backend.read_format(), str(backend.root))
    except FormatError:
        raise
    except StoreError as err:
        problems.append(_first_line(err))
    gens = backend.journal_generations()
    since = gens[-1] if gens else 0
    for gen in reversed(gens):
        lines, _ = split_lines(backend.read_journal(gen))
        if not lines or not all(is_sealed(line) for line in lines):
            break
        since = gen
    return FORMAT, since


def _blob_ok(backend: Backend, digest: str) -> bool:
    try:
        return hashlib.sha256(backend.get_blob(digest)).hexdigest() == digest
    except StoreError:
        return False


def _journal_segments(found: journal_scan.Scan) -> dict[str, dict[str, dict]]:
    """Every archive segment as the journal's readable records build it."""
    segments: dict[str, dict[str, dict]] = {}
    for line in sorted((x for x in found.lines if x.rec is not None), key=lambda x: x.rec["seq"]):
        for op in line.rec["ops"]:
            if op["k"][0] == "a":
                _, name, uuid = op["k"].split(":", 2)
                tasks = segments.setdefault(name, {})
                if op["n"] is None:
                    tasks.pop(uuid, None)
                else:
                    tasks[uuid] = op["n"]
    return segments


def _segment_problems(store: Store, found: journal_scan.Scan, lost: bool) -> list[str]:
    return [problem for _name, problem, _tasks in _segment_fixes(store, found, lost)]


def _segment_fixes(store: Store, found: journal_scan.Scan, lost: bool) -> list[tuple[str, str, dict]]:
    """(name, problem, tasks the journal says) per segment file that is damaged, missing or,
    when the journal is complete (`lost` false), disagrees with the journal."""
    fixes = []
    expected = _journal_segments(found)
    for name in sorted(set(store.backend.list_segments()) | set(expected)):
        where = store.backend.describe(f"archive/{name}.json")
        want = expected.get(name, {})
        try:
            have = store.segment(name)
        except StoreError as err:
            fixes.append((name, _first_line(err), want))
            continue
        if store.backend.read_segment(name) is None and want:
            fixes.append((name, f"{where} is missing ({len(want)} archived tasks in the journal)", want))
        elif have != want and not lost:
            fixes.append((name, f"{where} disagrees with the journal ({len(have)} tasks, the journal says {len(want)})", want))
    return fixes


def _id_problems(store: Store) -> list[tuple[str, list[dict]]]:
    """(problem, tasks to renumber) for ids used twice and a `next_id` not above every id."""
    by_id: dict[int, list[dict]] = {}
    for task in store.tasks.values():
        by_id.setdefault(task["id"], []).append(task)
    for uuid, short in _archived(store).items():
        by_id.setdefault(short, []).append({"uuid": uuid, "id": short, "entry": "", "archived": True})
    found = []
    for short, tasks in sorted(by_id.items()):
        if len(tasks) > 1:
            keep, *others = sorted(tasks, key=lambda t: (not t.get("archived"), t.get("entry", ""), t["uuid"]))
            found.append((f"id {short} is used by {len(tasks)} tasks ({', '.join(t['uuid'] for t in tasks)})",
                          [t for t in others if not t.get("archived")]))
    top = max(by_id, default=0)
    if store.next_id <= top:
        found.append((f"next_id {store.next_id} is not above the largest id {top}", []))
    return found


def _archived(store: Store) -> dict[str, int]:
    """Archived uuid → id as the segment files say now (none while one is unreadable: reported on its own)."""
    try:
        return {uuid: task["id"] for name in store.segments() for uuid, task in store.segment(name).items()}
    except StoreError:
        return {}


def repair(place: str | Path | Backend, now: datetime) -> list[str]:
    """Restore the newest consistent state as of `now` of the data dir at `place` (or the backend
    given); returns what was done and dropped, one line each."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    backend = _backend(place)
    files = isinstance(backend, FileBackend)
    report: list[str] = [done for done in [backend.replace_bad_lock(stamp)] if done] if files else []
    problems: list[str] = []
    version, since = _format(backend, problems)
    with backend.lock():
        if files:
            report += [f"removed {name}, a temp file left by an interrupted write" for name in backend.removed_temps]
        if problems:
            kept = _keep(backend, FORMAT_FILE, backend.read_format() or b"", stamp)
            backend.write_format(format_record(since or 0, __version__))
            report.append(f"rewrote the damaged {FORMAT_FILE} (format {FORMAT}, checksums from generation {since}); "
                          f"kept the original as {kept}")
        if not files:
            for gen, problem in _bad_snapshots(backend, version):
                data, _ = backend.read_snapshot_of(gen)  # type: ignore[attr-defined]
                kept = _keep(backend, f"snap/{gen:06d}.json", data or b"", stamp)
                backend.drop_snapshot(gen)  # type: ignore[attr-defined]
                report.append(f"set aside snap/{gen:06d}.json ({problem.split(': ')[-1]}): its transactions "
                              f"continue the snapshot before it; kept it as {kept}")
        found = journal_scan.scan(backend, since)
        plan = journal_scan.plan(found, backend, at, read_head(backend.read_head()))
        for gen, lines in sorted(plan.rewrites.items()):
            name = backend.journal_name(gen)
            if gen in found.gens:
                kept = _keep(backend, name, backend.read_journal(gen), stamp)
                report.append(f"kept the original {name} as {kept}")
            backend.replace_journal(gen, b"".join(line + b"\n" for line in lines))
        store = Store(backend)
        try:
            store.load()
        except StoreError as err:
            report.append(f"could not open the store: {_first_line(err)}")
            _rebuild(store, backend, stamp, report)
        for finding in plan.findings:
            report.append(finding.action + _named(store, finding.uuids))
        _drop_missing_docs(store, backend, at, stamp, report)
        _rebuild_segments(store, journal_scan.scan(backend, store.since), plan.lost, stamp, report)
        _fix_ids(store, at, report)
        if _head_problem(backend):
            report.append(f"rewrote the damaged {HEAD_FILE} from the repaired journal")
        if report:
            try:
                store.compact()
            except StoreError:
                if files:
                    raise
                store.load()  # on S3: another writer's snapshot of this generation came first
            report.append(f"wrote a fresh snapshot: {len(store.tasks)} tasks, transaction #{store.seq}")
            backend.write_head(head_record(store.gen, store.seq, backend.journal_size(store.gen)))
        store.close()
    return report


def _named(store: Store, uuids: set[str]) -> str:
    """`: it touched task 4 'write docs', …` for the tasks a dropped line named."""
    if not uuids:
        return ""
    archived = _archived(store)
    names = []
    for uuid in sorted(uuids):
        task = store.tasks.get(uuid)
        if task is not None:
            names.append(f"task {task['id']} '{task['description']}' ({uuid})")
        elif uuid in archived:
            names.append(f"archived task {archived[uuid]} ({uuid})")
        else:
            names.append(f"task {uuid} (no longer in the store)")
    return "; it touched " + ", ".join(names)


def _rebuild(store: Store, backend: Backend, stamp: str, report: list[str]) -> None:
    """State from the newest snapshot that the journal continues (or the whole journal)."""
    data, token = backend.read_snapshot()
    previous, _ = backend.read_snapshot(previous=True)
    if data is not None:
        kept = _keep(backend, SNAPSHOT, data, stamp)
        if isinstance(backend, FileBackend):
            os.unlink(os.path.join(backend.root, SNAPSHOT))
        else:
            backend.drop_snapshot(token)  # type: ignore[attr-defined]
        report.append(f"moved the snapshot that disagrees with the journal to {kept}")
    candidates = [(PREVIOUS, previous)] if previous is not None else []
    candidates.append(("the whole journal", None))
    for label, raw in candidates:
        try:
            store.replay_from(parse_snapshot(raw, label) if raw is not None else empty_snapshot())
        except StoreError:
            continue
        report.append(f"rebuilt the state from {label} and the journal generations after it")
        return
    raise StoreError(f"{backend.root}: no readable snapshot or complete journal to rebuild from; "
                     "restore the data dir from a backup")


def _drop_missing_docs(store: Store, backend: Backend, at: str, stamp: str, report: list[str]) -> None:
    missing = [(u, d) for u, d in store.docs.items() if not _blob_ok(backend, d)]
    if not missing:
        return
    for _uuid, digest in missing:
        try:
            _keep(backend, f"docs/{digest}.md", backend.get_blob(digest), stamp)
        except StoreError:
            pass  # missing: nothing to keep
    lines: list[str] = []

    def drop() -> None:
        lines.clear()
        with store.transaction(at=at, agent="doctor", tool="doctor:repair") as tx:
            for uuid, digest in missing:
                if tx.doc_digest(uuid) != digest:
                    continue  # changed meanwhile by another writer
                tx.delete_doc(uuid)
                task = tx.get(uuid)
                if task is not None:
                    tx.put(sync_doc_tag({k: v for k, v in task.items() if k != "has_doc"}))
                shown = f"task {task['id']} '{task['description']}'" if task else f"task {uuid}"
                lines.append(f"dropped the doc of {shown}: docs/{digest}.md is missing or damaged")

    _committed(store, drop)
    report += lines


def _fix_ids(store: Store, at: str, report: list[str]) -> None:
    if not _id_problems(store):
        return
    lines: list[str] = []

    def renumber() -> None:
        lines.clear()
        _renumber(store, at, lines)

    _committed(store, renumber)
    report += lines


def _renumber(store: Store, at: str, report: list[str]) -> None:
    with store.transaction(at=at, agent="doctor", tool="doctor:repair") as tx:
        problems = _id_problems(store)  # as of the state this transaction caught up on
        top = max([*(t["id"] for t in store.tasks.values()), *_archived(store).values(), 0])
        tx.next_id = max(tx.next_id, top + 1)
        for _problem, renumber in problems:
            for task in renumber:
                new = tx.new_id()
                tx.put({**task, "id": new})
                report.append(f"task '{task['description']}' ({task['uuid']}) shared id {task['id']}: it is now id {new}")
        report += [f"{problem}: set next_id to {tx.next_id}" for problem, renumber in problems if not renumber]


def _rebuild_segments(store: Store, found: journal_scan.Scan, lost: bool, stamp: str, report: list[str]) -> None:
    for name, problem, tasks in _segment_fixes(store, found, lost):
        raw = store.backend.read_segment(name)
        if raw is not None:
            _keep(store.backend, f"archive/{name}.json", raw, stamp)
        store.backend.write_segment(name, seal({"seq": store.seq, "tasks": list(tasks.values())}) if tasks else None)
        report.append(f"rebuilt archive/{name}.json from the journal ({len(tasks)} tasks) because {problem}")


def strays(root: str, project: str, data_dir: Callable[[Path], str], namespaced: bool) -> list[dict]:
    """Stores left under `project`'s old per-directory slugs, each with the command that merges it."""
    return [{"directory": str(folder), "data": str(old), "tasks": count,
             "merge": stray_search.merge_command(old, namespaced)}
            for folder, old, count in stray_search.strays(project, root, data_dir)]
