"""Checksummed JSON objects and the store's format version (format 2).

Every object the store writes (journal record, snapshot, archive segment, format.json) is
one JSON object whose last member is `"crc":"<8 hex>"`: the CRC-32 of every byte before
that member's comma. `seal` appends it to the compact JSON bytes (the standard library's or
orjson's, the same: see `_dumps`); `unseal` checks the bytes in place (one zlib.crc32 pass,
no copy, no second serialization) and parses them once.
CRC-32 catches every single-bit flip and every burst up to 32 bits; it is no defence
against an attacker, only against disks, operators and torn writes.
Other members are opaque here, so records may gain fields (e.g. `writer`) without a new format.

format.json = sealed `{"format": N, "since": G, "by": "<plugin version>"}`: the store is
format N; journal generations ≥ G, the snapshot and the segments must carry checksums
(older generations were written by format 1 and are read as they are). No format.json =
format 1: checksums are verified where present, never required.

head = one fixed-width line `<gen> <seq> <bytes> <crc>`: the newest acknowledged
transaction, the journal generation holding it and that file's length after it. Writers
overwrite it in place after the journal line is durable, so it never runs ahead of the
journal; a journal that ends before it was cut underneath backlog (a crash only ever
tears the unacknowledged line after it). A damaged or missing head only means "unknown".
"""

from __future__ import annotations

import math
import sys
import zlib

from backlog.core import cjson
from backlog.errors import FormatError, StoreError

FORMAT = 2
FORMAT_FILE = "format.json"
HEAD_FILE = "head"
_KEY = b',"crc":"'
_SUFFIX = len(_KEY) + 8 + 2  # ,"crc":"xxxxxxxx"}
# Objects are parsed by orjson once it is imported (servers, writers) or when larger than this;
# else by the standard library: orjson's import (with the dataclasses, inspect, uuid and platform
# it pulls in) costs a fresh process ~35 ms, json.loads ~5 ms more per MB (a 10k-task snapshot is
# 2.4 MB). A command that only reads a store of fewer than ~30k tasks starts sooner without it.
ORJSON_ABOVE = 7_000_000
# Objects are written by the standard library unless orjson is imported already or they hold more
# values than this (a snapshot, an archive segment, a bulk change): then orjson writes them, ~10×
# faster than json.dumps, which pays for its import (~20 ms) from about 25,000 values on.
ORJSON_VALUES = 5_000
_DEPTH = 200  # orjson refuses nesting deeper than 254; json.dumps would write it


def seal(obj: dict) -> bytes:
    """`obj` as JSON bytes ending in its checksum member (`obj` must not be empty).

    Raises TypeError (orjson.JSONEncodeError) for what is not JSON: a key that is not a str,
    an int outside -2^63…2^64-1, a lone surrogate, another type; NaN and ±Infinity are
    written as null (as orjson writes them).
    """
    body = _dumps(obj)[:-1]
    return b"%s%s%08x\"}" % (body, _KEY, zlib.crc32(body))


def seal_snapshot(head: dict, tasks: list[dict]) -> bytes:
    """A sealed snapshot: `head`'s members, then "tasks" with one task per line (`tasks_layout`).

    JSON never holds a raw newline inside a value, so any JSON reader parses it as one object.
    When every task has a plain uuid (36 printable ASCII characters, no quote or backslash) and an int id,
    each line begins `{"uuid":"<uuid>","id":<id>,` and head gains `"lines": <count>`: a reader
    may then find one task by its uuid or id without parsing the others (store/taskmap.py).
    """
    if "orjson" not in sys.modules and _room(tasks, ORJSON_VALUES, 0) >= 0:
        dumps = _dumps  # a small store's compaction in a process without orjson (see `_dumps`)
    else:
        from orjson import dumps
    if all(_findable(t) for t in tasks):
        lines = [dumps(t if _leading(t) else {"uuid": t["uuid"], "id": t["id"], **t}) for t in tasks]
        head = {**head, "lines": len(lines)}
    else:
        lines = [dumps(t) for t in tasks]
    body = b'%s,"tasks":[\n%s\n]' % (dumps(head)[:-1], b",\n".join(lines))
    return b"%s%s%08x\"}" % (body, _KEY, zlib.crc32(body))


def tasks_layout(data: bytes) -> tuple[bytes, int, int] | None:
    """(head object bytes, start, end) of a sealed snapshot as `seal_snapshot` lays it out (its task
    lines are data[start:end], with their separating commas), else None. The caller checks the
    seal and the head's "lines"."""
    at = data.find(_TASKS)
    end = len(data) - _SUFFIX - 2
    if at < 0 or data[end:end + 2] != b"\n]":
        return None
    return data[:at] + b"}", at + len(_TASKS), end


_TASKS = b',"tasks":[\n'


def _findable(task: dict) -> bool:
    uuid = task.get("uuid")
    return type(uuid) is str and len(uuid) == 36 and plain_text(uuid) and type(task.get("id")) is int


