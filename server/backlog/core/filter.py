"""The filter language (SPEC §6): text → tokens → AST → generated Python → tasks.

`parse_filter` turns text into an AST of immutable nodes (`core.value.Value`) that print their parse.
`compile_filter` applies the default status rule, resolves every date once, and turns
the AST into the source of one list comprehension (`[t for t in tasks if <expr>]`),
compiled with `exec`: the generated code is the evaluator, for `select` and `matches`
alike. User text never enters the source; values are bound as names (`k0`, `k1`, …).

Decisions where SPEC §6 is silent:
- Positions in errors are 1-based character columns of the token in the filter text.
- Operators `and or xor not` are case-insensitive; quote a word to search for it.
- Attribute names may be abbreviated to ≥ 2 characters (Taskwarrior's
  abbreviation.minimum=2) when the prefix names one of them; an exact name always wins.
  Modifiers are exact (synonyms included), as in Taskwarrior and SPEC §6's own example:
  `due.befor:` is an error suggesting `before`, never a silent guess.
- Id and uuid terms juxtaposed in one `and` chain form one set (`3 7` = tasks 3 and 7,
  as in Taskwarrior). For the status rule, `id:`/`uuid:` equality terms name ids too, and
  ids under `not` do not (`not 3` is the default view without task 3).
- UUID prefixes must have the shape of a uuid's start (8 hex digits, then `-` where a uuid
  has one): `2026-11-24` stays a word. An empty quoted string is an error.
- A date value that is not a date on its own takes up to two following plain words
  (`due.before:next week`, `due:in 3 days`). Quote values containing parentheses.
- `+NAME` in upper case that is not a virtual tag but close to one is an error (typo).
- A UDA is an attribute once some task has it (`udas`, asked only for names that are not
  exactly a built-in attribute); its name abbreviates like the others.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from types import CodeType, MappingProxyType
from collections.abc import Callable, Iterable, Mapping

from backlog.core.dates import parse_date
from backlog.core.patterns import Pattern
from backlog.core.limits import MAX_FILTER_CHARS, MAX_FILTER_NESTING, MAX_FILTER_TERMS, check_length
from backlog.errors import BacklogError
from backlog.core.model import UUID_SHAPE, VIRTUAL_TAGS, has_shape, is_tag_name
from backlog.core.value import Value
from backlog.core.terms import (
    ATTRIBUTES, MODIFIERS, Emitter, TermError, attribute_source, ids_source, tag_source, word_source,
)
from backlog.core.virtual import STATUS_TAGS, VIRTUAL, needs

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.view import Context

_QUOTES = "\"'"
_ATTR = Pattern(r"([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_]+))?:(.*)", "DOTALL")
_ID_PART = Pattern(r"(\d{1,7})(?:-(\d{1,7}))?")
_OPERATOR_CHARS = frozenset("<>=!~*/%^")
_ATTRIBUTE_NAMES = MappingProxyType({**{name: name for name in ATTRIBUTES}, "doc": "has_doc"})
_REFERENCE_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


# --- AST -------------------------------------------------------------------------------

class All(Value):
    """The empty filter: every task."""

    def __str__(self) -> str:
        return "(all)"


class Attr(Value):
    """`name.modifier:value`; modifier '' = none (canonical names, synonyms resolved)."""

    name: str
    modifier: str
    value: str
    token: str = ""
    pos: int = 0
    HIDDEN = ("token", "pos")  # where it was written: not part of its meaning

    def __str__(self) -> str:
        mod = f" {self.modifier}" if self.modifier else ""
        return f"(attr {self.name}{mod} {self.value!r})"


class Tag(Value):
    """`+name` / `-name`: an ordinary (case-sensitive) tag."""

    name: str
    present: bool = True

    def __str__(self) -> str:
        return f"(tag {'+' if self.present else '-'} {self.name})"


class Virtual(Value):
    """`+NAME` / `-NAME`: a virtual tag of SPEC §6."""

    name: str
    present: bool = True

    def __str__(self) -> str:
        return f"(virtual {'+' if self.present else '-'} {self.name})"


class Word(Value):
    """A bare word or quoted string: case-insensitive text in description or annotations."""

    text: str

    def __str__(self) -> str:
        return f"(word {self.text!r})"


class Ids(Value):
    """Id ranges (single ids are `(n, n)`) and full uuids or uuid prefixes; any one matches."""

    ranges: tuple[tuple[int, int], ...] = ()
    uuids: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges]
        return "(ids " + " ".join(parts + [f"uuid:{u}" for u in self.uuids]) + ")"


class Not(Value):
    item: Node

    def __str__(self) -> str:
        return f"(not {self.item})"


class And(Value):
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return "(and " + " ".join(map(str, self.items)) + ")"


class Or(Value):
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return "(or " + " ".join(map(str, self.items)) + ")"


class Xor(Value):
    left: Node
    right: Node

    def __str__(self) -> str:
        return f"(xor {self.left} {self.right})"


Node = All | Attr | Tag | Virtual | Word | Ids | Not | And | Or | Xor


# --- tokens ----------------------------------------------------------------------------

class _Token(Value):
    kind: str  # '(' ')' op word term
    text: str  # unquoted text (op: canonical operator)
    raw: str  # as written
    pos: int  # 1-based column
    node: Node | None = None


def _fail(problem: str, fix: str) -> BacklogError:
    return BacklogError("filter", problem, fix)


def _words(text: str) -> list[tuple[str, str, int, bool]]:
    """(unquoted text, raw text, 1-based column, starts with a quote) of every word; parens and `!` alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()" or (ch == "!" and text[i + 1:i + 2] not in ("=", "~")):
            out.append((ch, ch, i + 1, False))
            i += 1
            continue
        start, parts = i, []
        while i < n and not text[i].isspace() and text[i] not in "()":
            ch = text[i]
            if ch in _QUOTES and (i == start or text[i - 1] == ":"):
                close = text.find(ch, i + 1)
                if close < 0:
                    raise _fail(f"unmatched {ch!r} at {i + 1}", f"close the quote with {ch!r}")
                parts.append(text[i + 1:close])
                i = close + 1
                continue
            parts.append(ch)
            i += 1
        out.append(("".join(parts), text[start:i], start + 1, text[start] in _QUOTES))
    return out


