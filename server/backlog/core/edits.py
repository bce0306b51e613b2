"""Turning tool parameters into validated field changes, and applying them (pure).

`parse_edits` reads the string parameters of add/modify/duplicate (`""` clears a field;
`tags` and `depends` add plain items, remove `-x`, replace with `=a,b`) plus the
Taskwarrior-style `extra` tokens (`+tag -tag key:value`) into one dict:
scalar field → stored value or None (clear); `tags` / `depends` → `ListEdit`. `extra` may
also set a UDA that some task already has (`udas`: name → `number` or `text`), so a typo
never creates one.
`apply_edits` returns a new task dict; stored tasks are never mutated.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from collections.abc import Callable, Iterable, Mapping

from backlog.core import dates, recur
from backlog.core.limits import MAX_EXTRA_BYTES, check_length
from backlog.core.patterns import Pattern
from backlog.core.value import Value
from backlog.errors import Action, BacklogError
from backlog.core.model import (
    DOC_TAG, check_agent, check_description, check_priority, check_project, check_tag, check_uda, format_utc,
    read_number, sync_doc_tag,
)

Udas = Callable[[], Mapping[str, str]]  # UDA name → 'number' or 'text', asked only when needed

DATE_PARAMS = ("due", "wait", "scheduled", "until")
DOC_TAG_NOTE = "; ignored tag doc: task_doc_write adds it with a doc"
# One piece of a shell word (shlex's POSIX rules): plain run, '…', "…" (\\ and \" escaped), \x, or blanks.
_PIECE = Pattern(r"""([^ \t\r\n'"\\]+)|'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([ \t\r\n]+)""", "DOTALL")
_DQ_ESCAPE = Pattern(r'\\([\\"])')
EXTRA_KEYS = ("description", "project", "priority", "due", "wait", "scheduled", "until", "recur", "agent", "depends", "tags")


class ListEdit(Value):
    """Replace the list (`replace` is not None) or add/remove items."""

    replace: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def apply(self, current: list[str]) -> list[str]:
        items = dict.fromkeys(self.replace if self.replace is not None else current)
        items.update(dict.fromkeys(self.add))
        removed = set(self.remove)
        return [x for x in items if x not in removed]


def split_list(field: str, value: str) -> list[str]:
    """Items of a comma list or a JSON array of strings."""
    text = value.strip()
    if text.startswith("["):
        import orjson  # here: its import costs ~35 ms, few edits give a JSON array

        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise BacklogError(field, f"cannot read JSON array {text[:40]!r}", 'use ["a","b"] or a comma list a,b') from None
        if not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
            raise BacklogError(field, "the JSON array must hold strings", 'use ["a","b"]')
        return [str(x).strip() for x in items if str(x).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


def list_edit(field: str, value: str, check: Callable[[str], str]) -> ListEdit:
    """`a,+b` adds a and b; `-c` removes c; `=a,b` replaces the whole list; `""` (or `=`) clears.

    Plain items add, as the original plugin documents and as Taskwarrior's `depends:3` does:
    replacing by default would silently drop what callers expect to keep.
    """
    if value == "" or value.startswith("="):
        items = split_list(field, value[1:])
        signed = next((item for item in items if item[0] in "+-"), None)
        if signed is not None:
            raise BacklogError(field, f"'=' replaces the set with plain names, got '{signed}'",
                               "drop the + and - or leave out the =")
        return ListEdit(replace=tuple(check(item) for item in items))
    items = split_list(field, value)
    add = tuple(check(i[1:] if i[0] == "+" else i) for i in items if i[0] != "-")
    remove = tuple(check(i[1:]) for i in items if i[0] == "-")
    return ListEdit(add=add, remove=remove)


def extra_key(key: str) -> str | None:
    """The attribute an `extra` key names: exact, or an unambiguous prefix of ≥ 3 chars (`pri`)."""
    matches = [k for k in EXTRA_KEYS if k == key or (len(key) >= 3 and k.startswith(key))]
    return matches[0] if len(matches) == 1 else None


def near_key(key: str, udas: Mapping[str, str]) -> str | None:
    """The attribute or UDA name `key` is likely a typo of (`priorty` → `priority`), or None."""
    import difflib  # only for a mistake: most writers never need it

    close = difflib.get_close_matches(key, [*EXTRA_KEYS, *udas], n=1, cutoff=0.8)
    return close[0] if close else None


def split_words(text: str) -> list[str]:
    """The words of `text` as POSIX `shlex.split` gives them, in one linear pass; ValueError on an open quote."""
    words: list[str] = []
    parts: list[str] | None = None  # the word being read
    pos = 0
    while pos < len(text):
        match = _PIECE.match(text, pos)
        if match is None:
            raise ValueError("No closing quotation" if text[pos] in "'\"" else "No escaped character")
        pos = match.end()
        plain, single, double, escaped, blank = match.groups()
        if blank is not None:
            if parts is not None:
                words.append("".join(parts))
            parts = None
            continue
        if double is not None:
            double = _DQ_ESCAPE.sub(r"\1", double)
        if parts is None:
            parts = []
        parts.append(next(p for p in (plain, single, double, escaped) if p is not None))
    if parts is not None:
        words.append("".join(parts))
    return words


def parse_extra(extra: str, udas: Udas = dict) -> dict[str, str]:
    """`+a -b project:web due:"next friday"` → {"tags": "+a,-b", "project": "web", "due": ...}.

    At most MAX_EXTRA_BYTES of UTF-8 (core.limits).
    """
    check_length("extra", len(extra.encode("utf-8", "surrogatepass")), MAX_EXTRA_BYTES, "bytes",
                 ("put long text in the doc (", Action("doc_write"), ") or split the change"))
    try:
        tokens = split_words(extra)
    except ValueError as err:
        raise BacklogError("extra", f"cannot read {extra[:60]!r} ({err})", 'quote values with spaces like due:"next friday"') from None
    params: dict[str, str] = {}
    tags: list[str] = []
    for token in tokens:
        if token[:1] in "+-" and len(token) > 1 and ":" not in token:
            tags.append(token)
            continue
        key, sep, value = token.partition(":")
        name = key if key in EXTRA_KEYS or (sep and key in udas()) else extra_key(key)
        if not sep or name is None:
            close = near_key(key, udas()) if sep else None
            raise BacklogError(
                "extra", f"cannot use '{token}'",
                (f"did you mean '{close}'? " if close else "") + "use +tag, -tag or key:value with key one of "
                + ", ".join([*EXTRA_KEYS, *udas()]),
            )
        if name in params:
            raise BacklogError("extra", f"sets {name} twice", "give each attribute once")
        params[name] = value
    if tags:
        if "tags" in params:
            raise BacklogError("extra", "mixes tags:… with +tag/-tag", "use one form")
        params["tags"] = ",".join(tags)
    return params


def merge_params(params: Mapping[str, str | None], extra: str | None, udas: Udas = dict) -> dict[str, str]:
    """Explicit parameters plus `extra` tokens; a field given both ways is an error."""
    merged = {k: v for k, v in params.items() if v is not None}
    for key, value in parse_extra(extra or "", udas).items():
        if key in merged:
            raise BacklogError("extra", f"sets {key}, which the {key} parameter already sets", "give it once")
        merged[key] = value
    return merged


def parse_edits(params: Mapping[str, str], now: datetime, tz: tzinfo,
                resolve_dep: Callable[[str], str], udas: Udas = dict) -> dict[str, object]:
    """Validated changes from string parameters; BacklogError names the parameter at fault."""
    edits: dict[str, object] = {}
    for field, raw in params.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(value, str):
            raise BacklogError(field, f"expected text, got {type(raw).__name__}", "pass a string")
        if field == "description":
            edits[field] = check_description(raw)
        elif field == "tags":
            edits[field] = list_edit("tags", value, check_tag)
            if DOC_TAG in edits[field].remove:
                raise BacklogError("tags", "'doc' follows the task's doc and cannot be removed by hand",
                                   ("delete the doc with ", Action("doc_delete")))
        elif field == "depends":
            edits[field] = list_edit("depends", value, resolve_dep)
        elif value == "":
            edits[field] = None
        elif field in DATE_PARAMS:
            edits[field] = format_utc(dates.parse_date(value, now, tz, field))
        elif field == "project":
            edits[field] = check_project(value)
        elif field == "priority":
            edits[field] = check_priority(value)
        elif field == "agent":
            edits[field] = check_agent(value)
        elif field == "recur":
            edits[field] = recur.check_period(value)
        elif field in udas():
            edits[field] = uda_value(field, value, udas()[field])
        else:
            raise BacklogError(field, "cannot be set here", "use one of " + ", ".join(EXTRA_KEYS))
    return edits


def doc_tag_note(edits: Mapping[str, object]) -> str:
    """The message note when `edits` ask for tag `doc`, which only follows has_doc ('' otherwise)."""
    tags = edits.get("tags")
    asked = isinstance(tags, ListEdit) and DOC_TAG in (*tags.add, *(tags.replace or ()))
    return DOC_TAG_NOTE if asked else ""


def uda_value(name: str, text: str, kind: str) -> str | int | float:
    """The stored value of UDA `name` set to `text`: a number when its tasks hold numbers."""
    if kind != "number":
        return check_uda(name, text)
    number = read_number(text)
    if number is None:
        raise BacklogError(name, f"'{text}' is not a number",
                           f"the tasks that have {name} hold numbers, e.g. {name}:3")
    return check_uda(name, number)


def apply_edits(task: dict, edits: Mapping[str, object]) -> dict:
    """A new task dict with `edits` applied (None removes a field; empty lists are dropped).

    Tag `doc` stays derived: kept exactly when the task has a doc, whatever `edits` say.
    """
    new = dict(task)
    for field, value in edits.items():
        if isinstance(value, ListEdit):
            value = value.apply(task.get(field, [])) or None
        if value is None:
            new.pop(field, None)
        else:
            new[field] = value
    return sync_doc_tag(new)


def find_cycles(starts: Iterable[str], depends_of: Callable[[str], Iterable[str]]) -> list[str] | None:
    """A dependency cycle `a → … → a` reachable from any of `starts`, or None.

    One depth-first pass: `depends_of` is called once per reachable task and each edge is
    followed once, so checking a whole import batch costs O(tasks + edges).
    """
    state: dict[str, bool] = {}  # True while on the current path, False when finished
    for root in starts:
        if root in state:
            continue
        state[root] = True
        path, pending = [root], [iter(depends_of(root))]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = False
                pending.pop()
            elif state.get(dep):
                return path[path.index(dep):] + [dep]
            elif dep not in state:
                state[dep] = True
                path.append(dep)
                pending.append(iter(depends_of(dep)))
    return None
