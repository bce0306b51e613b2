"""Filter attribute terms (`project:web`, `due.before:eow`, `+tag`, words, ids) → Python source.

Each function returns the source of a test on task `t`; constants and once-per-call values
go through an `Emitter`, so the compiled predicate does no parsing per task. Raising
`TermError` means the term cannot match anything sensible; the caller positions it.
"""

from __future__ import annotations

import operator
from datetime import datetime, tzinfo
from types import MappingProxyType
from collections.abc import Callable, Iterable, Mapping

from backlog.core.dates import period_bounds
from backlog.core.model import PRIORITY_RANK, format_utc, read_number
from backlog.core.virtual import VIRTUAL


def _resolve_refs(c: object, refs: tuple[str, ...]) -> frozenset[str]:
    """The uuids `refs` name in the view `c` (bound once per evaluation)."""
    return c.resolve_refs(refs)  # type: ignore[attr-defined]


# Filter attribute → kind of value and matching rules; any other name is a UDA (kind `uda`).
ATTRIBUTES: Mapping[str, str] = MappingProxyType({
    "id": "id", "uuid": "uuid", "parent": "uuid", "description": "description",
    "status": "status", "project": "project", "priority": "priority", "tags": "tags",
    "depends": "depends", "annotations": "annotations", "has_doc": "bool", "urgency": "urgency",
    "recur": "text", "agent": "text", "origin": "text",
    **dict.fromkeys(("due", "scheduled", "wait", "until", "start", "end", "entry", "modified"), "date"),
})
# Modifier name or synonym → canonical modifier ('' = no modifier).
MODIFIERS: Mapping[str, str] = MappingProxyType({
    "is": "is", "equals": "is", "isnt": "isnt", "not": "not", "has": "has", "contains": "has",
    "hasnt": "hasnt", "startswith": "startswith", "left": "startswith", "endswith": "endswith",
    "right": "endswith", "word": "word", "noword": "noword", "before": "before", "below": "before",
    "under": "before", "after": "after", "above": "after", "over": "after", "by": "by",
    "none": "none", "any": "any",
})
_NEGATIONS = MappingProxyType({"not": "", "isnt": "is", "hasnt": "has", "noword": "word"})
_TEXT_ONLY = ("has", "startswith", "endswith", "word")
_ORDER = ("before", "after", "by")
_ALLOWED = MappingProxyType({
    "date": ("", "is", "not", "isnt", *_ORDER, "none", "any"),
    "id": ("", "is", "not", "isnt", *_ORDER, "none", "any"),
    "urgency": ("", "is", "not", "isnt", *_ORDER, "none", "any"),
    "bool": ("", "is", "not", "isnt", "none", "any"),
    "depends": ("", "is", "not", "isnt", "has", "hasnt", "none", "any"),
    "tags": ("", "is", "not", "isnt", *_TEXT_ONLY, "hasnt", "noword", "none", "any"),
    "annotations": ("", "is", "not", "isnt", *_TEXT_ONLY, "hasnt", "noword", "none", "any"),
})
_BOOLS = MappingProxyType({"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False})
_STATUS_VALUES = ("pending", "completed", "deleted", "recurring", "waiting")


class TermError(Exception):
    """A term that cannot match anything sensible: `problem` and `fix`, positioned by the caller."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


class Emitter:
    """Collects the constants and once-per-call statements of one generated predicate."""

    def __init__(self, now: datetime, tz: tzinfo) -> None:
        self.now, self.tz = now, tz
        self.constants: dict[str, object] = {}
        self.per_call: list[str] = []

    def const(self, value: object) -> str:
        """A name bound to `value` in the generated code's namespace."""
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def once(self, function: Callable, *values: object) -> str:
        """A name bound, once per evaluation, to `function(c, *values)`."""
        name = f"p{len(self.per_call)}"
        args = "".join(f", {self.const(v)}" for v in values)
        self.per_call.append(f"{name} = {self.const(function)}(c{args})")
        return name


def attribute_source(attr: str, mod: str, value: str, em: Emitter, read_date: Callable[[str], datetime]) -> str:
    """Python source testing task `t` for `attr.mod:value`; TermError when it makes no sense."""
    kind = ATTRIBUTES.get(attr, "uda")
    if value == "" and mod in ("", "is", "not", "isnt"):
        mod = "none" if mod in ("", "is") else "any"
    if mod in ("none", "any"):
        test = _presence(attr, kind)
        return test if mod == "any" else f"not ({test})"
    if value == "":
        raise TermError("needs a value", f"give one, e.g. '{attr}.{mod}:x', or use '{attr}.none:'")
    allowed = _ALLOWED.get(kind)
    if allowed is not None and mod not in allowed:
        names = ", ".join(m for m in allowed if m)
        raise TermError(f"modifier '{mod}' does not apply to '{attr}'", f"use no modifier or one of {names}")
    if mod in _NEGATIONS:
        return f"not ({attribute_source(attr, _NEGATIONS[mod], value, em, read_date)})"
    if kind == "date":
        return _date(attr, mod, read_date(value), em)
    return _VALUE_KINDS.get(kind, _text)(attr, mod, value, em)


def _presence(attr: str, kind: str) -> str:
    if kind == "urgency":
        return "True"
    if kind == "bool":
        return "t.get('has_doc') is True"
    if kind == "uda":
        return f"{attr!r} in t"
    return f"bool(t.get({attr!r}))"


def _date(attr: str, mod: str, moment: datetime, em: Emitter) -> str:
    stamp = em.const(format_utc(moment))
    if mod == "":
        lo, hi = (em.const(format_utc(b)) for b in period_bounds("day", moment, em.tz))
        return f"{lo} <= t.get({attr!r}, '') < {hi}"
    return {
        "is": f"t.get({attr!r}) == {stamp}",
        "before": f"t.get({attr!r}, '~') < {stamp}",
        "after": f"t.get({attr!r}, '') > {stamp}",
        "by": f"t.get({attr!r}, '~') <= {stamp}",
    }[mod]


def _text(attr: str, mod: str, value: str, em: Emitter) -> str:
    """Case-insensitive text rules; `is` is exact, before/after compare lower-cased text."""
    get, low = f"t.get({attr!r}, '')", em.const(value.lower())
    if mod == "is":
        return f"t.get({attr!r}) == {em.const(value)}"
    if mod in _ORDER:
        op = {"before": "<", "after": ">", "by": "<="}[mod]
        return f"{attr!r} in t and t[{attr!r}].lower() {op} {low}"
    return _text_test(get, mod, value, em, equal=f"{get}.lower() == {low}")


def _text_test(get: str, mod: str, value: str, em: Emitter, equal: str) -> str:
    """`equal` for no modifier, else has/startswith/endswith/word on the text `get`."""
    low = em.const(value.lower())
    if mod == "":
        return equal
    if mod == "has":
        return f"{low} in {get}.lower()"
    if mod == "startswith":
        return f"{get}.lower().startswith({low})"
    if mod == "endswith":
        return f"{get}.lower().endswith({low})"
    import re  # here and in _uda: a filter without a word match never loads it

    pattern = em.const(re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE))
    return f"{pattern}.search({get}) is not None"


def _description(attr: str, mod: str, value: str, em: Emitter) -> str:
    return _text(attr, "has" if mod == "" else mod, value, em)


def _uuid(attr: str, mod: str, value: str, em: Emitter) -> str:
    return _text(attr, "startswith" if mod == "" else mod, value, em)


def _project(attr: str, mod: str, value: str, em: Emitter) -> str:
    if mod == "":
        below = em.const(value.lower() + ".")
        return f"(t.get('project', '') + '.').lower().startswith({below})"
    return _text(attr, mod, value, em)


def _status(attr: str, mod: str, value: str, em: Emitter) -> str:
    if mod not in ("", "is"):
        return _text(attr, mod, value, em)
    name = value.lower()
    if name not in _STATUS_VALUES:
        raise TermError(f"'{value}' is not a status", _suggest(name, _STATUS_VALUES))
    if name == "waiting":
        return f"({VIRTUAL['WAITING']})"
    return f"t['status'] == {em.const(name)}"


def _priority(attr: str, mod: str, value: str, em: Emitter) -> str:
    if mod not in ("", "is", *_ORDER):
        return _text(attr, mod, value, em)
    level = value.upper()
    if level not in PRIORITY_RANK:
        raise TermError(f"'{value}' is not a priority", f"use H, M or L, or '{attr}:' for none")
    if mod in ("", "is"):
        return f"t.get('priority') == {em.const(level)}"
    op = {"before": "<", "after": ">", "by": "<="}[mod]
    return f"{em.const(PRIORITY_RANK)}.get(t.get('priority'), 0) {op} {PRIORITY_RANK[level]}"


def _list(attr: str, mod: str, value: str, em: Emitter) -> str:
    """tags: exact element; annotations: text in some note; has/startswith/…: some element."""
    items = "t.get('tags', ())" if attr == "tags" else "(a['description'] for a in t.get('annotations', ()))"
    if attr == "tags" and mod in ("", "is"):
        return f"{em.const(value)} in t.get('tags', ())"
    if mod == "is":
        return f"{em.const(value)} in {items}"
    inner = _text_test("x", "has" if mod == "" else mod, value, em, equal="")
    return f"any({inner} for x in {items})"


def _depends(attr: str, mod: str, value: str, em: Emitter) -> str:
    refs = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    for ref in refs:
        if not (ref.isdigit() or (len(ref) >= 8 and all(ch in "0123456789abcdef-" for ch in ref))):
            raise TermError(f"'{ref}' is not a task id or uuid", "name the task by id (3) or uuid (8+ hex digits)")
    return f"not {em.once(_resolve_refs, refs)}.isdisjoint(t.get('depends', ()))"


def _number(attr: str, mod: str, value: str, em: Emitter) -> str:
    try:
        number = float(value) if attr == "urgency" else int(value)
    except ValueError:
        example = "5.5" if attr == "urgency" else "12"
        raise TermError(f"'{value}' is not a number", f"use a number, e.g. '{attr}.after:{example}'") from None
    value_name = em.const(number)
    if attr == "urgency":
        from backlog.core.urgency import scorer  # urgency builds on this module

        get = f"{em.once(scorer)}(t)"
        if mod == "":
            return f"abs({get} - {value_name}) < 0.05"
        low = high = get
    else:
        get, low, high = "t.get('id')", "0 < t.get('id', 0)", "t.get('id', 0)"
        mod = mod or "is"
    return {
        "is": f"{get} == {value_name}",
        "before": f"{low} < {value_name}",
        "after": f"{high} > {value_name}",
        "by": f"{low} <= {value_name}",
    }[mod]


def _bool(attr: str, mod: str, value: str, em: Emitter) -> str:
    wanted = _BOOLS.get(value.lower())
    if wanted is None:
        raise TermError(f"'{value}' is not yes or no", f"use {attr}:yes or {attr}:no (true/false, 1/0)")
    return "t.get('has_doc') is True" if wanted else "t.get('has_doc') is not True"


def as_number(value: object) -> int | float | None:
    """The number a UDA value or filter value holds (JSON number or numeric text), else None."""
    if isinstance(value, str):
        return read_number(value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _uda(attr: str, mod: str, value: str, em: Emitter) -> str:
    """As numbers when both sides are numbers, else as text like `_text` (case-insensitive, `is` exact)."""
    import re

    number, low = as_number(value), value.lower()
    word = re.compile(r"(?<!\w)" + re.escape(low) + r"(?!\w)")

    def test(stored: object) -> bool:
        mine = as_number(stored) if number is not None and mod in _COMPARE else None
        if mine is not None:
            return _COMPARE[mod](mine, number)
        text = stored if isinstance(stored, str) else str(stored)
        if mod == "is":
            return text == value
        text = text.lower()
        if mod in _COMPARE:
            return _COMPARE[mod](text, low)
        if mod == "has":
            return low in text
        if mod == "startswith":
            return text.startswith(low)
        if mod == "endswith":
            return text.endswith(low)
        return word.search(text) is not None

    return f"{attr!r} in t and {em.const(test)}(t[{attr!r}])"


_COMPARE: Mapping[str, Callable[[object, object], bool]] = MappingProxyType({
    "": operator.eq, "is": operator.eq, "before": operator.lt, "after": operator.gt, "by": operator.le,
})


def _suggest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    import difflib  # only for a mistake: most processes never need it

    close = difflib.get_close_matches(word, choices, n=1)
    listing = ", ".join(choices)
    return f"did you mean '{close[0]}'? use one of {listing}" if close else f"use one of {listing}"


_VALUE_KINDS: Mapping[str, Callable[[str, str, str, Emitter], str]] = MappingProxyType({
    "description": _description, "uuid": _uuid, "project": _project, "status": _status,
    "priority": _priority, "tags": _list, "annotations": _list, "depends": _depends,
    "id": _number, "urgency": _number, "bool": _bool, "uda": _uda,
})


# --- tags, bare words, id sets → Python source -----------------------------------------

def tag_source(name: str, present: bool, em: Emitter) -> str:
    """`+name` / `-name`: an ordinary tag, exact and case-sensitive."""
    return f"{em.const(name)} {'in' if present else 'not in'} t.get('tags', ())"


def word_source(text: str, em: Emitter) -> str:
    """A bare word: case-insensitive substring of the description or of an annotation."""
    low = em.const(text.lower())
    notes = f"any({low} in a['description'].lower() for a in t['annotations'])"
    return f"{low} in t['description'].lower() or ('annotations' in t and {notes})"


def ids_source(ranges: Iterable[tuple[int, int]], uuids: Iterable[str], em: Emitter) -> str:
    """Any of the id ranges, full uuids or uuid prefixes."""
    ranges, uuids, parts = list(ranges), list(uuids), []
    small = frozenset(i for lo, hi in ranges if hi - lo < 1000 for i in range(lo, hi + 1))
    if small:
        parts.append(f"t.get('id') in {em.const(small)}")
    parts += [f"{em.const(lo)} <= t.get('id', 0) <= {em.const(hi)}" for lo, hi in ranges if hi - lo >= 1000]
    full = frozenset(u for u in uuids if len(u) == 36)
    if full:
        parts.append(f"t['uuid'] in {em.const(full)}")
    prefixes = tuple(u for u in uuids if len(u) < 36)
    if prefixes:
        parts.append(f"t['uuid'].startswith({em.const(prefixes)})")
    return " or ".join(parts)
