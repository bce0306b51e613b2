"""The 27 MCP tools (SPEC §4): typed methods whose docstrings are their descriptions.

Each tool maps its parameters straight onto one `engine.Backlog` method and answers
with the method's result object twice: as `structuredContent` and as the same object
in compact JSON text (over `backlog serve`'s stdio both encoded once, by orjson:
`backlog.mcp.wire`). Failures are raised and turned into one-line `isError` results by
`BacklogServer.call_tool`, the single error handler (engine errors, store errors,
argument validation, unknown parameters, crashes). Tools declare no output schema: the
SDK would re-validate every result against it (slow for long lists), and the shapes are
stated in the descriptions.

Unknown parameters are refused (pydantic would silently drop them, hiding typos such
as `tag` for `tags`). `null` is accepted for every optional parameter and means "not
given"; the advertised schemas omit the `null` arms to save tokens.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Callable, Literal

import orjson
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from backlog import __version__
from backlog.errors import BacklogError, StoreError
from backlog.mcp.instructions import INSTRUCTIONS
from backlog.mcp.lines import compact_schema, failure_line, unknown_parameter_line, validation_line
from backlog.mcp.opening import Opening
from backlog.mcp.wire import Wire

log = logging.getLogger("backlog")

TaskId = Annotated[str | int, Field(description="task id (12), uuid, or uuid prefix (8+ hex)")]
Description = Annotated[str, Field(description="one line, ≤500 chars; details go in the doc")]
NewDescription = Annotated[str | None, Field(description="new description")]
Project = Annotated[str | None, Field(description="e.g. 'web', or 'web.ui' for a sub-project")]
Tags = Annotated[str | list[str] | None, Field(description="comma list 'bug,ui' or JSON array")]
Priority = Annotated[str | None, Field(description="H, M or L")]
Due = Annotated[str | None, Field(description="date: '2026-12-01', 'friday', 'eow', '+3d'")]
Wait = Annotated[str | None, Field(description="date; hidden from the default list until then")]
Scheduled = Annotated[str | None, Field(description="date; not +READY before then")]
Until = Annotated[str | None, Field(description="date; recurrence ends then")]
Recur = Annotated[str | None, Field(description="daily, weekdays, weekly, monthly, 2w, ...; needs due")]
Depends = Annotated[str | int | list[str | int] | None, Field(description="ids/uuids it waits for: '3,5'")]
Agent = Annotated[str | None, Field(description="owner agent name")]
Caller = Annotated[str | None, Field(description="your agent name, as given to task_claim (renews your lease)")]
Extra = Annotated[str | None, Field(description="Taskwarrior tokens: '+tag -tag key:value' (key: a field or a UDA some task has)")]


def tool(*, read_only: bool = False, destructive: bool = False, idempotent: bool = False) -> Callable:
    """Mark a `Tools` method as an MCP tool with these behaviour hints."""
    hints = ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive,
                            idempotent_hint=read_only or idempotent, open_world_hint=False)

    def mark(method: Callable) -> Callable:
        method.tool_hints = hints  # type: ignore[attr-defined]
        return method
    return mark


def answer(result: dict) -> CallToolResult:
    """A success: the engine's result object as structuredContent and as compact JSON text (the
    SDK encodes it; over our stdio `Wire` does instead)."""
    return CallToolResult(content=[TextContent(type="text", text=orjson.dumps(result).decode())],
                          structured_content=result)


def text_list(value: str | int | list | None) -> str | None:
    """A list parameter given as a JSON array or number, as the engine's text form."""
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    return None if value is None else str(value)


