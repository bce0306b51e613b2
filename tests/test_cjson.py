"""core/cjson.py: the same objects and bytes as the `json` package, and its errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from backlog.core import cjson

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=20)


def same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300)
@given(VALUES, st.booleans(), st.booleans())
def test_dumps_writes_what_json_dumps_writes(value, ascii, spaced):
    separators = None if spaced else (",", ":")
    assert cjson.dumps(value, ascii=ascii, spaced=spaced) == json.dumps(value, ensure_ascii=ascii, separators=separators)
    text = json.dumps(value)
    assert same(cjson.loads(text), json.loads(text)) and same(cjson.loads(text.encode()), json.loads(text.encode()))


@settings(max_examples=300)
@given(st.binary(max_size=12) | st.text(max_size=12).map(str.encode) | st.sampled_from(
    [b'\xef\xbb\xbf{"a":1}', b'{"a":1} x', b" [1,2] \n", b'"\\ud800"', b'"\xed\xa0\x80"', b"NaN", b"[-Infinity]",
     b'{"a":"\x01"}', b"\x00{", b"{}\x00", "\ufeff[]".encode()]))
def test_loads_answers_or_fails_as_json_loads(data):
    try:
        expected = json.loads(data)
    except (ValueError, RecursionError) as err:
        with pytest.raises(type(err)) as got:
            cjson.loads(data)
        assert str(got.value) == str(err)
    else:
        assert same(cjson.loads(data), expected)


@pytest.mark.parametrize("text", ["NaN", "[1, Infinity]", '{"a": -Infinity}'])
def test_without_constants_nan_and_infinity_are_refused(text):
    with pytest.raises(ValueError, match="is not JSON"):
        cjson.loads(text, constants=False)
    assert cjson.loads("[1.5e3]", constants=False) == [1500.0]


def test_refusals_are_jsons():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        cjson.dumps({"a": {1}})
    with pytest.raises(ValueError, match="Out of range float values"):
        cjson.dumps([math.inf], allow_nan=False)
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        cjson.dumps(loop)


def test_importing_it_loads_neither_json_nor_re():
    code = "import sys, backlog.core.cjson as c; c.loads(b'{\"a\": [1, 2.5, null]}'); c.dumps({'a': 'b'}); print(sorted({'json', 're', 'enum'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("text", ["{not json", "[1,", "", '{"a": 1} 2'])
def test_bad_json_in_a_fresh_process_gets_jsons_error(text):
    """Before json.decoder is imported, the C scanner cannot raise its error (a SystemError)."""
    code = "import sys, backlog.core.cjson as c\ntry:\n    c.loads(sys.argv[1])\nexcept ValueError as err:\n    print(type(err).__name__, err)"
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True).stdout
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    assert out.strip() == f"JSONDecodeError {err.value}"