def _resolve_name(word: str, names: Mapping[str, str], what: str, raw: str, pos: int,
                  abbreviate: bool = True) -> str:
    """The canonical name for `word` (or an unambiguous ≥2-char prefix); BacklogError otherwise."""
    if word in names:
        return names[word]
    starts = sorted(n for n in names if n.startswith(word)) if abbreviate else []
    targets = sorted({names[n] for n in starts})
    if len(targets) == 1 and len(word) >= 2:
        return targets[0]
    where = f"'{word}' in '{raw}' at {pos}"
    listed = " or ".join(f"'{n}'" for n in starts)
    if len(targets) > 1:
        raise _fail(f"ambiguous {what} {where}", f"use {listed}")
    if starts:
        raise _fail(f"{what} {where} is too short to abbreviate", f"use {listed}")
    listing = ", ".join(sorted(names))
    import difflib  # only for a mistake: most processes never need it

    close = difflib.get_close_matches(word, list(names), n=1)
    if close:
        known = f" {what}s: {listing}" if what == "attribute" else ""
        raise _fail(f"unknown {what} {where}", f"did you mean '{close[0]}'?{known}")
    extra = f', or quote it ("{raw}") to search for the text' if what == "attribute" else ""
    raise _fail(f"unknown {what} {where}", f"use one of {listing}{extra}")


def _uuid_prefix(part: str) -> bool:
    return 8 <= len(part) <= 36 and has_shape(part, UUID_SHAPE[:len(part)])


def _ids(text: str, pos: int) -> Ids | None:
    """The Ids of `3`, `3,7`, `3-7`, `deadbeef`, mixed lists; None when `text` is not one."""
    ranges, uuids = [], []
    for part in text.split(","):
        if _uuid_prefix(part):
            uuids.append(part)
            continue
        match = _ID_PART.fullmatch(part)
        if not match:
            return None
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if hi < lo:
            raise _fail(f"range '{part}' at {pos} runs backwards", f"write '{hi}-{lo}'")
        ranges.append((lo, hi))
    return Ids(tuple(ranges), tuple(uuids))