def plain_text(text: str) -> bool:
    """True when `text` is its own JSON spelling between quotes (printable ASCII, no quote or backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _leading(task: dict) -> bool:
    keys = iter(task)
    return next(keys, None) == "uuid" and next(keys, None) == "id"


def _dumps(obj: dict) -> bytes:
    """`obj` as compact JSON: by `plain_dumps` in a process without orjson, else by orjson.

    A writing hook or `backlog add` need not import orjson (~20 ms of a fresh process's CPU
    with the dataclasses, inspect, uuid and platform it pulls in). Both write the same bytes
    (see `plain_dumps`), and nothing would depend on it if they did not: readers parse values,
    and a checksum covers the bytes as they were written.
    """
    if "orjson" not in sys.modules:
        data = plain_dumps(obj)
        if data is not None:
            return data
    import orjson

    return orjson.dumps(obj)


def plain_dumps(obj: object) -> bytes | None:
    """The bytes orjson.dumps writes for `obj`, made by the standard library; None unless `obj`
    is small plain JSON (see `_room`) without a lone surrogate: then orjson writes it, or
    refuses it with its own error."""
    if _room(obj, ORJSON_VALUES, 0) < 0:
        return None
    try:
        return cjson.dumps(obj, allow_nan=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: orjson refuses it
        return None


def _room(value: object, budget: int, depth: int) -> int:
    """`budget` less the values in `value`, or -1 when they are more, nested deeper than _DEPTH,
    or not each a dict with str keys, a list, a str, an int orjson writes, a finite float
    written without an exponent (orjson spells `1e-05` as `0.00001`, NaN as null), a bool or
    None (exact types: a subclass or anything else is orjson's to write or refuse)."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                return -1
        items = value.values()
    elif kind is list:
        items = value
    else:
        return _room([value], budget + 1, depth)
    budget -= len(items)
    if budget < 0 or depth >= _DEPTH:
        return -1
    for item in items:
        kind = type(item)
        if kind is int:
            if not -(1 << 63) <= item < 1 << 64:
                return -1
        elif kind is float:
            if not math.isfinite(item) or "e" in repr(item):
                return -1
        elif kind is not str and kind is not bool and item is not None:
            budget = _room(item, budget, depth + 1) if kind is dict or kind is list else -1
            if budget < 0:
                return -1
    return budget


def is_sealed(data: bytes) -> bool:
    """True when `data` ends in a checksum member that matches its bytes (no JSON parsing)."""
    return (data[-_SUFFIX:-10] == _KEY and data.endswith(b'"}')
            and b"%08x" % zlib.crc32(memoryview(data)[:-_SUFFIX]) == data[-10:-2])


def unseal(data: bytes, required: bool) -> dict:
    """The object `seal` wrote; ValueError when the checksum is wrong, or missing while `required`."""
    sealed = data[-_SUFFIX:-10] == _KEY and data.endswith(b'"}')
    if sealed and b"%08x" % zlib.crc32(memoryview(data)[:-_SUFFIX]) != data[-10:-2]:
        raise ValueError("checksum mismatch")
    if required and not sealed:
        raise ValueError("no checksum")
    obj = parse(data)
    if not isinstance(obj, dict) or (sealed and obj.pop("crc", None) is None) or "crc" in obj:
        raise ValueError("not a checksummed object")
    return obj


def parse(data: bytes) -> object:
    """The JSON value of `data`; ValueError when it is not JSON (NaN and Infinity included, as orjson)."""
    fast = sys.modules.get("orjson")
    if fast is None and len(data) > ORJSON_ABOVE:
        import orjson as fast
    if fast is not None:
        return fast.loads(data)
    return cjson.loads(data, constants=False)


def format_info(data: bytes | None, root: str) -> tuple[int, int | None]:
    """(format, first checksummed generation) of data dir `root`'s format.json bytes (None: format 1).

    Raises FormatError for a newer format and StoreError naming the file when it is damaged.
    """
    where = f"{root}/{FORMAT_FILE}"
    if data is None:
        return 1, None
    try:
        info = unseal(data, True)
        version, since = info["format"], info["since"]
        if not isinstance(version, int) or not isinstance(since, int) or version < 2:
            raise ValueError("not a format record")
    except (ValueError, KeyError) as err:
        raise StoreError(f"{where} is damaged ({err}); run `backlog doctor` to inspect and "
                         "`backlog doctor --repair` to restore it") from None
    if version > FORMAT:
        raise FormatError(f"store {root} was written by backlog format {version} "
                          f"(backlog ≥ {info.get('by', '?')}); update the plugin")
    return version, since


def format_record(since: int, by: str) -> bytes:
    return seal({"format": FORMAT, "since": since, "by": by})


def head_record(gen: int, seq: int, size: int) -> bytes:
    """The head line: transaction `seq` is acknowledged, generation `gen` is `size` bytes long."""
    body = b"%010d %020d %020d " % (gen, seq, size)
    return b"%s%08x\n" % (body, zlib.crc32(body))


def read_head(data: bytes | None) -> tuple[int, int, int] | None:
    """(gen, seq, size) of a head line, or None when there is none or it is damaged."""
    fields = (data or b"").split(b" ")
    if len(fields) != 4 or not all(field.isdigit() for field in fields[:3]):
        return None
    gen, seq, size = map(int, fields[:3])
    return (gen, seq, size) if head_record(gen, seq, size) == data else None
