"""A process that only writes small records seals them with the standard library (no orjson
import): the same bytes orjson writes, the same refusals, and a store written by both kinds of
processes reads back, undoes and checks as one."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from backlog.core.model import new_uuid
from backlog.engine.backlog import Backlog
from backlog.store.sealed import ORJSON_VALUES, parse, plain_dumps, seal, unseal
from backlog.store.store import Store
from tests.conftest import NOW, run_backlog

# JSON values of the shapes records hold: any text but lone surrogates (control characters,
# non-ASCII, astral), ints within ±2^63, finite floats, bools, null, nested lists and objects.
scalars = st.one_of(st.text(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63),
                    st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(), inner, max_size=4), max_leaves=30)
records = st.dictionaries(st.text(), values, min_size=1, max_size=6)


def parsed_both_ways(data: bytes) -> tuple[object, object]:
    """`sealed.parse(data)` with orjson imported, and in a process that has not imported it."""
    fast = parse(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.delitem(sys.modules, "orjson")
        plain = parse(data)
        assert "orjson" not in sys.modules
    return fast, plain


def exponent_floats(value: object) -> list[float]:
    """The floats in `value` whose shortest form has an exponent."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [f for item in value for f in exponent_floats(item)]
    return [value] if isinstance(value, float) and "e" in repr(value) else []


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_the_standard_library_writes_what_orjson_writes_or_leaves_it_to_orjson(value):
    """Floats spelled with an exponent (`1e-05`, orjson `0.00001`) are left to orjson; all else is plain."""
    ours, theirs = plain_dumps(value), orjson.dumps(value)
    assert ours == theirs or ours is None and exponent_floats(value)
    for data in {ours or theirs, theirs}:
        assert parsed_both_ways(data) == (value, value)


@settings(max_examples=100, deadline=None)
@given(record=records)
def test_a_record_sealed_without_orjson_is_the_record_sealed_with_it(record):
    with pytest.MonkeyPatch.context() as patch:
        patch.delitem(sys.modules, "orjson")
        plain = seal(record)
    assert plain == seal(record)  # orjson imported: orjson writes it
    assert unseal(plain, True) == record


BAD = [2 ** 64, -(2 ** 63) - 1, {1: "int key"}, {None: 1}, {True: 1},
       {(1, 2): 1}, {1.5: 1}, "lone \ud800", {"\udfff": 1}, ["a", "\udc80"], set(), b"bytes", complex(1, 2),
       Decimal("1.5"), object()]
BAD_IDS = ["2^64", "-2^63-1", "int key", "null key", "bool key", "tuple key", "float key",
           "lone surrogate", "surrogate key", "surrogate in a list", "set", "bytes", "complex", "decimal", "object"]


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
def test_both_paths_refuse_what_orjson_refuses_with_its_error(bad, nested):
    record = {"seq": 1, "ops": [{"k": "t:x", "n": {"deep": [bad]}}]} if nested else {"seq": 1, "bad": bad}
    assert plain_dumps(record) is None
    with pytest.raises(orjson.JSONEncodeError) as fast:
        seal(record)
    with pytest.MonkeyPatch.context() as patch:
        patch.delitem(sys.modules, "orjson")
        with pytest.raises(TypeError) as plain:  # orjson, imported again, refused it
            seal(record)
    assert str(plain.value) == str(fast.value)


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_nan_and_infinity_are_written_as_orjson_writes_them_null(odd):
    """orjson writes them as null rather than refusing them; the plain path leaves them to it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delitem(sys.modules, "orjson")
        assert plain_dumps({"n": [odd]}) is None and seal({"n": [odd]}) == seal({"n": [None]})


def test_nesting_and_size_beyond_the_plain_limits_go_to_orjson():
    deep: list = []
    for _ in range(300):  # orjson refuses more than 254 levels; json.dumps would write them
        deep = [deep]
    assert plain_dumps({"deep": deep}) is None
    with pytest.raises(orjson.JSONEncodeError):
        seal({"deep": deep})
    big = {"tasks": list(range(ORJSON_VALUES))}  # a snapshot's size: orjson is faster than json.dumps
    assert plain_dumps(big) is None and plain_dumps({"tasks": list(range(ORJSON_VALUES - 1))}) is not None
    odd = {"when": datetime(2026, 1, 2, tzinfo=timezone.utc), "pair": (1, 2)}  # orjson writes these: as before
    assert plain_dumps(odd) is None and seal(odd).startswith(b'{"when":"2026-01-02T00:00:00+00:00","pair":[1,2],')


def test_new_uuid_is_a_canonical_random_version_4_uuid():
    made = {new_uuid() for _ in range(200)}
    assert len(made) == 200
    for text in made:
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4
        assert uuid.UUID(text).variant == uuid.RFC_4122


def plain_process_view(root, env) -> dict:
    """The store's tasks as a process without orjson reads them (asserting it never imported it)."""
    script = ("import json, sys; from backlog.store.store import Store; s = Store.open(sys.argv[1]); "
              "assert 'orjson' not in sys.modules; print(json.dumps({'seq': s.seq, 'tasks': s.all_tasks()}))")
    result = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_a_store_written_by_orjson_and_plain_writers_reads_undoes_and_checks_as_one(tmp_path, clean_env):
    """An in-process writer with orjson imported and `backlog` subprocesses without it take
    turns on one store (compacting every 3 records, so both write snapshots too)."""
    root = tmp_path / "data"
    env = {**clean_env, "TASKDATA": str(root), "BACKLOG_COMPACT_EVERY": "3", "BACKLOG_AGENT_ID": "user"}
    here = Backlog(Store.open(root, compact_every=3), tz=timezone.utc, clock=lambda: NOW, channel="cli", agent="user")
    assert "orjson" in sys.modules

    def cli(*words: str) -> str:
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", *words], capture_output=True,
                                text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "| orjson\n" not in result.stderr  # this writer is the standard library's
        return result.stdout

    here.add("Café ☕ written by orjson", project="münchen", tags="naïve")
    cli("add", "Zürich\u2028line \U0001f600 \"quoted\" by json", "priority:H", "depends:1")
    here.modify("2", project="tōkyō")
    cli("annotate", "1", "note\twith a tab and \\ backslash")
    here.annotate("2", "ünïcode note from orjson")
    cli("1", "start")
    view = plain_process_view(root, env)
    fresh = Store.open(root)
    assert view == {"seq": fresh.seq, "tasks": fresh.tasks} and len(view["tasks"]) == 2
    journal = b"".join(path.read_bytes() for path in sorted((root / "journal").iterdir()))
    for line in journal.splitlines():
        assert seal(unseal(line, True)) == line  # one spelling: orjson writes every line as it is
    assert (fresh.gen, fresh.seq) == (2, 6)  # compacted after record 3 (by orjson) and 6 (by a plain writer)

    before = {t["id"]: t for t in Store.open(root).tasks.values()}
    here.undo()  # undoes `start`, which a plain writer sealed
    assert "start" not in next(t for t in Store.open(root).tasks.values() if t["id"] == 1)
    cli("undo")  # undoes the annotation the orjson writer sealed
    after = {t["id"]: t for t in Store.open(root).tasks.values()}
    assert "annotations" not in after[2] and after[1]["annotations"] == before[1]["annotations"]
    doctor = run_backlog(["doctor"], env)
    assert doctor.returncode == 0 and "healthy" in doctor.stdout, doctor.stdout + doctor.stderr
