"""The store's bytes in an S3 bucket (any S3-compatible server that enforces conditional writes).

No lock: each transaction is one object `txn/<seq:012d>` created with `If-None-Match: *`,
so two writers can never both take sequence N; the loser gets Conflict (the store catches
up and the use case runs again on the new state). Each put carries a client-generated
txn id (object metadata), so a put whose response was lost and whose retry met 412 is
recognised as our own, never duplicated and never lost; when even that cannot be told,
the error says the outcome is unknown and points at task_history.

Layout under the prefix (mirrors the data dir of files.py):
    format.json              the format version
    snap/<gen:06d>.json      the snapshot that starts generation <gen>; created only if new,
                             so the first compaction of a generation wins; its seq is in
                             metadata `seq` (read with one HEAD, remembered)
    txn/<seq:012d>           one sealed record; generation g holds the records after snapshot g
    hist/<first>-<last>      records first…last (12 digits each), one line each: the transactions
                             of a closed generation packed (s3pack.py); its txn objects then go
    docs/<sha256>.md         doc bodies, content-addressed
    archive/<YYYY-Qn>.json   archived tasks, replaced only by a segment with a higher seq
    probe                    the If-None-Match probe (see probe())
    damaged/<time>/<name>    copies doctor --repair keeps of what it replaced or removed

Transactions and snapshots are never rewritten, so the machine's cache (s3cache.py) keeps
them by key and ETag: a warm open lists and reads only what is new. What the backend keeps
in memory is the listing (sequence → size, key → ETag), not the bodies. Requests go through
s3bucket.Bucket: transient errors (5xx, throttling, resets, timeouts) are retried by the client
(botocore's standard mode, or s3light's same policy) within a bounded time; then one line names
the bucket, the request and the fix. Credentials and object bodies never appear in messages.
Every answer's Date header sets `server_now()`, the clock an S3 backlog runs on (leases expire by it).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from backlog.errors import Conflict, StoreError
from backlog.store.s3bucket import ATTEMPTS, Bucket, conflicted
from backlog.store.s3cache import ObjectCache
from backlog.store.sealed import is_sealed, parse

FETCH_THREADS = 8  # parallel GETs when catching up on many transactions
DELETE_BATCH = 1000  # keys per DeleteObjects request (S3's limit)
BLOB_GRACE = timedelta(hours=1)  # an unreferenced doc body younger than this is kept (see delete_blob)
_TXN = re.compile(r"txn/(\d{12})")
_PACK = re.compile(r"hist/(\d{12})-(\d{12})")
_SNAP = re.compile(r"snap/(\d{6})\.json")
_SNAP_HEAD = re.compile(rb'\{"gen":(\d+),"seq":(\d+),')  # how Store.compact's snapshot begins
_SEGMENT = re.compile(r"\d{4}-Q[1-4]")
_BLOB = re.compile(r"[0-9a-f]{64}")


class S3Backend(Bucket):
    """A store under one prefix of one bucket."""

    optimistic = True
    remote = True

    def __init__(self, client: object, bucket: str, prefix: str, *, sse: str = "", kms_key: str = "",
                 cache: Path | None = None) -> None:
        super().__init__(client, bucket, prefix, sse=sse, kms_key=kms_key)
        self.cache = ObjectCache(cache)
        self._etags: dict[str, str] = {}  # key → ETag of the immutable objects listed so far
        self._sizes: dict[int, int] = {}  # seq → record bytes, every txn listed so far (and not packed)
        self._packs: dict[int, tuple[int, int]] = {}  # first seq → (last seq, bytes) of each pack listed
        self.leftovers: set[int] = set()  # txn objects a pack holds (left by an interrupted packing)
        self._snap_seqs: dict[int, int] = {}  # gen → seq of its snapshot (immutable once written)
        self._gens: list[int] | None = None  # snapshot generations, as of the last listing
        self._blob_times: dict[str, datetime | None] = {}  # digest → LastModified, as last listed
        self.blob_grace = BLOB_GRACE
        self.conflicts = 0  # commits refused because another writer held the sequence number

    def describe(self, name: str) -> str:
        if name == "tasks.json" and self._gens:  # the store's name for the current snapshot
            name = f"snap/{self._gens[-1]:06d}.json"
        return f"{self.root}/{name}"

    @contextmanager
    def lock(self) -> Iterator[None]:
        yield  # optimistic: append_journal's conditional put decides

    def close(self) -> None:
        return None

    # -- format ----------------------------------------------------------------------------
    def read_format(self) -> bytes | None:
        found = self._get("format.json", "reading format.json")
        return None if found is None else found["Body"].read()

    def write_format(self, data: bytes) -> None:
        self.probe()
        self._call("put_object", "writing format.json", Key=self.prefix + "format.json", Body=data, **self._put_extra)

    def read_head(self) -> None:
        """No head on S3: each transaction is an object of its own, kept until packed, so a cut
        journal cannot happen here the way a truncated file can."""
        return None

    def write_head(self, data: bytes) -> None:
        """Nothing to keep (see read_head)."""

    # -- snapshots -------------------------------------------------------------------------
    def _list_snapshots(self) -> list[int]:
        gens = []
        for item in self._list("snap"):
            if match := _SNAP.fullmatch(item["Key"]):
                gens.append(int(match.group(1)))
                self._etags[item["Key"]] = item["ETag"]
        self._gens = sorted(gens)
        return self._gens

    def _immutable(self, key: str, what: str) -> dict | None:
        """GET an object that is never rewritten (snapshot, transaction), from the cache when it has it."""
        cached = self.cache.get(key, self._etags.get(key))
        if cached is not None:
            return {"data": cached, "Metadata": {}}
        found = self._get(key, what)
        if found is None:
            return None
        data = found["Body"].read()
        self.cache.put(key, found.get("ETag"), data)
        return {"data": data, "Metadata": found.get("Metadata", {})}

    def _sync(self) -> list[int]:
        """Catch up on the listing: new transactions, and the snapshots only when there were any.

        A snapshot is written only after the transaction it ends with, so when no transaction
        is new since the last look, no snapshot that matters is either: an idle look costs one
        request. Until a later look sees a newer snapshot, the newest known generation simply
        runs on (its records are the same either way).
        """
        if self._sync_txns() or self._gens is None:
            return self._list_snapshots()
        return self._gens

    def snapshot_token(self) -> int | None:
        gens = self._sync()
        return gens[-1] if gens else None

    def read_snapshot(self, previous: bool = False) -> tuple[bytes | None, int | None]:
        self._sync_txns()
        gens = self._list_snapshots()
        if len(gens) < 1 + previous:
            return None, None
        gen = gens[-1 - previous]
        found = self._immutable(f"snap/{gen:06d}.json", "reading the snapshot")
        if found is None:
            return None, None
        seq = found["Metadata"].get("seq") or (m.group(2).decode() if (m := _SNAP_HEAD.match(found["data"])) else "")
        if seq.isdigit():
            self._snap_seqs.setdefault(gen, int(seq))
        return found["data"], gen

    def write_snapshot(self, data: bytes) -> None:
        """Create the snapshot of a new generation; StoreError when another writer's came first."""
        match = _SNAP_HEAD.match(data)  # not a parse of every task
        head = parse(data) if match is None else {"gen": int(match.group(1)), "seq": int(match.group(2))}
        gen, seq = head["gen"], head["seq"]
        self.probe()
        if self._put_new(f"snap/{gen:06d}.json", data, "writing a snapshot", Metadata={"seq": str(seq)}) is None:
            raise StoreError(f"{self.describe(f'snap/{gen:06d}.json')}: another writer compacted first; nothing lost")
        self._snap_seqs[gen] = seq
        self._gens = sorted({*(self._gens or ()), gen})

    def _snap_seq(self, gen: int) -> int:
        """The seq snapshot `gen` ends with: its metadata (one HEAD), else the start of its body."""
        if gen == 0:
            return 0
        if gen not in self._snap_seqs:
            key = f"snap/{gen:06d}.json"
            head = self._head(key, "reading a snapshot's sequence")
            seq = (head or {}).get("Metadata", {}).get("seq", "")
            if not seq.isdigit() and head is not None:
                found = self._immutable(key, "reading a snapshot")
                match = _SNAP_HEAD.match(found["data"]) if found else None
                seq = match.group(2).decode() if match else ""
            if not seq.isdigit():
                raise StoreError(f"{self.describe(key)} is damaged (no sequence number); "
                                 "run `backlog doctor --repair` to set it aside")
            self._snap_seqs[gen] = int(seq)
        return self._snap_seqs[gen]

    # -- what doctor reads and repairs -----------------------------------------------------
    def snapshots(self) -> list[int]:
        """Every snapshot's generation, ascending (a fresh listing)."""
        return list(self._list_snapshots())

    def read_snapshot_of(self, gen: int) -> tuple[bytes | None, str]:
        """(bytes, its metadata seq or '') of snapshot `gen`."""
        found = self._get(f"snap/{gen:06d}.json", "reading a snapshot")
        if found is None:
            return None, ""
        return found["Body"].read(), found.get("Metadata", {}).get("seq", "")

    def drop_snapshot(self, gen: int) -> None:
        """Remove snapshot `gen` (doctor, after keeping it aside): its records join the generation before."""
        self._call("delete_object", "removing a damaged snapshot", Key=f"{self.prefix}snap/{gen:06d}.json")
        self._snap_seqs.pop(gen, None)
        self._list_snapshots()

    # -- journal ---------------------------------------------------------------------------
    def journal_name(self, gen: int) -> str:
        return f"txn/ (generation {gen})"

    def _sync_txns(self, everything: bool = False) -> bool:
        """List the transactions committed since the newest one seen (all of them when
        `everything`); True when there were any."""
        last = 0 if everything else max([*self._sizes, *(end for end, _size in self._packs.values())], default=0)
        found = False
        for item in self._list("txn", f"txn/{last:012d}" if last else ""):
            match = _TXN.fullmatch(item["Key"])
            if match:
                self._sizes[int(match.group(1))], found = item["Size"], True
                self._etags[item["Key"]] = item["ETag"]
        return found

    def _list_packs(self) -> None:
        """List the packs; the transactions they hold are read from them from now on. When a
        known pack is gone (doctor unpacked it), every transaction object is listed anew."""
        packs = {int(match.group(1)): (int(match.group(2)), item["Size"])
                 for item in self._list("hist") if (match := _PACK.fullmatch(item["Key"]))}
        gone = set(self._packs) - set(packs)
        self._packs = packs
        if gone:
            self._sizes = {}
            self._sync_txns(everything=True)
        for first, (last, _size) in packs.items():
            held = [seq for seq in self._sizes if first <= seq <= last]
            self.leftovers.update(held)
            for seq in held:
                del self._sizes[seq]

    def items(self, gen: int) -> list[tuple[int, int]]:
        """(first seq, bytes with newlines) of each object holding generation `gen`'s records
        as of the last listing, in order: a transaction (first = its seq) or a pack."""
        gens = self._sync() if self._gens is None else self._gens
        newest = gens[-1] if gens else 0
        low = self._snap_seq(gen)
        high = self._snap_seq(next(g for g in gens if g > gen)) if gen < newest else None
        found = [(seq, size + 1) for seq, size in self._sizes.items() if seq > low and (high is None or seq <= high)]
        found += [(first, size) for first, (last, size) in self._packs.items()
                  if first > low and (high is None or last <= high)]
        return sorted(found)

    def is_pack(self, first: int) -> bool:
        return first in self._packs and first not in self._sizes

    def line_name(self, gen: int, n: int) -> str:
        """The object holding line `n` (from 1) of generation `gen`: `txn/<seq>` or `hist/<…> line k`."""
        for first, _size in self.items(gen):
            last = self._packs[first][0] if self.is_pack(first) else first
            if n <= last - first + 1:
                return f"hist/{first:012d}-{last:012d} line {n}" if self.is_pack(first) else f"txn/{first:012d}"
            n -= last - first + 1
        return f"{self.journal_name(gen)} line {n}"

    # -- packing (s3pack.py) ---------------------------------------------------------------
    def pack(self, keep: int) -> int:
        """Pack old transaction objects (after a compaction; `keep`: the undo window in records).

        Returns how many were deleted; 0 when this client cannot delete in batches (the hooks'
        light client: the next compaction by a server packs) or a request failed.
        """
        from backlog.store.s3pack import pack

        if not hasattr(self.client, "delete_objects"):
            return 0
        try:
            return pack(self, keep)
        except StoreError:
            return 0  # nothing a reader sees is lost; a later compaction packs

    def snapshot_seq(self, gen: int) -> int:
        """The seq snapshot `gen` ends with."""
        return self._snap_seq(gen)

    def newest_seq(self) -> int:
        """The newest transaction listed so far (0 when none)."""
        return max(self._sizes, default=0)

    def put_pack(self, first: int, last: int, data: bytes) -> bool:
        """Create the pack of records first…last; True when it holds `data` (made now or before)."""
        key = f"hist/{first:012d}-{last:012d}"
        self.probe()
        if self._put_new(key, data, "packing old transactions") is None:
            head = self._head(key, "reading a pack of old transactions")
            if head is None or head.get("ContentLength") != len(data):
                return False
        self._packs[first] = (last, len(data))
        return True

    def delete_txns(self, seqs: list[int]) -> int:
        """Delete the transaction objects `seqs` (a pack holds them), in batches; returns how many."""
        for start in range(0, len(seqs), DELETE_BATCH):
            batch = seqs[start:start + DELETE_BATCH]
            self._call("delete_objects", "removing packed transactions",
                       Delete={"Objects": [{"Key": f"{self.prefix}txn/{seq:012d}"} for seq in batch], "Quiet": True})
            for seq in batch:
                self._sizes.pop(seq, None)
                self.leftovers.discard(seq)
        return len(seqs)

    def journal_generations(self) -> list[int]:
        self._sync_txns()
        gens = self._list_snapshots()
        self._list_packs()
        return [gen for gen in [0, *gens] if self.items(gen)] if self._sizes or self._packs else []

    def journal_size(self, gen: int) -> int:
        return sum(size for _first, size in self.items(gen))

    def read_journal(self, gen: int, offset: int = 0) -> bytes:
        try:
            return self._read_journal(gen, offset)
        except _Gone:  # packed since the listing: its records are in a pack now
            self._list_packs()
            return self._read_journal(gen, offset)

    def _read_journal(self, gen: int, offset: int) -> bytes:
        wanted, pos = [], 0
        for first, size in self.items(gen):
            if pos + size > offset:
                wanted.append(first)
            pos += size
        if len(wanted) > 1:  # from the cache, or fetched in parallel; never kept in memory
            with ThreadPoolExecutor(FETCH_THREADS) as pool:
                bodies = list(pool.map(self._read_item, wanted))
        else:
            bodies = [self._read_item(first) for first in wanted]
        data = b"".join(bodies)
        skip = offset - (pos - len(data))
        return data[skip:]

    def _read_item(self, first: int) -> bytes:
        """The lines of one transaction object or pack, each ending in a newline."""
        if self.is_pack(first):
            key = f"hist/{first:012d}-{self._packs[first][0]:012d}"
            found = self._get(key, "reading a pack of old transactions")
            if found is None:
                raise StoreError(f"{self.describe(key)} was listed but is gone; run `backlog doctor` to inspect")
            return found["Body"].read()
        found = self._immutable(f"txn/{first:012d}", "reading a transaction")
        if found is None:
            raise _Gone(f"{self.describe(f'txn/{first:012d}')} was listed but is gone; "
                        "run `backlog doctor` to inspect")
        return found["data"] + b"\n"

    def append_journal(self, gen: int, line: bytes, offset: int) -> None:
        """Create `txn/<seq>` for the record on `line`; Conflict when another writer holds seq."""
        record = line.strip(b"\n")
        seq = parse(record)["seq"]
        key, txn = f"txn/{seq:012d}", os.urandom(16).hex()
        self.probe()
        try:
            answer = self._put_new(key, record, "committing a transaction", Metadata={"txn": txn})
            landed = answer is not None or self._landed(key, txn, None)
        except StoreError as err:
            answer, landed = None, self._landed(key, txn, err)
        if not landed:
            self.conflicts += 1
            raise Conflict(key)
        self._sizes[seq] = len(record)
        if answer is not None and answer.get("ETag"):
            self._etags[key] = answer["ETag"]
            self.cache.put(key, answer["ETag"], record)

    def _landed(self, key: str, txn: str, failure: StoreError | None) -> bool:
        """True when `key` holds our put (its response was lost); after a failure, unknown is an error."""
        try:
            head = self._head(key, "checking a transaction")
        except StoreError:
            head = None
            if failure is None:
                raise
        if head is not None and head.get("Metadata", {}).get("txn") == txn:
            return True
        if failure is not None:
            raise StoreError(f"{self.describe(key)}: the commit's outcome is unknown ({failure}); "
                             "look at task_history before retrying") from None
        return False

    def replace_journal(self, gen: int, data: bytes) -> None:
        """Doctor's rewrite of a generation: each record line to its key `txn/<seq>`, then its
        packs removed (doctor has kept their bytes; a later compaction packs it again).

        An object that already holds that exact record, or any readable record of its own
        key's sequence number, is left as it is: what was readable is never replaced.
        """
        packs = [first for first, _size in self.items(gen) if self.is_pack(first)]
        for line in data.splitlines():
            seq = parse(line)["seq"]
            key = f"txn/{seq:012d}"
            found = self._get(key, "reading a transaction")
            if found is not None:
                body = found["Body"].read()
                if body == line or (is_sealed(body) and _seq_of(body) == seq):
                    continue
            answer = self._call("put_object", "repairing a transaction", Key=self.prefix + key, Body=line,
                                **self._put_extra)
            self._etags[key] = answer.get("ETag", "")
        for first in packs:
            self._call("delete_object", "removing a repaired pack",
                       Key=f"{self.prefix}hist/{first:012d}-{self._packs[first][0]:012d}")
        self._sizes, self._packs = {}, {}  # every transaction object and pack listed anew
        self._sync_txns(everything=True)
        self._list_packs()

    def delete_journal(self, gen: int) -> None:
        raise StoreError(f"{self.root}: rewriting history is not available on S3 in this build")

    # -- archive segments ------------------------------------------------------------------
    def _segment(self, name: str) -> str:
        if not _SEGMENT.fullmatch(name):
            raise StoreError(f"refusing segment name '{name}': not YYYY-Qn")
        return f"archive/{name}.json"

    def list_segments(self) -> list[str]:
        return sorted(item["Key"][8:-5] for item in self._list("archive")
                      if _SEGMENT.fullmatch(item["Key"][8:-5]) and item["Key"].endswith(".json"))

    def read_segment(self, name: str) -> bytes | None:
        found = self._get(self._segment(name), f"reading archive segment {name}")
        return None if found is None else found["Body"].read()

    def write_segment(self, name: str, data: bytes | None) -> None:
        """Replace a segment unless the one there has a seq at least as high (conditional on its ETag)."""
        key = self._segment(name)
        if data is None:
            self._call("delete_object", f"removing archive segment {name}", Key=self.prefix + key)
            return
        seq = parse(data)["seq"]
        for _ in range(ATTEMPTS * 4):
            found = self._get(key, f"reading archive segment {name}")
            if found is None:
                if self._put_new(key, data, f"writing archive segment {name}") is not None:
                    return
                continue
            if _seq_of(found["Body"].read()) >= seq:
                return  # a writer that had seen more wrote it
            try:
                self.requests += 1
                self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data,
                                       IfMatch=found["ETag"], **self._put_extra)
                return
            except Exception as err:
                if not conflicted(err):
                    raise self._error(f"writing archive segment {name}", err) from None
        raise StoreError(f"{self.describe(key)}: other writers kept replacing it; a later commit writes it again")

    # -- doc bodies ------------------------------------------------------------------------
    def _blob(self, digest: str) -> str:
        if not _BLOB.fullmatch(digest):
            raise StoreError(f"refusing doc name '{digest}': not a sha256 digest")
        return f"docs/{digest}.md"

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store a body; one that exists but is old enough to be collected is put again, so its
        age restarts and no compaction collects it before the commit that refers to it lands."""
        key = self._blob(digest)
        if self._put_new(key, data, "writing a doc body") is None:
            head = self._head(key, "reading a doc body's age")
            if head is None or self._age(head.get("LastModified")) > self.blob_grace / 2:
                self._call("put_object", "writing a doc body", Key=self.prefix + key, Body=data, **self._put_extra)

    def get_blob(self, digest: str) -> bytes:
        found = self._get(self._blob(digest), "reading a doc body")
        if found is None:
            raise StoreError(f"{self.describe(self._blob(digest))}: doc body missing; run `backlog doctor` to check the store")
        return found["Body"].read()

    def blob_size(self, digest: str) -> int:
        head = self._head(self._blob(digest), "reading a doc body's size")
        return 0 if head is None else head["ContentLength"]

    def list_blobs(self) -> list[str]:
        found = [(item["Key"][5:-3], item.get("LastModified")) for item in self._list("docs")
                 if _BLOB.fullmatch(item["Key"][5:-3])]
        self._blob_times = dict(found)
        return [digest for digest, _at in found]

    def delete_blob(self, digest: str) -> None:
        """Remove an unreferenced body once it is `blob_grace` old by the server's clock (as last
        listed); a younger one may be another writer's, put for a commit that has not landed yet."""
        if self._age(self._blob_times.get(digest)) >= self.blob_grace:
            self._call("delete_object", "removing a doc body", Key=self.prefix + self._blob(digest))

    def _age(self, at: datetime | None) -> timedelta:
        """How long ago the server's `at` was, by the server's clock (0 when either is unknown)."""
        now = self.server_now()
        return now - at if now is not None and at is not None else timedelta(0)


class _Gone(StoreError):
    """A listed transaction object is gone (packed meanwhile, or deleted)."""


def _seq_of(data: bytes) -> int:
    try:
        seq = parse(data)["seq"]
        return seq if isinstance(seq, int) else -1
    except (ValueError, KeyError, TypeError):
        return -1  # a damaged segment is replaced by a good one
