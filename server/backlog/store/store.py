"""THE storage module: snapshot + journal, transactions, undo, docs, archive.

Every change is data. A committed transaction is one journal line
`{"seq", "at", "agent", "tool", "ops": [{"k", "o", "n"}], "next_id"?, "undoes"?, "writer"?, "renewal"?}`
where `writer` is the key of who committed it (a server session, `claude:<session>` for
hooks, `cli:<user>`), the unit of undo, and `renewal` marks a lease heartbeat. Each
op sets key `k` from old value `o` to new value `n` (None = absent). Keys:
`t:<uuid>` a task in the hot store, `d:<uuid>` the sha256 of its doc body,
`a:<YYYY-Qn>:<uuid>` an archived task. Undo appends the inverse of the newest
not-yet-undone transaction as a new transaction, so the journal only grows.

Writers take the backend's lock, catch up on lines they have not seen, append one line
and fdatasync it (an optimistic backend such as S3 has no lock: its append is conditional
on the sequence number and raises Conflict when another writer took it); readers never
lock: they stat the snapshot and the journal and parse only the new tail. Lines, snapshot and segments carry a checksum (sealed.py, format 2).
A final line without its newline is a torn, never-acknowledged write unless its checksum
holds (then it is kept and the next writer ends its line); readers ignore a torn tail and
the next writer cuts it. Any other unreadable line is corruption: the store refuses to
open and points at `backlog doctor`. After each durable line the writer records it in
`head`; a current generation that ends before `head` (whole acknowledged lines cut away,
or the file deleted or replaced) is refused the same way, never read as a crash's tail. A format-1 store (no format.json) is read as it is
and upgraded to format 2 by its first writer.

The snapshot holds one task per line (sealed.seal_snapshot): a store opens without decoding
them, and a call that needs one task decodes its line only (taskmap.py).
Compaction writes a new snapshot and starts a new journal generation; the old
generations stay as history (task_history, undo beyond the current generation, and
doctor's replay). Doc bodies live in content-addressed files, collected once no task and
no transaction inside the undo window refers to them. Archive segment files are
materialized from the journal after each archiving commit; readers apply any ops newer
than a segment file's `seq`, so a crash between journal and segment loses nothing.
"""

from __future__ import annotations

from _thread import RLock  # threading.RLock itself, without importing threading
from contextlib import contextmanager
from collections.abc import Iterator

from backlog import __version__
from backlog.core import cjson
from backlog.store.files import SNAPSHOT, FileBackend
from backlog.store.merge import MAX_FILES, merge_history
from backlog.store.sealed import (FORMAT, format_info, format_record, head_record, is_sealed, parse, read_head, seal,
                                  seal_snapshot, tasks_layout, unseal)
from backlog.store.taskmap import FREEZE_BYTES, TaskMap, bulk
from backlog.errors import StoreError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.backend import Backend
    from backlog.store.files import StrPath
    from backlog.store.index import Index

COMPACT_EVERY = 1000
UNDO_DEPTH = 200
UNDO_SCAN = 5  # a writer's undo looks back at most UNDO_SCAN × undo_depth records of anyone
BIG_RECORD = 1 << 16  # a journal line this long: history decodes only the ops naming its task


class UndoConflict(Exception):
    """The caller's newest change was followed by another writer's change to the same task."""

    def __init__(self, target: dict, later: dict) -> None:
        super().__init__(f"record {target['seq']} was followed by record {later['seq']}")
        self.target, self.later = target, later


def doctor_hint(what: str) -> StoreError:
    return StoreError(
        f"{what}; nothing was changed: run `backlog doctor` to inspect and "
        "`backlog doctor --repair` to restore the newest consistent state"
    )


def parse_record(line: bytes, where: str, sealed: bool = False) -> dict:
    """One journal line as a record dict; StoreError naming the place when it is damaged.

    `sealed`: the line must carry a valid checksum (format 2); otherwise one is checked if present.
    """
    try:
        rec = unseal(line, sealed)
        if not isinstance(rec.get("seq"), int) or not isinstance(rec.get("ops"), list):
            raise ValueError("not a transaction record")
    except ValueError as err:
        raise doctor_hint(f"{where} is damaged ({err})") from None
    return rec