class Tools:
    """The tools of one server; every engine call goes through `Opening.use`; with a `wire`, the
    results are held for it to encode (`backlog.mcp.wire`)."""

    def __init__(self, opening: Opening, wire: Wire | None = None) -> None:
        self.opening = opening
        self.answer: Callable[[dict], CallToolResult] = answer if wire is None else wire.hold

    # -- reading ----------------------------------------------------------------------
    @tool(read_only=True)
    def task_list(self, filter: Annotated[str, Field(description="Taskwarrior filter; '' = pending, not waiting")] = "",
                  sort: Annotated[str | None, Field(description="fields with +/-, e.g. 'due+,priority-'")] = None,
                  limit: Annotated[int | None, Field(description="max rows, default 100; 0 = all")] = None,
                  fields: Annotated[str | None, Field(description="comma list of fields, or 'all'")] = None,
                  ) -> CallToolResult:
        """List tasks matching a filter, most urgent first (default sort 'urgency-,id+'). Use it to
        find work and ids. A filter naming no status or ids shows pending tasks only. Terms:
        project:web (includes web.ui), +tag, -tag, priority:H, due.before:eow, status:completed,
        description.has:x, bare words, ids 3,7 or 3-7, virtual tags +READY +ACTIVE +BLOCKED
        +OVERDUE +WAITING +DELETED, and/or/not with parentheses. Rows are compact (non-empty
        fields; archived = ids in depends that are archived); task_info shows everything. Returns {tasks, total, truncated}; truncated means
        more matched than limit. Example: filter='project:web +READY', sort='due+', limit=10."""
        with self.opening.use() as backlog:
            return self.answer(backlog.list(filter, sort=sort, limit=limit, fields=fields))

    @tool(read_only=True)
    def task_count(self, filter: Annotated[str, Field(description="as in task_list")] = "") -> CallToolResult:
        """Count tasks matching a filter (same syntax and pending default as task_list); cheaper than
        listing when only the number matters. Returns {count}. Example: filter='+OVERDUE'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.count(filter))

    @tool(read_only=True)
    def task_info(self, id: TaskId) -> CallToolResult:
        """Everything about one task: all fields (lease: who may work on it until when), annotations, urgency, blocked_by and blocking ids,
        archived (its dependencies that are archived), doc_size when it has a doc (read it with
        task_doc_read). Returns {task}. Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.info(id))

    @tool(read_only=True)
    def task_projects(self) -> CallToolResult:
        """Project names in use (pending and recurring tasks) with pending counts, by name. Check it
        before adding tasks, to reuse an existing project. Returns {items: [{name, pending}]}."""
        with self.opening.use() as backlog:
            return self.answer(backlog.projects())

    @tool(read_only=True)
    def task_tags(self) -> CallToolResult:
        """Tags in use (pending and recurring tasks) with pending counts, by name. Check it before
        tagging, to reuse existing tags. Returns {items: [{name, pending}]}."""
        with self.opening.use() as backlog:
            return self.answer(backlog.tags())

    @tool(read_only=True)
    def task_search(self, query: Annotated[str, Field(description="words to look for")],
                    limit: Annotated[int | None, Field(description="max results, default 10; 0 = all")] = None,
                    ) -> CallToolResult:
        """Ranked full-text search (BM25, any word may match) over descriptions, annotations and
        docs of tasks in any status. Use it to find tasks by topic when no filter fits. Returns
        {results: [{...task row, score, snippet}]}, best first. Example: query='login cookie'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.search(query, limit=limit))

    @tool(read_only=True)
    def task_history(self, id: TaskId) -> CallToolResult:
        """The whole life of one task: every change with when (at), who (agent), through what (tool,
        e.g. task_modify, hook:TaskCreated, cli:done) and each changed field as [old, new].
        Returns {entries}. Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.history(id))

    # -- creating -----------------------------------------------------------------------
    @tool()
    def task_add(self, description: Description, project: Project = None, tags: Tags = None,
                 priority: Priority = None, due: Due = None, depends: Depends = None, wait: Wait = None,
                 scheduled: Scheduled = None, recur: Recur = None, until: Until = None, agent: Agent = None,
                 extra: Extra = None) -> CallToolResult:
        """Create a pending task; returns it with its id and uuid. Keep the description to one
        line and attach details with task_doc_write. Dates take ISO (2026-12-01), names (today,
        eod, eow, eom, monday) or offsets (+3d, 2w). recur with due makes a recurring template
        plus its first instance. Example: description='Fix login redirect', project='web',
        tags='bug,auth', priority='H', due='friday'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.add(description, project=project, tags=text_list(tags), priority=priority,
                                           due=due, depends=text_list(depends), wait=wait, scheduled=scheduled,
                                           recur=recur, until=until, agent=agent, extra=extra))

    @tool()
    def task_log(self, description: Description, project: Project = None, tags: Tags = None,
                 priority: Priority = None, agent: Agent = None, extra: Extra = None) -> CallToolResult:
        """Record work that is already done, as a completed task (for the record, not the to-do
        list). Example: description='Reviewed PR 42', project='web'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.log(description, project=project, tags=text_list(tags), priority=priority,
                                           agent=agent, extra=extra))

    @tool()
    def task_duplicate(self, id: TaskId, description: NewDescription = None, project: Project = None,
                       tags: Tags = None, priority: Priority = None, due: Due = None, agent: Agent = None,
                       extra: Extra = None) -> CallToolResult:
        """Copy a task as a new pending task with the given fields changed: new id, same owner
        (agent); no start, end, annotations or doc (the message names what was left). Example:
        id=12, due='next week'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.duplicate(id, description=description, project=project, tags=text_list(tags),
                                                 priority=priority, due=due, agent=agent, extra=extra))

    @tool()
    def task_import(self, tasks: Annotated[str, Field(description="JSON array of task objects")]) -> CallToolResult:
        """Add many tasks at once, all or nothing, e.g. a plan. Takes a JSON array (or Taskwarrior
        'task export' output) of objects with description and optionally uuid, status, project,
        tags, priority, due, wait, scheduled, until, recur, depends (uuids), agent, annotations,
        entry, end, start; other keys are Taskwarrior UDAs, kept as a string or number (a tag doc
        is dropped: only a doc sets it). Re-importing identical tasks changes nothing. Returns {message, ids}.
        Example: tasks='[{"description":"Write tests","project":"api","tags":["test"]}]'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.import_tasks(tasks))

    # -- changing -----------------------------------------------------------------------
    @tool(destructive=True, idempotent=True)
    def task_modify(self, filter: Annotated[str, Field(description="ids or filter of the tasks to change")],
                    description: NewDescription = None, project: Project = None, tags: Tags = None,
                    priority: Priority = None, due: Due = None, depends: Depends = None, wait: Wait = None,
                    scheduled: Scheduled = None, recur: Recur = None, until: Until = None, agent: Agent = None,
                    extra: Extra = None) -> CallToolResult:
        """Change every task matching the filter, all or nothing (one undo step). '' clears a
        field. tags and depends: plain items add, -x removes, '=a,b' replaces the whole list.
        Returns {message, ids} of the changed tasks. Example: filter='12', priority='H',
        due='tomorrow'; filter='project:web +bug', tags='urgent,-triage'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.modify(filter, description=description, project=project, tags=text_list(tags),
                                              priority=priority, due=due, depends=text_list(depends), wait=wait,
                                              scheduled=scheduled, recur=recur, until=until, agent=agent, extra=extra))

    @tool()
    def task_done(self, id: TaskId, agent: Caller = None) -> CallToolResult:
        """Mark a task completed (clears start and lease). Completing a recurring instance creates
        the next one. Refused when your lease on it expired and another agent took it over.
        Example: id=12, agent='worker-1'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.done(id, agent=agent))

    @tool(destructive=True)
    def task_delete(self, id: TaskId) -> CallToolResult:
        """Delete a task (status deleted; task_undo restores it, task_purge removes it for good).
        Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.delete(id))

    @tool(idempotent=True)
    def task_start(self, id: TaskId, agent: Caller = None) -> CallToolResult:
        """Mark a pending task active when you begin work on it (task_claim also makes you its
        owner and leases it to you). Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.start(id, agent=agent))

    @tool()
    def task_stop(self, id: TaskId, agent: Caller = None) -> CallToolResult:
        """Make an active task inactive again and release its claim, e.g. when pausing or handing
        off. Example: id=12, agent='worker-1'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.stop(id, agent=agent))

    @tool(idempotent=True)
    def task_claim(self, agent: Annotated[str, Field(description="your agent name")], id: TaskId | None = None,
                   filter: Annotated[str | None, Field(description="limits which tasks to pick from")] = None,
                   ) -> CallToolResult:
        """Atomically take a +READY task and start it: sets agent, start and a lease (BACKLOG_LEASE,
        renewed while this server runs and by your writes; an expired one can be taken over).
        Parallel agents use it to pick work; two never get the same task. With id, claims that
        task; without, the most urgent +READY task matching filter with no live lease (-CLAIMED).
        Pass the same agent to task_done/annotate. When finished, task_done; to hand it back,
        task_stop. Example: agent='worker-1', filter='project:api'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.claim(agent, id=id, filter=filter))

    @tool()
    def task_annotate(self, id: TaskId, text: Annotated[str, Field(description="the note")],
                      agent: Caller = None) -> CallToolResult:
        """Add a timestamped note to a task: progress, findings, links. Example: id=12,
        text='Root cause: stale cookie path'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.annotate(id, text, agent=agent))

    @tool(destructive=True)
    def task_denotate(self, id: TaskId,
                      text: Annotated[str, Field(description="exact text of the note")]) -> CallToolResult:
        """Remove the annotation with exactly this text from a task. Example: id=12,
        text='Root cause: stale cookie path'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.denotate(id, text))

    @tool(destructive=True)
    def task_undo(self, agent: Annotated[str | None, Field(description="undo only this agent's changes")] = None,
                  scope: Annotated[Literal["mine", "any"] | None, Field(description="'any': anyone's newest change")] = None,
                  ) -> CallToolResult:
        """Revert this session's newest change not yet undone (a whole modify or import is one
        step, doc changes included); refused when someone else changed that task since. Call
        again to go further back. Returns {message, ids}. Example: agent='worker-1'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.undo(agent=agent, everyone=scope == "any"))

    @tool(destructive=True)
    def task_purge(self, id: TaskId) -> CallToolResult:
        """Permanently remove a deleted task and its doc (task_delete it first). Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.purge(id))

    # -- docs -----------------------------------------------------------------------------
    @tool(destructive=True, idempotent=True)
    def task_doc_write(self, id: TaskId,
                       content: Annotated[str, Field(description="markdown, ≤1 MiB")]) -> CallToolResult:
        """Attach or replace a task's markdown doc: spec, plan, acceptance criteria, notes too long
        for the description. Adds the tag doc, which only a doc sets. Example: id=12,
        content='# Plan\\n1. ...'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.doc_write(id, content))

    @tool(read_only=True)
    def task_doc_read(self, id: TaskId) -> CallToolResult:
        """Read a task's doc. Returns {content}. Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.doc_read(id))

    @tool(destructive=True)
    def task_doc_delete(self, id: TaskId) -> CallToolResult:
        """Remove a task's doc and its tag doc (undoable). Example: id=12."""
        with self.opening.use() as backlog:
            return self.answer(backlog.doc_delete(id))

    # -- archive --------------------------------------------------------------------------
    @tool()
    def task_archive(self, older_than_days: Annotated[int, Field(description="days since end, ≥ 0")] = 90,
                     ) -> CallToolResult:
        """Move completed and deleted tasks that ended more than older_than_days ago out of the
        active store into quarterly segments (2026-Q3), keeping lists fast; 0 moves every one.
        Returns {message, ids}. Example: older_than_days=30."""
        with self.opening.use() as backlog:
            return self.answer(backlog.archive(older_than_days))

    @tool(read_only=True)
    def task_archive_list(self) -> CallToolResult:
        """Archive segments with their task counts. Returns {items: [{segment, count}]}."""
        with self.opening.use() as backlog:
            return self.answer(backlog.archive_list())

    @tool(read_only=True)
    def task_archive_load(self, segment: Annotated[str, Field(description="e.g. '2026-Q3'")]) -> CallToolResult:
        """The archived tasks of one segment (see task_archive_list). Returns {tasks}.
        Example: segment='2026-Q3'."""
        with self.opening.use() as backlog:
            return self.answer(backlog.archive_load(segment))


