"""Every failure reaches the caller as one line `<param>: <what was wrong>; <fix>`.

`failure_line` for exceptions, `validation_line` for the SDK's argument validation,
`unknown_parameter_line` for arguments a tool does not take; `compact_schema` trims the
advertised schemas.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from backlog.errors import BacklogError, FormatError, StoreError

INTERNAL_TEXT_LIMIT = 300


def failure_line(exc: BaseException) -> str:
    """The one line a tool answers for an exception raised by a call."""
    if isinstance(exc, (BacklogError, FormatError)):
        text = str(exc)
    elif isinstance(exc, StoreError):
        text = f"store: {exc}"
    elif isinstance(exc, OSError):
        where = exc.filename or "the data dir"
        text = f"store: cannot use {where} ({exc.strerror or exc}); check its permissions or set TASKDATA to a writable directory"
    else:
        detail = str(exc)[:INTERNAL_TEXT_LIMIT]
        text = f"internal: {type(exc).__name__}: {detail}; please report this"
    return " ".join(text.split())


_KINDS = {
    "string": "text", "int": "an integer", "bool": "true or false", "list": "an array",
    "dict": "an object", "float": "a number",
}
_FIXES = {
    ("an integer",): "pass a whole number like 20",
    ("text",): "pass a string",
    ("text", "an integer"): "pass a number like 12 or a string like '12'",
    ("text", "an array"): "pass a comma list like 'a,b' or a JSON array of strings",
    ("text", "an integer", "an array"): "pass a comma list like '3,5' or a JSON array",
}


def _kind(error_type: str) -> str | None:
    prefix = error_type.split("_")[0]
    return _KINDS.get(prefix)


def _shown(value: Any) -> str:
    """A received argument as the caller wrote it, in JSON terms, kept short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validation_line(errors: Sequence[Mapping[str, Any]], arguments: Mapping[str, Any]) -> str:
    """One line for pydantic's argument errors (`ValidationError.errors()`): the first parameter at fault."""
    if not errors:
        return "arguments: are invalid; check them against the tool's input schema"
    param = str(errors[0]["loc"][0]) if errors[0].get("loc") else "arguments"
    mine = [e for e in errors if e.get("loc") and str(e["loc"][0]) == param]
    others = sorted({str(e["loc"][0]) for e in errors if e.get("loc")} - {param})
    more = f" (also check {', '.join(others)})" if others else ""
    if any(e["type"] == "missing" for e in mine):
        return f"{param}: is required; pass a value for {param}{more}"
    kinds = tuple(dict.fromkeys(k for k in (_kind(e["type"]) for e in mine) if k))
    got = _shown(arguments.get(param))
    if not kinds:
        reason = " ".join(str(mine[0].get("msg", "is invalid")).split())
        return f"{param}: {reason.lower()}, got {got}; check the tool's input schema{more}"
    order = ("text", "an integer", "a number", "true or false", "an array", "an object")
    kinds = tuple(sorted(kinds, key=lambda k: order.index(k) if k in order else len(order)))
    fix = _FIXES.get(kinds, "pass " + " or ".join(kinds))
    return f"{param}: expected {' or '.join(kinds)}, got {got}; {fix}{more}"


def unknown_parameter_line(tool: str, unknown: Sequence[str], known: Sequence[str]) -> str:
    """The line for arguments the tool does not take (they would otherwise be ignored)."""
    names = ", ".join(known) if known else "none"
    return f"{unknown[0]}: is not a parameter of {tool}; use {names}"


def compact_schema(node: Any) -> Any:
    """A JSON schema without pydantic's noise: titles, `null` arms of optional values, `default: null`.

    The arguments are still validated by the SDK's pydantic model, which also accepts
    `null` for every optional parameter. Unions stay `anyOf` of single types (a `type`
    list is less portable across model providers).
    """
    if isinstance(node, list):
        return [compact_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: compact_schema(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    options = out.get("anyOf")
    if isinstance(options, list) and any(o != {"type": "null"} for o in options):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) < len(options) and out.get("default", 0) is None:
            del out["default"]
        del out["anyOf"]
        out = {**kept[0], **out} if len(kept) == 1 else {"anyOf": kept, **out}
    return out