def record_naming(line: bytes, uuid: str, where: str, sealed: bool) -> dict:
    """The record of journal `line` (as `parse_record`) with only the ops whose key names `uuid`.

    A long sealed line (an import, a bulk change) is not parsed whole: its members besides
    "ops", and each op that holds the uuid, are decoded from where they begin. An op begins
    `{"k":"`, which no JSON string holds unescaped, and the ops array ends at the line's last
    `],"` (the members after it are scalars, as `Store._write` writes them)."""
    if len(line) >= BIG_RECORD and is_sealed(line):
        text = line.decode()
        ops_at, end = text.find(',"ops":['), text.rfind('],"')
        try:
            if ops_at < 0 or end < ops_at or text[end - 1] not in "}[":
                raise ValueError("not laid out as backlog writes records")
            rec = cjson.loads(text[:ops_at] + text[end + 1:])
            rec.pop("crc")
            if not isinstance(rec["seq"], int) or "ops" in rec:
                raise ValueError("not a transaction record")
            ops, starts = [], set()
            at = text.find(uuid, ops_at, end)
            while at >= 0:
                start = text.rfind('{"k":"', ops_at, at)
                if start >= 0 and start not in starts:
                    starts.add(start)
                    op, _ = cjson.raw_decode(text, start)
                    if op["k"].endswith(uuid):
                        ops.append(op)
                at = text.find(uuid, at + len(uuid), end)
            return {**rec, "ops": ops}
        except (ValueError, KeyError, TypeError):
            pass  # parsed whole below, with its one-line error if it is damaged
    rec = parse_record(line, where, sealed)
    return {**rec, "ops": [op for op in rec["ops"] if op["k"].endswith(uuid)]}


def empty_snapshot() -> dict:
    return {"gen": 0, "seq": 0, "next_id": 1, "tasks": [], "docs": {}}


def parse_snapshot(data: bytes, where: str, sealed: bool = False) -> dict:
    """A snapshot dict; StoreError naming the file when it is damaged (or unsealed while `sealed`)."""
    try:
        snap = unseal(data, sealed)
        for key, kind in (("gen", int), ("seq", int), ("next_id", int), ("tasks", list), ("docs", dict)):
            if not isinstance(snap[key], kind):
                raise ValueError(f"'{key}' is not {kind.__name__}")
    except (ValueError, KeyError, TypeError) as err:
        raise doctor_hint(f"{where} is damaged ({err})") from None
    return snap


def _seq_of(line: bytes) -> int | None:
    """The sequence number at the start of a journal line as backlog writes it, without parsing it."""
    end = line.find(b",", 7, 40)
    return int(line[7:end]) if line.startswith(b'{"seq":') and line[7:end].isdigit() else None


def split_lines(data: bytes) -> tuple[list[bytes], int]:
    """Complete lines of `data` and the byte length they cover; a torn tail is left out."""
    end = data.rfind(b"\n") + 1
    return (data[: end - 1].split(b"\n") if end else []), end


