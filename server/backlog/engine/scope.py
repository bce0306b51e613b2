"""What every use case is handed: the store, the zone, the clock and who writes, through which channel.

A `Scope` also carries the plumbing the use cases share: one transaction per mutation,
resolving an id parameter to a task, parsing edits, checking dependency cycles and the
compact answer of a single-task mutation.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from collections.abc import Callable, Iterable, Iterator, Mapping

from backlog.core.model import UUID_CHARS, format_utc, is_short_id, is_uuid
from backlog.engine.leases import DEFAULT_LEASE
from backlog.errors import Action, BacklogError
from backlog.store.store import Store, Transaction

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from backlog.store.index import Index
    from backlog.store.view import Context


class Scope:
    """One backlog as seen by one writer (agent) through one channel (mcp, cli, hook:<Event>).

    `writer` is the key undo goes by (a server session, `claude:<session>`, `cli:<user>`);
    `session` the Claude session leases taken here belong to; `lease` their duration.
    With `briefs` off, a mutation answers its message and the task's id and uuid, not its brief
    (a hook or the CLI that prints only the message: no view, urgency or virtual tags to load).
    """

    def __init__(self, store: Store, *, tz: tzinfo, clock: Callable[[], datetime],
                 agent: str = "user", channel: str = "mcp", writer: str = "",
                 session: str | None = None, lease: timedelta = DEFAULT_LEASE, briefs: bool = True) -> None:
        self.store, self.tz, self.clock, self.agent, self.channel = store, tz, clock, agent, channel
        self.writer, self.session, self.lease, self.briefs = writer or f"{channel}:{agent}", session, lease, briefs
        self._batch: Transaction | None = None

    @property
    def index(self) -> Callable[[], Index] | None:
        """The store's indexes for a long-lived server (channel mcp), else None: a one-shot
        process (hook, CLI) would pay as much to build them as one scan costs."""
        return self.store.index if self.channel == "mcp" else None

    def tool_name(self, op: str) -> str:
        if self.channel == "mcp":
            return "task_" + op
        return self.channel if self.channel.startswith("hook:") else f"{self.channel}:{op}"

    def context(self, now: datetime | None = None) -> Context:
        """A fresh view of the hot tasks for one call."""
        from backlog.store.view import Context  # here and below: a writing hook imports no views

        self.store.refresh()
        return Context(self.store.tasks, now or self.clock(), self.tz, self.store.archived_ids, self.index)

    @contextmanager
    def batch(self, op: str) -> Iterator[None]:
        """Run several use cases as one transaction (`done 3 11`): one journal line, one undo,
        nothing written when any of them raises. Each sees the store as it was before the batch."""
        with self.transaction(op, self.clock()) as tx:
            self._batch = tx
            try:
                yield
            finally:
                self._batch = None

    @contextmanager
    def transaction(self, op: str, now: datetime, agent: str | None = None,
                    renewal: bool = False) -> Iterator[Transaction]:
        if self._batch is not None:
            yield self._batch
            return
        with self.store.transaction(at=format_utc(now), agent=agent or self.agent, tool=self.tool_name(op),
                                    writer=self.writer, renewal=renewal) as tx:
            yield tx

    def resolve(self, ref: object, param: str = "id") -> dict:
        """The hot task an id parameter names: short id, full uuid or unique uuid prefix (≥ 8 hex)."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if not isinstance(ref, str):
            raise BacklogError(param, f"expected a task id, got {type(ref).__name__}", "pass a number like 12 or a uuid")
        fix = ("list ids with ", Action("list"))
        if is_short_id(ref):
            uuid = self.store.uuid_of(int(ref))
            if uuid is None:
                raise BacklogError(param, f"no task {ref}", fix)
            return self.store.tasks[uuid]
        if is_uuid(ref):
            if ref not in self.store.tasks:
                raise BacklogError(param, f"no task with uuid {ref}", fix)
            return self.store.tasks[ref]
        if ref and UUID_CHARS.issuperset(ref) and len(ref.replace("-", "")) >= 8:
            index = self.index
            found = ([self.store.tasks[u] for u in index().with_prefix(ref)] if index is not None
                     else [t for u, t in self.store.tasks.items() if u.startswith(ref)])
            if len(found) == 1:
                return found[0]
            if not found:
                raise BacklogError(param, f"no task with uuid prefix {ref}", fix)
            ids = ", ".join(str(t["id"]) for t in sorted(found, key=lambda t: t["id"])[:5])
            raise BacklogError(param, f"uuid prefix {ref} matches tasks {ids}", "give more characters or the short id")
        raise BacklogError(param, f"'{ref}' is not a task id", "use a number like 12, a full uuid or a uuid prefix of 8+ hex digits")

    def resolve_dep(self, tx: Transaction) -> Callable[[str], str]:
        def resolve(ref: str) -> str:
            if is_uuid(ref) and tx.get(ref) is not None:
                return ref
            return self.resolve(ref, "depends")["uuid"]
        return resolve

    def edits(self, params: dict, extra: str | None, now: datetime, tx: Transaction) -> dict:
        from backlog.core.edits import merge_params, parse_edits  # here and below: a reader never imports edits

        def udas() -> Mapping[str, str]:  # walks every task: asked only for a key that is not an attribute
            from backlog.store.view import Context

            return Context(self.store.tasks, now, self.tz, index=self.index).udas

        return parse_edits(merge_params(params, extra, udas), now, self.tz, self.resolve_dep(tx), udas)

    def check_depends(self, tasks: Iterable[dict], tx: Transaction) -> None:
        """Refuse a dependency cycle through any of `tasks`: one pass over the graph, however many."""
        from backlog.core.edits import find_cycles

        cycle = find_cycles((t["uuid"] for t in tasks if t.get("depends")),
                            lambda u: (tx.get(u) or {}).get("depends", ()))
        if cycle:
            ids = " -> ".join(str((tx.get(u) or {}).get("id", u)) for u in cycle)
            raise BacklogError("depends", f"would create a cycle {ids}", "remove one of these dependencies")

    def answer(self, message: str, task: dict, now: datetime) -> dict:
        if not self.briefs:
            return {"message": message, "task": {"id": task["id"], "uuid": task["uuid"]}}
        from backlog.engine import render

        return {"message": message, "task": render.brief(task, self.context(now))}

    def select(self, filter: str, ctx: Context) -> list[dict]:
        from backlog.core.filter import compile_filter

        return compile_filter(filter or "", ctx.now, self.tz, udas=lambda: ctx.udas).select(ctx)

    def udas(self) -> dict[str, str]:
        """UDA name → `number` or `text`, for the UDAs some hot task has."""
        return dict(self.context().udas)