def _tag(sign: str, name: str, raw: str, pos: int) -> Node:
    present = sign == "+"
    name = unicodedata.normalize("NFC", name)
    if name in VIRTUAL_TAGS:
        return Virtual(name, present)
    if not is_tag_name(name):
        raise _fail(f"'{raw}' at {pos} is not a valid tag", "tags use letters, digits and '_', '.', ':', '-'")
    if name.isupper():
        import difflib  # only for a mistake: most processes never need it

        close = difflib.get_close_matches(name, sorted(VIRTUAL_TAGS), n=1, cutoff=0.8)
        if close:
            raise _fail(f"unknown virtual tag '{raw}' at {pos}", f"did you mean '{sign}{close[0]}'?")
    return Tag(name, present)


def _classify(text: str, raw: str, pos: int, quoted: bool, udas: Callable[[], Iterable[str]]) -> _Token:
    if quoted:
        if not text:
            raise _fail(f"empty quotes at {pos}", "put the text to search for inside them or remove them")
        return _Token("word", text, raw, pos, Word(text))
    if raw in ("(", ")"):
        return _Token(raw, raw, raw, pos)
    lower = raw.lower()
    if lower in ("and", "or", "xor", "not") or raw == "!":
        return _Token("op", "not" if raw == "!" else lower, raw, pos)
    if set(raw) <= _OPERATOR_CHARS or raw in ("+", "-"):
        raise _fail(f"operator '{raw}' at {pos} is not supported", "use attribute modifiers, e.g. 'due.before:eow'")
    if raw[0] in "+-":
        return _Token("term", text, raw, pos, _tag(raw[0], text[1:], raw, pos))
    match = _ATTR.fullmatch(text)
    if match:
        word = match.group(1).lower()
        names = _ATTRIBUTE_NAMES if word in _ATTRIBUTE_NAMES else {**{u: u for u in udas()}, **_ATTRIBUTE_NAMES}
        name = _resolve_name(word, names, "attribute", raw, pos)
        mod = match.group(2)
        mod = _resolve_name(mod.lower(), MODIFIERS, "modifier", raw, pos, abbreviate=False) if mod else ""
        value = unicodedata.normalize("NFC", match.group(3)) if name in ("project", "tags") else match.group(3)
        return _Token("term", text, raw, pos, Attr(name, mod, value, raw, pos))
    ids = _ids(text, pos)
    if ids is not None:
        return _Token("ids", text, raw, pos, ids)
    return _Token("word", text, raw, pos, Word(text))


def _readable(value: str) -> bool:
    try:
        parse_date(value, _REFERENCE_NOW, timezone.utc)
    except BacklogError:
        return False
    return True


def _join_dates(tokens: list[_Token]) -> list[_Token]:
    """Let an unreadable date value take up to two following plain words (`due:in 3 days`)."""
    out, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        node = token.node
        i += 1
        if isinstance(node, Attr) and ATTRIBUTES.get(node.name) == "date" and node.value and not _readable(node.value):
            for take in (1, 2):
                following = tokens[i:i + take]
                plain = all(t.kind in ("word", "ids") and t.raw[0] not in _QUOTES for t in following)
                if len(following) < take or not plain:
                    break
                value = " ".join([node.value, *(t.text for t in following)])
                if _readable(value):
                    raw = " ".join([token.raw, *(t.raw for t in following)])
                    joined = Attr(node.name, node.modifier, value, raw, token.pos)
                    token = _Token("term", token.text, raw, token.pos, joined)
                    i += take
                    break
        out.append(token)
    return out


# --- parser ----------------------------------------------------------------------------

