"""The CLI starts light (issue 16, "Fast"): a read-only command imports only what it uses,
and the pieces that make that possible behave as what they replace."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest

from backlog.cli.table import as_json
from backlog.core.value import Value
from backlog.store.sealed import parse, seal, unseal
from tests.conftest import NOW_ISO, run_backlog
from tests.test_hook_imports import imported_modules

# What a plain `list`, `next` or `info` never needs: orjson with what it pulls in, the
# helpers of mistakes and dates, and the engine areas that write.
NOT_READING = {"orjson", "dataclasses", "inspect", "typing", "uuid", "platform", "difflib", "_strptime",
               "calendar"}
WRITERS = {"backlog.core.edits", "backlog.engine.tasks", "backlog.engine.claims", "backlog.engine.exchange"}


@pytest.mark.parametrize("command", [["list"], ["next"], ["1"]])
def test_a_read_only_command_imports_only_what_it_uses(tmp_path, clean_env, command):
    env = {**clean_env, "TASKDATA": str(tmp_path / "data"), "BACKLOG_NOW": NOW_ISO}
    for words in (["add", "Write", "the", "report", "due:tomorrow", "+docs"], ["add", "Review", "it", "depends:1"]):
        assert run_backlog(words, env).returncode == 0
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "backlog", *command],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert "Write the report" in result.stdout  # the command did its real work
    modules = imported_modules(result.stderr)
    assert not NOT_READING & modules, f"`backlog {command[0]}` imported {sorted(NOT_READING & modules)}"
    full = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not WRITERS & full, f"`backlog {command[0]}` imported {sorted(WRITERS & full)}"


@pytest.mark.parametrize("loaded", [False, True])
def test_parse_reads_what_orjson_reads_and_refuses_what_it_refuses(monkeypatch, loaded):
    """Below ORJSON_ABOVE, a process that has not imported orjson parses with the standard library."""
    record = {"seq": 3, "ops": [{"k": "t:x", "n": {"description": "caf\u00e9 \u2028 \U0001f600 \"q\"\n", "urgency": 1.5e-7,
                                                    "id": 2 ** 62, "tags": [], "ok": True, "none": None}}]}
    sealed = seal(record)  # orjson is imported here (by this module), so orjson writes it
    if not loaded:
        monkeypatch.delitem(sys.modules, "orjson")
    assert unseal(sealed, True) == record == orjson.loads(orjson.dumps(record))
    for bad in (b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}', b'{"a":1', b'\xff'):
        with pytest.raises(ValueError):
            parse(bad)
        with pytest.raises(ValueError):
            orjson.loads(bad)
    assert ("orjson" in sys.modules) == loaded  # reading never imported it


@pytest.mark.parametrize("value", ["plain", "tab\tquote\"back\\slash\u0001\u007f\u2028é😀", 0, -12, 2 ** 40, True, False,
                                   None, [], ["a", "b,c", 3], {"k": [1.5, None]}, [1.25], [["nested"]],
                                   {"message": "added task 3", "task": {"id": 3, "urgency": 0.0, "tags": ["é"]}},
                                   {"urgency": 1.5e-07, "due": 1e16}, 2 ** 64 - 1])
def test_as_json_writes_what_orjson_writes(value):
    assert as_json(value) == orjson.dumps(value).decode()
    assert as_json(value, indent=True) == orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


class Point(Value):
    x: int
    y: int = 0
    label: str = ""
    HIDDEN = ("label",)


def test_a_value_compares_hashes_and_shows_its_fields_and_stays_put():
    assert Point(1) == Point(1, 0) == Point(x=1, label="elsewhere")
    assert Point(1) != Point(2) and Point(1).__eq__((1, 0)) is NotImplemented
    assert hash(Point(1, 2, "a")) == hash(Point(1, 2, "b"))
    assert repr(Point(1, 2, "a")) == "Point(x=1, y=2)" and Point(1).label == ""
    with pytest.raises(AttributeError):
        Point(1).x = 2
    for args, named in (((), {}), ((1,), {"x": 1}), ((1,), {"z": 2}), ((1, 2, "", 4), {})):
        with pytest.raises(TypeError):
            Point(*args, **named)
    assert json.dumps(Point.FIELDS) == '["x", "y", "label"]'