# MCPServer always registers prompt and resource handlers, so the SDK declares both capabilities
# although we offer neither; Claude Code then adds its resource tools (~520 tokens) to every request.
UNSERVED = ("prompts/list", "prompts/get", "resources/list", "resources/templates/list", "resources/read",
            "resources/subscribe", "resources/unsubscribe")


class BacklogServer(MCPServer):
    """MCPServer with our instructions, tools only, and failed tool calls answering one line
    `<param>: <problem>; <fix>`."""

    def __init__(self, tools: list[Tool], opening: Opening) -> None:
        self.opening = opening
        super().__init__("backlog", version=__version__, instructions=INSTRUCTIONS, tools=tools,
                         log_level="WARNING")
        self.parameters = {t.name: tuple(t.parameters.get("properties", {})) for t in tools}
        # The SDK derives capabilities from the registered handlers and offers no way to
        # unregister one; tests/test_server_budget.py pins that only `tools` is declared.
        handlers = self.lowlevel._request_handlers  # noqa: SLF001
        for method in UNSERVED:
            handlers.pop(method, None)

    @property
    def lowlevel(self) -> Server:
        """The SDK's protocol server underneath, which `backlog.mcp.stdio` runs."""
        return self._lowlevel_server

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """The one error handler: every failure becomes an isError result with one line."""
        self.opening.meet(client_name(context))
        known = self.parameters.get(name)
        if known is None:
            return failure(f"name: no tool '{name}'; use one of {', '.join(self.parameters)}")
        unknown = [key for key in arguments if key not in known]
        if unknown:
            return failure(unknown_parameter_line(name, unknown, known))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as err:
            cause = err.__cause__ or err
            if isinstance(cause, ValidationError):
                return failure(validation_line(cause.errors(), arguments))
            if not isinstance(cause, (BacklogError, StoreError, OSError)):
                log.error("tool %s failed", name, exc_info=cause)
            return failure(failure_line(cause))