class _Parser:
    """Recursive descent; precedence not > and > xor > or; juxtaposition is and."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.i, self.depth = tokens, 0, 0

    def nest(self, token: _Token, levels: int = 1) -> None:
        """Open `levels` levels at `token` (negative closes); the bound keeps recursion shallow."""
        self.depth += levels
        if self.depth > MAX_FILTER_NESTING:
            raise _fail(f"nests deeper than {MAX_FILTER_NESTING} levels at '{token.raw}' at {token.pos}",
                        "flatten it: fewer parentheses, 'not' and 'xor' inside each other")

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take_op(self, name: str) -> _Token | None:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == name:
            self.i += 1
            return token
        return None

    def parse(self) -> Node:
        if not self.tokens:
            return All()
        node = self.parse_or()
        token = self.peek()
        if token is not None:  # only an unopened ')' stops parse_or early
            raise _fail(f"unmatched ')' at {token.pos}", "remove it or open it with '('")
        return node

    def operand(self, op: _Token, parse: Callable[[], Node]) -> Node:
        token = self.peek()
        if token is None or token.kind == ")" or (token.kind == "op" and token.text != "not"):
            raise _fail(f"'{op.raw}' at {op.pos} needs a term after it", f"add one or remove '{op.raw}'")
        return parse()

    def parse_or(self) -> Node:
        items = [self.parse_xor()]
        while (op := self.take_op("or")) is not None:
            items.append(self.operand(op, self.parse_xor))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_xor(self) -> Node:
        node, chain = self.parse_and(), 0
        while (op := self.take_op("xor")) is not None:
            self.nest(op)  # each xor nests the chain so far one level deeper
            chain += 1
            node = Xor(node, self.operand(op, self.parse_and))
        self.depth -= chain
        return node

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while True:
            token = self.peek()
            if token is None or token.kind == ")" or (token.kind == "op" and token.text in ("or", "xor")):
                break
            op = self.take_op("and")
            items.append(self.operand(op, self.parse_not) if op else self.parse_not())
        ids = [n for n in items if isinstance(n, Ids)]
        if len(ids) > 1:
            merged = Ids(sum((n.ranges for n in ids), ()), sum((n.uuids for n in ids), ()))
            first = items.index(ids[0])
            items = [merged if k == first else n for k, n in enumerate(items) if not isinstance(n, Ids) or k == first]
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Node:
        op = self.take_op("not")
        if op is None:
            return self.parse_primary()
        self.nest(op)
        node = Not(self.operand(op, self.parse_not))
        self.nest(op, -1)
        return node

    def parse_primary(self) -> Node:
        token = self.peek()
        assert token is not None
        if token.kind == "op":
            raise _fail(f"'{token.raw}' at {token.pos} needs a term before it", f"add one or remove '{token.raw}'")
        self.i += 1
        if token.kind == "(":
            inner = self.peek()
            if inner is not None and inner.kind == ")":
                raise _fail(f"empty '()' at {token.pos}", "put a term inside or remove the parentheses")
            if inner is None:
                raise _fail(f"unmatched '(' at {token.pos}", "close it with ')'")
            self.nest(token)
            node = self.parse_or()
            self.nest(token, -1)
            close = self.peek()
            if close is None or close.kind != ")":
                raise _fail(f"unmatched '(' at {token.pos}", "close it with ')'")
            self.i += 1
            return node
        if token.kind == ")":
            raise _fail(f"unmatched ')' at {token.pos}", "remove it or open it with '('")
        assert token.node is not None
        return token.node


def parse_filter(text: str, udas: Callable[[], Iterable[str]] = tuple) -> Node:
    """The AST of filter `text` (SPEC §6); BacklogError('filter', …) naming token and column.

    `udas` gives the UDA names tasks have; it is called only for a name that is not a built-in.
    Limits (core.limits): text length, number of terms, nesting.
    """
    check_length("filter", len(text), MAX_FILTER_CHARS, "chars", "split it into narrower filters")
    words = _words(text)
    terms = sum(1 for word in words if word[1] not in ("(", ")", "!") and word[1].lower() not in ("and", "or", "xor", "not"))
    check_length("filter", terms, MAX_FILTER_TERMS, "terms", "split it into narrower filters, or use a project or tag")
    tokens = [_classify(*word, udas) for word in words]
    return _Parser(_join_dates(tokens)).parse()


# --- compiler --------------------------------------------------------------------------

def _walk(node: Node, negated: bool = True):
    """Every node of the tree; with `negated=False`, not those under a `not`."""
    yield node
    if isinstance(node, Not):
        if negated:
            yield from _walk(node.item)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from _walk(item, negated)
    elif isinstance(node, Xor):
        yield from _walk(node.left, negated)
        yield from _walk(node.right, negated)


def names_status(node: Node) -> bool:
    """True when the filter mentions a status (`status:…`, ±PENDING … ±WAITING, TEMPLATE)."""
    return any(
        (isinstance(n, Attr) and n.name == "status") or (isinstance(n, Virtual) and n.name in STATUS_TAGS)
        for n in _walk(node)
    )


def names_ids(node: Node) -> bool:
    """True when the filter picks tasks by id or uuid (id lists, `id:3`, `uuid:…`, not under `not`)."""
    return any(
        isinstance(n, Ids) or (isinstance(n, Attr) and n.name in ("id", "uuid") and n.modifier in ("", "is"))
        for n in _walk(node, negated=False)
    )


class _Generator:
    """Python source for an AST; conjuncts run cheapest first (all terms are pure)."""

    def __init__(self, now: datetime, tz: tzinfo) -> None:
        self.em = Emitter(now, tz)

    def read_date(self, node: Attr) -> Callable[[str], datetime]:
        def read(value: str) -> datetime:
            try:
                return parse_date(value, self.em.now, self.em.tz, node.name)
            except BacklogError as error:
                quoted = f"cannot read '{value}'"
                reason = error.problem[len(quoted):] if error.problem.startswith(quoted) else ""
                raise _fail(f"cannot read date '{value}' in '{node.token}' at {node.pos}{reason}", error.fix) from None
        return read

    def source(self, node: Node) -> tuple[str, int]:
        """(expression, cost) of `node`."""
        if isinstance(node, All):
            return "True", 0
        if isinstance(node, (And, Or)):
            parts = [self.source(item) for item in node.items]
            if isinstance(node, And):
                parts.sort(key=lambda part: part[1])
            joiner = " and " if isinstance(node, And) else " or "
            return "(" + joiner.join(src for src, _ in parts) + ")", sum(cost for _, cost in parts)
        if isinstance(node, Xor):
            (left, a), (right, b) = self.source(node.left), self.source(node.right)
            return f"((not {left}) != (not {right}))", a + b
        if isinstance(node, Not):
            inner, cost = self.source(node.item)
            return f"(not {inner})", cost
        if isinstance(node, Tag):
            return f"({tag_source(node.name, node.present, self.em)})", 2
        if isinstance(node, Virtual):
            expr = VIRTUAL[node.name]
            return (f"({expr})" if node.present else f"(not ({expr}))"), 0 if node.name in STATUS_TAGS else 3
        if isinstance(node, Word):
            return f"({word_source(node.text, self.em)})", 5
        if isinstance(node, Ids):
            return f"({ids_source(node.ranges, node.uuids, self.em)})", 1
        return self.attribute(node)

    def attribute(self, node: Attr) -> tuple[str, int]:
        try:
            expr = attribute_source(node.name, node.modifier, node.value, self.em, self.read_date(node))
        except TermError as error:
            raise _fail(f"{error.problem} in '{node.token}' at {node.pos}", error.fix) from None
        kind = ATTRIBUTES.get(node.name, "uda")
        cost = {"status": 0, "urgency": 20, "annotations": 6, "description": 5}.get(kind, 2)
        return f"({expr})", cost


# Virtual tags that hold only for pending tasks (a plan may narrow them to status pending).
_PENDING_ONLY = frozenset({"PENDING", "WAITING", "ACTIVE", "BLOCKED", "READY", "OVERDUE", "CLAIMED"})
_STATUS_OF = {"COMPLETED": "completed", "DELETED": "deleted", "RECURRING": "recurring",
              "TEMPLATE": "recurring", "PARENT": "recurring"}
_STATUSES = ("pending", "completed", "deleted", "recurring", "waiting")


def _plan_term(node: Node) -> tuple | None:
    """The index term a conjunct implies (its matches are a subset of the term's), or None."""
    if isinstance(node, Attr):
        if node.name == "status" and node.modifier in ("", "is") and node.value.lower() in _STATUSES:
            value = node.value.lower()
            return ("status", "pending" if value == "waiting" else value)
        if node.name == "project" and node.modifier == "" and node.value:
            return ("project", node.value)
        if node.name == "tags" and node.modifier in ("", "is") and node.value:
            return ("tag", node.value)
        return None
    if isinstance(node, Tag):
        return ("tag", node.name) if node.present else None
    if isinstance(node, Virtual) and node.present:
        if node.name in _PENDING_ONLY:
            return ("status", "pending")
        if node.name in _STATUS_OF:
            return ("status", _STATUS_OF[node.name])
        return None
    if isinstance(node, Ids) and all(hi - lo < 1000 for lo, hi in node.ranges):
        return ("ids", node.ranges, node.uuids)
    return None


def index_plan(ast: Node) -> tuple[tuple, ...]:
    """The indexable terms among the top-level conjuncts of `ast`: every match satisfies all
    of them, so the store may answer them from its indexes and run the predicate on the rest."""
    items = ast.items if isinstance(ast, And) else (ast,)
    return tuple(term for term in map(_plan_term, items) if term is not None)


@lru_cache(maxsize=256)
def _code(source: str) -> CodeType:
    """The compiled `source`: the same filter shape gives the same text (values are bound names)."""
    return compile(source, "<filter>", "exec")


class Filter:
    """A compiled filter; `select` and `matches` run the same generated expression.

    `plan` is the conjunction of indexable terms (`index_plan`); `select` asks the view for
    the tasks it leaves and runs the predicate on those only, or on every task without one.
    """

    def __init__(
        self, ast: Node, now: datetime, tz: tzinfo, *, names_status: bool, names_ids: bool, is_empty: bool,
    ) -> None:
        self.ast, self.names_status, self.names_ids, self.is_empty = ast, names_status, names_ids, is_empty
        self.plan = index_plan(ast)
        gen = _Generator(now, tz)
        expr, _ = gen.source(ast)
        setup = "".join(f"    {line}\n" for line in needs(expr) + gen.em.per_call)
        self.source = (
            f"def select(c, tasks):\n{setup}    return [t for t in tasks if {expr}]\n\n"
            f"def matches(t, c):\n{setup}    return bool({expr})\n"
        )
        namespace: dict = dict(gen.em.constants)
        exec(_code(self.source), namespace)  # noqa: S102 - generated from our own text
        self._select, self._matches = namespace["select"], namespace["matches"]

    def select(self, ctx: Context) -> list[dict]:
        """The matching tasks among `ctx.tasks`, in the store's order (counted in `ctx.examined`)."""
        tasks = ctx.planned(self.plan) if self.plan else None
        if tasks is None:
            ctx.examined += len(ctx.tasks)
            return self._select(ctx, ctx.tasks.values())
        ctx.examined += len(tasks)
        return self._select(ctx, tasks)

    def matches(self, task: dict, ctx: Context) -> bool:
        return self._matches(task, ctx)

    def __str__(self) -> str:
        return str(self.ast)


_PENDING = Attr("status", "", "pending")


def compile_filter(text: str, now: datetime, tz: tzinfo, *, default_status: bool = True,
                   udas: Callable[[], Iterable[str]] = tuple) -> Filter:
    """The Filter of `text` at `now` in `tz`; with `default_status`, SPEC §4's status rule applies.

    Empty filter = `status:pending -WAITING`; a filter naming no status and no ids/uuids gets an
    implicit `status:pending`. `udas` as in `parse_filter`. Raises BacklogError('filter', …) for
    any bad term or date.
    """
    ast = parse_filter(text, udas)
    status, ids, empty = names_status(ast), names_ids(ast), isinstance(ast, All)
    if default_status and empty:
        ast = And((_PENDING, Virtual("WAITING", False)))
    elif default_status and not status and not ids:
        ast = And((_PENDING, *(ast.items if isinstance(ast, And) else (ast,))))
    return Filter(ast, now, tz, names_status=status, names_ids=ids, is_empty=empty)
