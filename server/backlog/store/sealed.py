"""Checksummed JSON objects and the store's format version (format 2).

Every object the store writes (journal record, snapshot, archive segment, format.json) is
one JSON object whose last member is `"crc":"<8 hex>"`: the CRC-32 of every byte before
that member's comma. `seal` appends it to orjson's bytes; `unseal` checks the bytes in
place (one zlib.crc32 pass, no copy, no second serialization) and parses them once.
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

import json
import re
import sys
import zlib

from backlog.errors import FormatError, StoreError

FORMAT = 2
FORMAT_FILE = "format.json"
HEAD_FILE = "head"
_HEAD = re.compile(rb"(\d{10}) (\d{20}) (\d{20}) ([0-9a-f]{8})\n")
_KEY = b',"crc":"'
_SUFFIX = len(_KEY) + 8 + 2  # ,"crc":"xxxxxxxx"}
# Objects are parsed by orjson once it is imported (servers, writers) or when larger than this;
# else by the standard library: orjson's import (with the dataclasses, inspect, uuid and platform
# it pulls in) costs a fresh process ~35 ms, json.loads ~5 ms more per MB (a 10k-task snapshot is
# 2.4 MB). A command that only reads a store of fewer than ~30k tasks starts sooner without it.
ORJSON_ABOVE = 7_000_000


def seal(obj: dict) -> bytes:
    """`obj` as JSON bytes ending in its checksum member (`obj` must not be empty)."""
    import orjson  # on first use: see ORJSON_ABOVE

    body = orjson.dumps(obj)[:-1]
    return b"%s%s%08x\"}" % (body, _KEY, zlib.crc32(body))


def seal_snapshot(head: dict, tasks: list[dict]) -> bytes:
    """A sealed snapshot: `head`'s members, then "tasks" with one task per line (`tasks_layout`).

    JSON never holds a raw newline inside a value, so any JSON reader parses it as one object.
    When every task has a plain uuid (36 characters, no quote or backslash) and an int id,
    each line begins `{"uuid":"<uuid>","id":<id>,` and head gains `"lines": <count>`: a reader
    may then find one task by its uuid or id without parsing the others (store/taskmap.py).
    """
    import orjson

    dumps = orjson.dumps
    if all(_plain(t) for t in tasks):
        lines = [dumps(t if _leading(t) else {"uuid": t["uuid"], "id": t["id"], **t}) for t in tasks]
        head = {**head, "lines": len(lines)}
    else:
        lines = [dumps(t) for t in tasks]
    body = b'%s,"tasks":[\n%s\n]' % (dumps(head)[:-1], b",\n".join(lines))
    return b"%s%s%08x\"}" % (body, _KEY, zlib.crc32(body))


def tasks_layout(data: bytes) -> tuple[bytes, bytes] | None:
    """(head object bytes, task lines) of a sealed snapshot as `seal_snapshot` lays it out, else None.

    The lines keep their separating commas; the caller checks the seal and the head's "lines".
    """
    start = data.find(_TASKS)
    end = len(data) - _SUFFIX - 2
    if start < 0 or data[end:end + 2] != b"\n]":
        return None
    return data[:start] + b"}", data[start + len(_TASKS):end]


_TASKS = b',"tasks":[\n'


def _plain(task: dict) -> bool:
    uuid = task.get("uuid")
    return (type(uuid) is str and len(uuid) == 36 and '"' not in uuid and "\\" not in uuid
            and type(task.get("id")) is int)


def _leading(task: dict) -> bool:
    keys = iter(task)
    return next(keys, None) == "uuid" and next(keys, None) == "id"


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
    return json.loads(data, parse_constant=_no_constant)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


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
    match = _HEAD.fullmatch(data or b"")
    if match is None or b"%08x" % zlib.crc32(data[:match.start(4)]) != match[4]:
        return None
    return int(match[1]), int(match[2]), int(match[3])