class Transaction:
    """Buffered changes of one commit; reads see the store plus these changes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.changes: dict[str, object] = {}
        self.next_id = store.next_id
        self.record: dict | None = None

    def get(self, uuid: str) -> dict | None:
        key = "t:" + uuid
        if key in self.changes:
            return self.changes[key]  # type: ignore[return-value]
        return self._store.tasks.get(uuid)

    def put(self, task: dict) -> None:
        """Create or replace a hot task (pass a new dict; stored tasks are never mutated)."""
        self.changes["t:" + task["uuid"]] = task

    def remove(self, uuid: str) -> None:
        """Drop a task from the hot store for good (purge)."""
        self.changes["t:" + uuid] = None

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def doc_digest(self, uuid: str) -> str | None:
        key = "d:" + uuid
        return self.changes[key] if key in self.changes else self._store.docs.get(uuid)  # type: ignore[return-value]

    def write_doc(self, uuid: str, content: str) -> None:
        import hashlib  # only for docs (here and in `doc`): most processes never load it

        data = content.encode()
        digest = hashlib.sha256(data).hexdigest()
        self._store.backend.put_blob(digest, data)
        self.changes["d:" + uuid] = digest

    def delete_doc(self, uuid: str) -> None:
        self.changes["d:" + uuid] = None

    def archive(self, task: dict, segment: str) -> None:
        """Move a hot task into an archive segment."""
        self.changes["t:" + task["uuid"]] = None
        self.changes[f"a:{segment}:{task['uuid']}"] = task


class Store:
    """One data dir: the hot tasks in memory, kept fresh from the journal."""

    def __init__(self, backend: Backend, *, compact_every: int = COMPACT_EVERY,
                 undo_depth: int = UNDO_DEPTH, journal_files: int = MAX_FILES) -> None:
        self.backend = backend
        self.compact_every = compact_every
        self.journal_files = journal_files  # more journal files than this: merge history (merge.py)
        self.undo_depth = undo_depth
        self._mutex = RLock()
        self._old_records: dict[int, tuple[int, list[dict]]] = {}  # gen → (file size, records)
        self.format, self.since = 1, None  # since: the first journal generation that must be sealed
        self._reset(empty_snapshot(), None)

    @classmethod
    def open(cls, root: StrPath, **options: int) -> Store:
        """The store in data dir `root`, loaded; StoreError when a file is damaged."""
        store = cls(FileBackend(root), **options)
        store.load()
        return store

    def close(self) -> None:
        self.backend.close()

    # -- reading -----------------------------------------------------------------------
    def load(self) -> None:
        """(Re)read the format, the snapshot and the current journal generation from scratch.

        Raises FormatError for a store of a newer format, StoreError for a damaged one.
        """
        self.format, self.since = format_info(self.backend.read_format(), str(self.backend.root))
        self.backend.close()  # a held journal handle may be of a file a compaction or repair replaced
        data, token = self.backend.read_snapshot()
        if data is None and any(gen > 0 for gen in self.backend.journal_generations()):
            # A first compaction may have landed between the two looks: once a snapshot exists
            # it is only ever replaced, never removed, so a second look decides.
            data, token = self.backend.read_snapshot()
            if data is None:
                raise doctor_hint(f"{self.backend.describe(SNAPSHOT)} is missing")
        if data is None:
            self._reset(empty_snapshot(), token)
        elif (snap := self._lazy_snapshot(data)) is not None:
            self._reset(snap, token)
        else:
            with bulk(freeze=len(data) >= FREEZE_BYTES):
                snap = parse_snapshot(data, self.backend.describe(SNAPSHOT), self.format >= FORMAT)
                del data  # the raw bytes go before the maps are built (peak memory)
                self._reset(snap, token)
            del snap
        self._catch_up()

    def _lazy_snapshot(self, data: bytes) -> dict | None:
        """The snapshot with its tasks in a TaskMap (nothing decoded) when `data` is sealed and laid
        out by `seal_snapshot` with plain uuids; else None (then it is parsed whole, as any JSON)."""
        layout = tasks_layout(data) if self.format >= FORMAT and is_sealed(data) else None
        if layout is None:
            return None
        try:
            snap = parse(layout[0])
        except ValueError:
            return None
        if (not isinstance(snap, dict) or type(snap.get("lines")) is not int or not isinstance(snap.get("docs"), dict)
                or not all(type(snap.get(k)) is int for k in ("gen", "seq", "next_id"))):
            return None
        where = self.backend.describe(SNAPSHOT)
        snap["tasks"] = TaskMap(data, *layout[1:], lambda err: doctor_hint(f"{where} is damaged ({err})"),
                                self._decoded, self._mutex)
        return snap

    def _decoded(self, lazy: TaskMap, full: dict[str, dict]) -> None:
        """A TaskMap decoded all its lines: the store holds the plain dict from now on."""
        if self.tasks is lazy:
            self.tasks = full

    def replay_from(self, snap: dict) -> None:
        """State = `snap` plus every later journal generation replayed in full (doctor's rebuild)."""
        self._reset(snap, None)
        for gen in self.backend.journal_generations():
            if gen >= snap["gen"]:
                self.gen, self._records, self._offset = gen, [], 0
                self._catch_up()

    def _reset(self, snap: dict, token: object) -> None:
        tasks = snap["tasks"]
        self.tasks: dict[str, dict] | TaskMap = tasks if type(tasks) is TaskMap else {t["uuid"]: t for t in tasks}
        self._ids: dict[int, str] | None = None
        self.docs: dict[str, str] = snap["docs"]
        self.next_id: int = snap["next_id"]
        self.seq: int = snap["seq"]
        self.gen: int = snap["gen"]
        self._token = token
        self._records: list[dict] = []
        self._offset = 0
        self._unterminated = False  # the newest record's line lacks its newline (kept: its checksum is valid)
        self._archived_ids: dict[str, int] | None = None
        self._index: Index | None = None

    def all_tasks(self) -> dict[str, dict]:
        """The hot tasks as a plain dict, every snapshot line decoded (store.tasks may be a TaskMap)."""
        tasks = self.tasks
        return tasks.full() if type(tasks) is TaskMap else tasks

    def having(self, key: str, value: str | None = None) -> list[dict]:
        """The hot tasks that have member `key` (equal to `value` when given), in store order
        (only the snapshot lines that mention it are decoded)."""
        tasks = self.tasks
        found = tasks.with_member(key, value) if type(tasks) is TaskMap else tasks.values()
        return [t for t in found if key in t and (value is None or t[key] == value)]

    @property
    def ids(self) -> dict[int, str]:
        """Short id → uuid of the hot tasks: built on first use, then kept by every applied op."""
        with self._mutex:
            if self._ids is None:
                self._ids = {t["id"]: u for u, t in self.all_tasks().items()}
            return self._ids

    def uuid_of(self, short_id: int) -> str | None:
        """The uuid of hot task `short_id` (found in the snapshot's lines while they are not decoded)."""
        with self._mutex:
            if self._ids is None and type(self.tasks) is TaskMap:
                return self.tasks.uuid_of(short_id)
            return self.ids.get(short_id)

    def index(self) -> Index:
        """The postings over the hot tasks: built on first use, then kept by every applied op."""
        with self._mutex:
            if self._index is None:
                from backlog.store.index import Index  # only processes that use it pay its import

                self._index = Index(self.all_tasks(), self.ids, self._mutex)
            return self._index

    def refresh(self) -> None:
        """See every transaction committed by any process so far (two stats when idle)."""
        with self._mutex:
            if self.backend.snapshot_token() != self._token:
                self.load()
                return
            size = self.backend.journal_size(self.gen)
            if size > self._offset:
                self._catch_up()
            elif size < self._offset:
                raise self._cut(f"is {size:,} bytes long, but {self._offset:,} were read from it")

    def position(self) -> tuple[object, int, int]:
        """(snapshot token, journal generation, bytes of it read): where this view stands. The
        backend's snapshot_token() and journal_size(gen) equal them while nothing was committed since."""
        return self._token, self.gen, self._offset

    def records_after(self, seq: int) -> list[dict]:
        """The records of the current generation committed after transaction `seq`, in order."""
        return [rec for rec in self._records if rec["seq"] > seq]

    def sealed(self, gen: int) -> bool:
        """True when journal generation `gen` must carry checksums (written in format 2)."""
        return self.since is not None and gen >= self.since

    def _cut(self, what: str) -> StoreError:
        name = self.backend.describe(self.backend.journal_name(self.gen))
        return doctor_hint(f"{name} {what} (the file was cut or replaced underneath backlog)")

    def _check_head(self, head: tuple[int, int, int] | None) -> None:
        """StoreError when the current generation ends before the newest acknowledged transaction,
        or the snapshot is older than the generation that transaction went into."""
        if head is None:
            return
        if head[0] == self.gen and head[1] > self.seq:
            raise self._cut(f"ends at transaction #{self.seq}, but #{head[1]} was acknowledged in it")
        if head[0] > self.gen and self._token is not None and self.backend.snapshot_token() == self._token:
            # (a compaction since this snapshot was read would have replaced it: then no damage)
            raise doctor_hint(f"{self.backend.describe(SNAPSHOT)} is older than the journal: it continues "
                              f"generation {self.gen}, but transaction #{head[1]} was acknowledged in generation {head[0]}")

    def _catch_up(self) -> None:
        head = read_head(self.backend.read_head())  # read first: it never runs ahead of the journal
        data = self.backend.read_journal(self.gen, self._offset)
        if self._unterminated and data[:1] == b"\n":  # a writer has ended the kept record's line
            data, self._offset, self._unterminated = data[1:], self._offset + 1, False
        lines, used = split_lines(data)
        sealed = self.sealed(self.gen)
        for line in lines:
            self._catch_up_record(parse_record(line, self._where(), sealed))
        self._offset += used
        tail = data[used:]
        if sealed and tail and not self._unterminated:
            # a final line without its newline is a torn write unless its checksum holds
            # (possibly with the newline byte itself damaged): then it was acknowledged
            record = tail if is_sealed(tail) else tail[:-1] if is_sealed(tail[:-1]) else None
            if record is not None:
                self._catch_up_record(parse_record(record, self._where(), True))
                self._offset += len(record)
                self._unterminated = True
        self._check_head(head)

    def _where(self) -> str:
        return f"{self.backend.describe(self.backend.journal_name(self.gen))} line {len(self._records) + 1}"

    def _catch_up_record(self, rec: dict) -> None:
        if rec["seq"] != self.seq + 1:
            raise doctor_hint(f"{self._where()} has sequence {rec['seq']}, expected {self.seq + 1}")
        self._apply(rec)

    def _apply(self, rec: dict) -> None:
        for op in rec["ops"]:
            kind, _, name = op["k"].partition(":")
            new = op["n"]
            if kind == "t" and self._ids is None and self._index is None and type(self.tasks) is TaskMap:
                self.tasks.replace(name, new)  # nothing needs the old task: its line is not searched for
            elif kind == "t":
                old = self.tasks.pop(name, None)
                if old is not None and self._ids is not None:
                    self._ids.pop(old["id"], None)
                if new is not None:
                    self.tasks[name] = new
                    if self._ids is not None:
                        self._ids[new["id"]] = name
                if self._index is not None:
                    self._index.replace(old, new)
            elif kind == "d":
                if new is None:
                    self.docs.pop(name, None)
                else:
                    self.docs[name] = new
            else:
                self._archived_ids = None
        self.seq = rec["seq"]
        self.next_id = max(self.next_id, rec.get("next_id", 0))
        self._records.append(rec)

    def doc(self, uuid: str) -> str | None:
        """The doc body attached to a hot task, or None."""
        digest = self.docs.get(uuid)
        if digest is None:
            return None
        data = self.backend.get_blob(digest)
        import hashlib

        try:
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError("its content does not match its sha256 name")
            return data.decode()
        except ValueError as err:
            raise doctor_hint(f"{self.backend.describe('docs/' + digest + '.md')} is damaged ({err})") from None

    def doc_size(self, uuid: str) -> int | None:
        digest = self.docs.get(uuid)
        return None if digest is None else self.backend.blob_size(digest)

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, at: str, agent: str, tool: str, writer: str | None = None,
                    renewal: bool = False) -> Iterator[Transaction]:
        """Lock, catch up, let the caller stage changes, commit them as one journal line.

        Nothing is written when the body raises or changes nothing; afterwards
        `tx.record` is the committed record (or None). On an optimistic backend (no lock)
        raises Conflict when another writer committed first: nothing was written, and the
        caller runs its use case again (the next transaction catches up).
        """
        with self._mutex, self.backend.lock():
            self.refresh()
            self._check_head(read_head(self.backend.read_head()))
            if self.format < FORMAT:
                self._upgrade()
            tx = Transaction(self)
            yield tx
            ops, segments = [], {}
            for key, new in tx.changes.items():
                old = self._current(key, segments)
                if old != new:
                    ops.append({"k": key, "o": old, "n": new})
            if ops or tx.next_id != self.next_id:
                extra = {"next_id": tx.next_id} if tx.next_id != self.next_id else {}
                extra.update({"writer": writer} if writer else {}, **{"renewal": True} if renewal else {})
                tx.record = self._write(at, agent, tool, ops, **extra)

    def _current(self, key: str, segments: dict[str, dict[str, dict]]) -> object:
        """The committed value of `key`; archive segments are read once per commit into `segments`."""
        kind, _, name = key.partition(":")
        if kind == "t":
            return self.tasks.get(name)
        if kind == "d":
            return self.docs.get(name)
        segment, _, uuid = name.partition(":")
        if segment not in segments:
            segments[segment] = self.segment(segment)
        return segments[segment].get(uuid)

    def _write(self, at: str, agent: str, tool: str, ops: list[dict], **extra: object) -> dict:
        record = {"seq": self.seq + 1, "at": at, "agent": agent, "tool": tool, "ops": ops, **extra}
        line = (b"\n" if self._unterminated else b"") + seal(record) + b"\n"
        self.backend.append_journal(self.gen, line, self._offset)
        self._unterminated = False
        self._apply(record)
        self._offset += len(line)
        self.backend.write_head(head_record(self.gen, self.seq, self._offset))
        try:
            for segment in {op["k"].split(":")[1] for op in ops if op["k"][0] == "a"}:
                self._materialize(segment)
            if len(self._records) >= self.compact_every:
                self.compact()
        except (StoreError, OSError):
            pass  # the record is durable in the journal, which segments and snapshot follow; a later commit redoes them
        return record

    # -- undo ----------------------------------------------------------------------------
    def undo(self, *, at: str, agent: str, tool: str = "task_undo", writer: str | None = None,
             of_writer: str | None = None, of_agent: str | None = None) -> dict | None:
        """Revert the newest not-yet-undone transaction (of `of_writer`, narrowed to `of_agent`,
        when given); returns it, or None if there is none.

        Raises UndoConflict when a later transaction of someone else touched one of its tasks
        (task, doc or archive entry) or depends on one; with no `of_writer` nothing conflicts.
        """
        with self._mutex, self.backend.lock():
            self.refresh()
            self._check_head(read_head(self.backend.read_head()))
            if self.format < FORMAT:
                self._upgrade()
            target, later = self._undo_target(of_writer, of_agent)
            if target is None:
                return None
            if of_writer is not None:
                conflict = _conflict(target, later, of_writer, of_agent)
                if conflict is not None:
                    raise UndoConflict(target, conflict)
            inverse = [{"k": op["k"], "o": op["n"], "n": op["o"]} for op in reversed(target["ops"])]
            self._write(at, agent, tool, inverse, undoes=target["seq"], **({"writer": writer} if writer else {}))
            return target

    def _undo_target(self, writer: str | None, agent: str | None) -> tuple[dict | None, list[dict]]:
        """The record to undo and the records after it, newest first."""
        undone: set[int] = set()
        candidates, later = 0, []
        for scanned, rec in enumerate(self.records_newest_first()):
            if writer is not None and scanned >= UNDO_SCAN * self.undo_depth:
                break
            if "undoes" in rec:
                undone.add(rec["undoes"])
            elif not rec.get("renewal") and (writer is None or rec.get("writer") == writer) and (
                    agent is None or rec["agent"] == agent):
                if rec["seq"] not in undone and rec["ops"]:
                    return rec, later
                candidates += 1
                if candidates >= self.undo_depth:
                    break
            later.append(rec)
        return None, later

    def records_newest_first(self) -> Iterator[dict]:
        """Every committed record, newest first, across journal generations (each once).

        Raises StoreError where transactions are missing (lines cut or deleted from a file,
        the oldest file's first records gone).
        """
        older = sorted((g for g in self.backend.journal_generations() if g < self.gen), reverse=True)
        below, newer = self.seq + 1, self.gen
        for gen in [self.gen, *older]:
            for rec in reversed(self._records if gen == self.gen else self._generation(gen)):
                if rec["seq"] < below - 1:
                    files = [self.backend.describe(self.backend.journal_name(g)) for g in older[::-1] + [self.gen]
                             if gen <= g <= newer]
                    raise doctor_hint(f"transactions #{rec['seq'] + 1}–#{below - 1} are missing from {' / '.join(files)}")
                if rec["seq"] < below:  # not a repeat left by an interrupted merge
                    below, newer = rec["seq"], gen
                    yield rec
        if below > 1:  # the journal begins with transaction #1: the oldest file lost its start
            oldest = older[-1] if older else self.gen
            raise doctor_hint(f"transactions #1–#{below - 1} are missing from "
                              f"{self.backend.describe(self.backend.journal_name(oldest))} (the oldest journal file)")

    def _old_lines(self, gen: int) -> list[bytes]:
        """The lines of a closed journal generation; a record whose newline is damaged is kept.

        Raises StoreError for a checksum-invalid tail: a closed generation ends in a committed
        line, except the history file (merge.py), where it is a merge's interrupted append.
        """
        data = self.backend.read_journal(gen)
        lines, used = split_lines(data)
        tail = data[used:]
        if tail and self.sealed(gen):
            record = tail if is_sealed(tail) else tail[:-1] if is_sealed(tail[:-1]) else None
            if record is None:
                if gen == min(g for g in self.backend.journal_generations() if self.sealed(g)):
                    return lines  # the history file: a merge's append was cut short, its records are in later files
                where = f"{self.backend.describe(self.backend.journal_name(gen))} line {len(lines) + 1}"
                raise doctor_hint(f"{where} is damaged (a closed generation ends in a torn line)")
            lines.append(record)
        return lines

    def _generation(self, gen: int) -> list[dict]:
        size = self.backend.journal_size(gen)
        if self._old_records.get(gen, (None,))[0] != size:  # new, or rewritten by a merge
            name = self.backend.journal_name(gen)
            self._old_records[gen] = (size, [
                parse_record(line, f"{self.backend.describe(name)} line {n}", self.sealed(gen))
                for n, line in enumerate(self._old_lines(gen), 1)
            ])
        return self._old_records[gen][1]

    # -- history -----------------------------------------------------------------------
    def history(self, uuid: str) -> list[dict]:
        """Every record that touched task `uuid` (its task, doc or archive entry), oldest first.

        Raises StoreError where transactions are missing (lines cut or deleted from a file):
        every line's sequence number is read, only lines naming `uuid` are parsed. A gap seen
        while another process merged history (the list of files changed) is read again.
        """
        for _attempt in range(3):
            gens = [g for g in self.backend.journal_generations() if g < self.gen]
            try:
                return self._history(uuid, gens)
            except StoreError:
                if gens == [g for g in self.backend.journal_generations() if g < self.gen]:
                    raise
        return self._history(uuid, [g for g in self.backend.journal_generations() if g < self.gen])

    def _history(self, uuid: str, gens: list[int]) -> list[dict]:
        needle = uuid.encode()
        found, expected, after = [], 1, 0  # the next sequence number due; the generation of the one before

        def gap(upto: int, gen: int) -> StoreError:
            files = " / ".join(self.backend.describe(self.backend.journal_name(g))
                               for g in [*gens, self.gen] if after <= g <= gen)
            return doctor_hint(f"transactions #{expected}–#{upto - 1} are missing from {files}")

        for gen in gens:
            name = self.backend.journal_name(gen)
            sealed = self.sealed(gen)
            for n, line in enumerate(self._old_lines(gen), 1):
                where = f"{self.backend.describe(name)} line {n}"
                if needle in line or (sealed and not is_sealed(line)):  # a damaged line may have held the uuid
                    found.append(record_naming(line, uuid, where, sealed))
                    seq = found[-1]["seq"]
                else:
                    seq = _seq_of(line) or parse_record(line, where, sealed)["seq"]
                if seq > expected:
                    raise gap(seq, gen)
                if seq == expected:
                    expected, after = seq + 1, gen
        first = self._records[0]["seq"] if self._records else self.seq + 1
        if first > expected:
            raise gap(first, self.gen)
        kept, last = [], 0
        for rec in found + self._records:
            ops = [op for op in rec["ops"] if op["k"].endswith(uuid)]
            if rec["seq"] > last and ops:  # a file left by an interrupted merge repeats records
                kept.append({**rec, "ops": ops})
            last = max(last, rec["seq"])
        return kept

    # -- archive -------------------------------------------------------------------------
    def segment(self, name: str) -> dict[str, dict]:
        """Archived tasks of one segment, uuid → task (empty when the segment does not exist)."""
        tasks, _ = self._segment_state(name)
        return tasks

    def archived_ids(self) -> dict[str, int]:
        """Archived uuid → short id over every segment: read on first use, kept until an archive op."""
        with self._mutex:
            if self._archived_ids is None:
                self._archived_ids = {uuid: task["id"] for name in self.segments()
                                      for uuid, task in self.segment(name).items()}
            return self._archived_ids

    def segments(self) -> list[str]:
        touched = {op["k"].split(":")[1] for rec in self._records for op in rec["ops"] if op["k"][0] == "a"}
        return sorted(set(self.backend.list_segments()) | touched)

    def _segment_state(self, name: str) -> tuple[dict[str, dict], bool]:
        raw = self.backend.read_segment(name)
        try:
            body = unseal(raw, self.format >= FORMAT) if raw is not None else {"seq": 0, "tasks": []}
            tasks = {t["uuid"]: t for t in body["tasks"]}
            seq = body["seq"]
        except (ValueError, KeyError, TypeError) as err:
            raise doctor_hint(f"{self.backend.describe('archive/' + name + '.json')} is damaged ({err})") from None
        prefix, changed = f"a:{name}:", False
        for rec in self._records:
            if rec["seq"] > seq:
                for op in rec["ops"]:
                    if op["k"].startswith(prefix):
                        changed = True
                        uuid = op["k"][len(prefix):]
                        if op["n"] is None:
                            tasks.pop(uuid, None)
                        else:
                            tasks[uuid] = op["n"]
        return tasks, changed

    def _materialize(self, name: str) -> None:
        tasks, changed = self._segment_state(name)
        if changed:
            self._write_segment(name, tasks)

    def _write_segment(self, name: str, tasks: dict[str, dict]) -> None:
        self.backend.write_segment(name, seal({"seq": self.seq, "tasks": list(tasks.values())}) if tasks else None)

    # -- format --------------------------------------------------------------------------
    def _upgrade(self) -> None:
        """Make this store format 2 (under the lock): seal every live file, then say so in format.json.

        Old journal generations stay as format 1 wrote them (history); a crash before
        format.json leaves a format-1 store whose sealed files any reader accepts. A writer
        that opened the store before another one upgraded it finds format.json and stops.
        """
        self.format, self.since = format_info(self.backend.read_format(), str(self.backend.root))
        if self.format >= FORMAT:
            return  # another writer made it format 2 after this store was loaded (a new store opened twice)
        if self.seq or self.backend.journal_generations():
            for name in self.segments():
                self._write_segment(name, self.segment(name))
            self.compact()
        self.backend.write_format(format_record(self.gen, __version__))
        self.format, self.since = FORMAT, self.gen

    # -- compaction ----------------------------------------------------------------------
    def compact(self) -> None:
        """Write a new snapshot and start a new journal generation (call under the lock)."""
        for name in self.segments():
            self._materialize(name)
        self._collect_docs()  # on S3 only bodies older than an hour go (s3.delete_blob)
        head = {"gen": self.gen + 1, "seq": self.seq, "next_id": self.next_id, "docs": self.docs}
        self.backend.write_snapshot(seal_snapshot(head, list(self.tasks.values())))
        self._old_records[self.gen] = (self.backend.journal_size(self.gen), self._records)
        self.gen += 1
        self._records = []
        self._offset = 0
        self._token = self.backend.snapshot_token()
        if not self.backend.optimistic:  # merging history needs the lock
            merge_history(self.backend, self._old_lines, [g for g in self.backend.journal_generations()
                                                          if g < self.gen and self.sealed(g)], self.journal_files)
        else:  # S3: old transaction objects packed (s3pack.py), the undo window kept as it is
            self.backend.pack(UNDO_SCAN * self.undo_depth)  # type: ignore[attr-defined]

    def _collect_docs(self) -> None:
        keep = set(self.docs.values())
        candidates = 0  # keep what any undo may restore: the global window and every writer's scan
        for scanned, rec in enumerate(self.records_newest_first(), 1):
            for op in rec["ops"]:
                if op["k"][0] == "d":
                    keep.update(v for v in (op["o"], op["n"]) if v)
            candidates += "undoes" not in rec
            if candidates >= self.undo_depth and scanned >= UNDO_SCAN * self.undo_depth:
                break
        for digest in self.backend.list_blobs():
            if digest not in keep:
                self.backend.delete_blob(digest)


def _conflict(target: dict, later: list[dict], writer: str, agent: str | None) -> dict | None:
    """The oldest later record of someone else that touches or depends on a task of `target`."""
    uuids = {op["k"].rsplit(":", 1)[1] for op in target["ops"]}
    seqs = {rec["seq"] for rec in later}
    undone = {rec["undoes"] for rec in later if "undoes" in rec}
    for rec in reversed(later):
        if rec["seq"] in undone or rec.get("undoes") in seqs:
            continue  # a change and its undo, both after the target, cancel out
        if rec.get("writer") == writer and (agent is None or rec["agent"] == agent):
            continue
        for op in rec["ops"]:
            values = [v for v in (op["o"], op["n"]) if isinstance(v, dict)]
            if op["k"].rsplit(":", 1)[1] in uuids or any(u in uuids for v in values for u in v.get("depends", ())):
                return rec
    return None