def client_name(context: Any) -> str | None:
    """The `clientInfo.name` the MCP client sent in `initialize`, when there is one."""
    try:
        params = context.request_context.session.client_params
    except (AttributeError, ValueError):  # no request context: a call from inside the process
        return None
    return params.client_info.name if params is not None and params.client_info is not None else None


def failure(line: str) -> CallToolResult:
    """An isError result of one line (whitespace from the caller's own text folded)."""
    return CallToolResult(content=[TextContent(type="text", text=" ".join(line.split()))], is_error=True)


def build_tools(tools: Tools) -> list[Tool]:
    """One SDK `Tool` per marked method, in definition order, with compact input schemas."""
    built = []
    for name, member in vars(Tools).items():
        hints = getattr(member, "tool_hints", None)
        if hints is None:
            continue
        method = getattr(tools, name)
        description = " ".join((member.__doc__ or "").split())  # one paragraph, no indentation
        spec = Tool.from_function(method, description=description, annotations=hints)
        spec.parameters = compact_schema(spec.parameters)
        built.append(spec)
    return built


def build_server(opening: Opening, wire: Wire | None = None) -> BacklogServer:
    """The MCP server exposing every tool on the backlog `opening` provides (answers held for
    `wire` when given)."""
    return BacklogServer(build_tools(Tools(opening, wire)), opening)
