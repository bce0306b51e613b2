"""The standard library's JSON through its C accelerators alone: what a hook needs, sooner.

`import json` loads `re` and `enum` for its pure-Python fallbacks (~8 ms of a hook's start);
`_json` holds the scanner and encoder that `json.loads` and `json.dumps` use anyway. So
`loads` and `dumps` give exactly what `json.loads` and compact `json.dumps` give: the same
objects, the same bytes. Anything the fast path does not take (bad JSON, a byte order mark,
text that is not UTF-8) goes to the `json` package, which then answers or raises its own error.
"""

from __future__ import annotations

import _json

_WHITESPACE = " \t\n\r"


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _not_json(obj: object) -> object:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class _Reading:
    """The settings `_json.make_scanner` reads from a decoder (json.JSONDecoder's defaults)."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int

    def __init__(self, constants: bool) -> None:
        self.parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                               "-Infinity": float("-inf")}.__getitem__ if constants else _no_constant


_SCANNERS = {constants: _json.make_scanner(_Reading(constants)) for constants in (True, False)}


def loads(data: bytes | str, constants: bool = True) -> object:
    """`json.loads(data)`; with `constants` False, NaN and Infinity are a ValueError (as orjson)."""
    try:
        text = data if isinstance(data, str) else data.decode()
        start = len(text) - len(text.lstrip(_WHITESPACE))
        found, end = _SCANNERS[constants](text, start)
        if not text[end:].strip(_WHITESPACE):
            return found
    except (StopIteration, ValueError, SystemError):
        pass  # (SystemError: before json.decoder is imported, the scanner cannot make its error)
    import json  # the slow path answers, or raises json's own error

    return json.loads(data) if constants else json.loads(data, parse_constant=_no_constant)


def raw_decode(text: str, start: int) -> tuple[object, int]:
    """(the JSON value that begins at `start` in `text`, where it ends), as
    `json.JSONDecoder().raw_decode`; ValueError when no value begins there."""
    try:
        return _SCANNERS[True](text, start)
    except (StopIteration, SystemError):
        raise ValueError(f"no JSON value begins at character {start}") from None


def dumps(obj: object, ascii: bool = False, allow_nan: bool = True, spaced: bool = False) -> str:
    """`json.dumps(obj, ensure_ascii=ascii, allow_nan=allow_nan)`, compact (`separators=(",", ":")`)
    unless `spaced` (json's default separators)."""
    quote = _json.encode_basestring_ascii if ascii else _json.encode_basestring
    if isinstance(obj, str):
        return quote(obj)
    items, keys = (", ", ": ") if spaced else (",", ":")
    encode = _json.make_encoder({}, _not_json, quote, None, keys, items, False, False, allow_nan)
    return "".join(encode(obj, 0))
