"""Claude Code hook events (SPEC §10): one function per event, payload in → context out.

`main` is the whole entry point of `backlog hook <Event>`: it reads one JSON object from
stdin, opens the project's backlog the way the server does (CLAUDE_PROJECT_DIR, else the
payload's `cwd`), runs the event's handler and prints either nothing or exactly
`{"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}}`. It returns 0
whatever happens: ignored input and internal errors become one line in
`<data dir>/hooks.log` (nowhere when the data dir cannot be resolved). Empty stdin is not
an event (someone ran the command by hand): nothing happens and nothing is logged.

Only SessionStart and SubagentStart print (SessionStart always, one line on an empty backlog);
TaskCreated and TaskCompleted mirror Claude's own task list into the backlog silently (Claude
already sees its task; a second id adds noise, and Claude Code documents no additionalContext
for those events). SubagentStart leases a task only to workers (`task-worker` and the types
of BACKLOG_SUBAGENT_ASSIGN, never the planner or Claude Code's read-only helpers);
SubagentStop and SessionEnd let go of what the subagent or the session still holds.
Hooks write as `claude:<session_id>`: their own undo key, and the session their leases
belong to. Hooks that only read answer from the summary a hook left beside the store
(hooks/summary.py) while it is fresh, and open the store (and save a new one) when it is not;
SubagentStart leases the task a summary names when, under the write lock, the store is still
where the summary saw it, or has moved on only by leases of the tasks it names before that one
(else it walks every task, as without one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from datetime import datetime, tzinfo
    from typing import IO

    from backlog.store.files import StrPath

from backlog.core import cjson
from backlog.core.model import AGENT_CHARS
from backlog.errors import BacklogError

PLUGIN_PREFIX = "mcp__plugin_backlog_tasks__"  # the server key `tasks` in .claude-plugin/plugin.json
MAX_CONTEXT = 1500
MAX_LOG_BYTES = 1 << 20
# What the active tasks are to a session that continues (SessionStart `source`).
RESUMED = {"compact": "Active before the context was compacted (continue these)",
           "resume": "Active (continue these)", "clear": "Active (still in progress)"}
NAME_CHARS = AGENT_CHARS - {"#"}  # what Claude's names keep: `#` joins a subagent's type and id (subagent_name)
WORKER = "task-worker"  # agents/task-worker.md: the one agent type that gets work by default
NEVER_ASSIGNED = ("task-planner", "Explore", "Plan", "statusline-setup", "claude-code-guide",
                  "output-style-setup")  # the planner plans; Claude Code's built-ins only read
OFF = ("off", "no", "false", "0", "none")
LAST_WORDS = 200  # chars of a subagent's last message kept in the note of an abandoned task


class Ignored(Exception):
    """An event that changes nothing, for a reason worth one log line."""


class Hook:
    """One hook call: the event, its payload and the environment, and the way to the backlog."""

    def __init__(self, event: str, payload: dict, env: Mapping[str, str], cwd: str) -> None:
        self.event, self.payload, self.env, self.cwd = event, payload, env, cwd

    @property
    def plugin(self) -> bool:
        """Run by the plugin (CLAUDE_PLUGIN_ROOT set): full tool names, skills exist."""
        return bool(self.env.get("CLAUDE_PLUGIN_ROOT"))

    def tool(self, name: str) -> str:
        """A tool's name as the model sees it: `mcp__plugin_backlog_tasks__<name>`, bare standalone."""
        return PLUGIN_PREFIX + name if self.plugin else name

    def text(self, key: str) -> str | None:
        """A payload field as stripped text (a number as its digits); None when missing or blank."""
        value = self.payload.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value.strip() or None if isinstance(value, str) else None

    def backlog(self, agent: str | None = None):  # -> Backlog
        """The backlog this hook reads or writes; a mutation answers only its message (no brief)."""
        # Imported here, inside main's try: even a broken installation only logs and exits 0.
        from backlog.runtime import open_backlog

        session = self.text("session_id")
        return open_backlog(self.env, self.cwd, channel=f"hook:{self.event}", payload_cwd=self.text("cwd"),
                            agent=agent, writer=f"claude:{session}" if session else "", session=session,
                            briefs=False)

    def summary_dir(self) -> StrPath | None:
        """Where the summary (hooks/summary.py) a read-only hook may answer from is kept: the data
        dir, or on S3 this machine's cache of the bucket prefix."""
        if (self.env.get("BACKLOG_BACKEND") or "files") == "s3":
            from backlog.paths import project_dir, s3_cache_dir, s3_prefix
            from backlog.store.s3bucket import settings

            project = project_dir(self.env, self.cwd, self.text("cwd"))
            return s3_cache_dir(self.env, settings(self.env, s3_prefix(self.env, project)))
        from backlog.paths import resolve_data_dir

        return resolve_data_dir(self.env, self.cwd, self.text("cwd"))

    def fresh_summary(self, grown: bool = False) -> tuple[dict | None, datetime]:
        """(the saved summary if it is fresh now (see summary.fresh for `grown`), else None; now)."""
        from backlog.clock import clock_from_env
        from backlog.hooks import summary

        now, root = clock_from_env(self.env)(), self.summary_dir()
        found = summary.read(root) if root is not None else None
        fresh = found is not None and summary.fresh(found, root, now, summary.zone_key(self.env), grown)
        return (found if fresh else None), now

    def summary(self) -> tuple[dict, datetime]:
        """(the summary, now): the saved one when fresh, else made from a full open and saved."""
        found, now = self.fresh_summary()
        if found is not None:
            return found, now
        from backlog.hooks import summary

        backlog = self.backlog()
        now = backlog.clock()
        made = summary.build(backlog.store, now, backlog.tz, summary.zone_key(self.env))
        root = summary.beside(backlog.store)
        if root is not None:
            summary.save(root, made)
        return made, now

    def holds_nothing(self, kind: str, name: str) -> bool:
        """True when the saved summary proves that no lease names `name` as its `kind`
        (holder or session), commits since included: nothing to release, no need to open."""
        from backlog.hooks import summary

        root = self.summary_dir()
        found = summary.read(root) if root is not None else None
        return (found is not None and not found["remote"] and name not in found[kind + "s"]
                and summary.untouched(found, root, kind, name))

    def log(self, message: str) -> None:
        """Append `<time> <event> <message>` to `<data dir>/hooks.log`; never raises."""
        try:
            from backlog.paths import resolve_data_dir
            from backlog.clock import clock_from_env, utc_now

            try:
                now = clock_from_env(self.env)()
            except BacklogError:  # a bad BACKLOG_NOW: still log (this line may be what reports it)
                now = utc_now()
            root = resolve_data_dir(self.env, self.cwd, self.text("cwd"))
            os.makedirs(root, exist_ok=True)
            path = os.path.join(root, "hooks.log")
            mode = "w" if os.path.exists(path) and os.path.getsize(path) > MAX_LOG_BYTES else "a"
            line = " ".join(f"{now:%Y-%m-%dT%H:%M:%SZ} {self.event} {message}".split())
            with open(path, mode, encoding="utf-8") as f:
                f.write(line + "\n")
        except Exception:  # noqa: BLE001, S110 - a hook must never fail; there is nowhere else to say it
            pass


def main(event: str, stdin: bytes, env: Mapping[str, str], cwd: str, out: IO[str]) -> int:
    """Handle one Claude Code hook event; print its additionalContext or nothing; always 0."""
    hook = Hook(event, {}, env, cwd)
    try:
        handler = HANDLERS.get(event)
        if handler is None:
            raise Ignored(f"unknown event {event!r}; handled: {', '.join(HANDLERS)}")
        if not stdin.strip():
            return 0
        try:
            payload = cjson.loads(stdin)
        except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
            raise Ignored(f"stdin is not JSON ({err})") from None
        if not isinstance(payload, dict):
            raise Ignored(f"stdin is a JSON {type(payload).__name__}, not an object")
        hook.payload = payload
        context = handler(hook)
        if context:
            out.write(cjson.dumps({"hookSpecificOutput": {"hookEventName": event, "additionalContext": context}},
                                  ascii=True, spaced=True) + "\n")
            out.flush()
    except Ignored as why:
        hook.log(f"ignored: {why}")
    except BacklogError as err:
        hook.log(f"ignored: {err}")
    except Exception as err:  # noqa: BLE001 - a hook must never fail the session
        hook.log(f"error: {type(err).__name__}: {err}{_where(err)}")
    return 0


def _where(err: BaseException) -> str:
    """` (at file.py:123)`: the innermost frame of the error, for the log."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    return f" (at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno})"


def agent_name(name: str | None) -> str | None:
    """A Claude name (`backlog:task-planner`, a teammate) as a valid agent: other chars → `-`."""
    if not name:
        return None
    return _kept(name, "-").strip("-") or None


def _kept(text: str, instead: str) -> str:
    """`text` with each run of characters outside NAME_CHARS replaced by `instead`."""
    out, in_run = [], False
    for ch in text:
        if ch in NAME_CHARS:
            out.append(ch)
        elif not in_run:
            out.append(instead)
        in_run = ch not in NAME_CHARS
    return "".join(out)


# -- the events ---------------------------------------------------------------------------

def session_start(hook: Hook) -> str:
    """Brief the session (any source: startup, resume, clear, compact): the backlog is the task list
    to use; then its counts, active tasks and the most urgent ready ones; one line when empty."""
    summary, now = hook.summary()
    text = brief(hook, summary["counts"], summary["active"], summary["ready"], now)
    if summary["remote"]:  # this machine's copy of a shared backlog: say how old it is
        from backlog.core.model import parse_utc

        age = int((now - parse_utc(summary["at"])).total_seconds())
        if age > 0:
            text += f"\n(The shared backlog as this machine saw it {age} s ago.)"
    return text


def brief(hook: Hook, counts: dict[str, int], active: dict, ready: list[dict], now: datetime,
          tz: tzinfo | None = None) -> str:
    """SessionStart's text: `counts` by name, `active` = {"tasks": first rows, "total": n}, the
    `ready` tasks to show (their local due day as `due_day`, else computed in `tz`) at `now`."""
    if not counts["pending"]:
        plan = " or plan bigger work with /backlog:plan" if hook.plugin else ""
        return (f"This project's persistent task list is backlog (empty so far): add work with "
                f"{hook.tool('task_add')}{plan}.")
    head = ", ".join(f"{n} {name}" for name, n in counts.items() if n or name != "waiting")
    lines = [f"Backlog is this project's persistent task list (tools {hook.tool('task_')}*): {head}. "
             "Use it, not a list in your context, to plan and track work across sessions and agents."]
    if active["tasks"]:
        shown = "; ".join(f"#{t['id']} {_cut(t['description'], 60)} ({t.get('agent', 'no agent')})"
                          for t in active["tasks"])
        more = f"; +{active['total'] - len(active['tasks'])} more" if active["total"] > len(active["tasks"]) else ""
        lines.append(f"{RESUMED.get(hook.text('source') or '', 'Active')}: {shown}{more}")
    if ready:
        lines.append("Next ready, most urgent first:")
        lines += [f"#{t['id']} {_cut(t['description'], 90)}{_facts(t, now, tz)}" for t in ready]
    if hook.plugin:
        lines.append("/backlog:tasks shows and triages the backlog; /backlog:implement picks up the next task.")
    else:
        lines.append(f"{hook.tool('task_list')} shows more; {hook.tool('task_claim')} starts the next task.")
    return _fit(lines)


def task_created(hook: Hook) -> None:
    """Mirror a task Claude created: same subject, its description as a note, its origin."""
    subject = hook.text("task_subject")
    if not subject:
        raise Ignored("no task_subject")
    agent = agent_name(hook.text("teammate_name"))
    session, task_id = hook.text("session_id"), hook.text("task_id")
    origin = f"claude:{session}:{task_id}" if session and task_id else None
    description = subject if len(subject) <= 500 else subject[:499] + "…"
    hook.backlog(agent).add(description, origin=origin, annotation=hook.text("task_description"),
                            **({"agent": agent} if agent else {}))


def task_completed(hook: Hook) -> None:
    """Complete the mirror of a task Claude finished: by origin, else by its exact subject."""
    session, task_id = hook.text("session_id"), hook.text("task_id")
    origin = f"claude:{session}:{task_id}" if session and task_id else ""
    subject = hook.text("task_subject") or ""
    if not origin and not subject:
        raise Ignored("neither session_id and task_id nor task_subject given")
    done = hook.backlog(agent_name(hook.text("teammate_name"))).complete_external(origin, subject)
    if done is None:
        raise Ignored(f"no single pending task has origin {origin or '-'} or description {subject!r}; nothing completed")


def assignable(agent_type: str, env: Mapping[str, str]) -> bool:
    """Whether SubagentStart gives this subagent type work: `task-worker` (bare or plugin-qualified)
    and BACKLOG_SUBAGENT_ASSIGN's types or globs (`all`: any), minus the never-assigned types and
    BACKLOG_SUBAGENT_DENY's; nothing with BACKLOG_SUBAGENT_ASSIGN=off."""
    setting = (env.get("BACKLOG_SUBAGENT_ASSIGN") or "").strip()
    if setting.lower() in OFF:
        return False
    names = (agent_type, agent_type.rsplit(":", 1)[-1])
    listed = lambda patterns: any(_matches(n, p.strip()) for p in patterns if p.strip() for n in names)
    if listed(NEVER_ASSIGNED) or listed((env.get("BACKLOG_SUBAGENT_DENY") or "").split(",")):
        return False
    wanted = [p for p in setting.split(",") if p.strip()]
    return names[1] == WORKER or any(p.strip().lower() == "all" for p in wanted) or listed(wanted)


def _matches(name: str, pattern: str) -> bool:
    """fnmatchcase, which imports re (~5 ms of a hook), only for a pattern with a wildcard."""
    if not any(ch in pattern for ch in "*?["):
        return name == pattern
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)


def subagent_name(hook: Hook) -> str:
    """`<agent_type>#<first 6 of agent_id>`: the subagent's backlog name (types repeat, ids do not)."""
    agent, agent_id = agent_name(hook.text("agent_type")), _kept(hook.text("agent_id") or "", "")
    if not agent:
        raise Ignored("no agent_type")
    if not agent_id:
        raise Ignored("no agent_id")
    return f"{agent}#{agent_id[:6]}"


def subagent_start(hook: Hook) -> str | None:
    """Lease the most urgent ready task nobody holds to a worker subagent and tell it its name."""
    name = subagent_name(hook)
    if not assignable(hook.text("agent_type") or "", hook.env):
        return None
    found, _ = hook.fresh_summary(grown=True)  # (what was committed since, `pick` checks under the lock)
    known = found if found is not None and not found["remote"] else None
    if known is not None and not known["unclaimed"] and hook.fresh_summary()[0] is not None:
        task = None  # nothing to assign and nothing committed since: the store was not even opened
    else:
        backlog = hook.backlog(name)
        if known is not None:  # there may be work: the summary's pick, proven under the lock
            from backlog.hooks import summary

            task = backlog.assign(name, pick=lambda store, now: summary.pick(known, store, now))
        else:
            task = backlog.assign(name) if backlog.count("+READY -CLAIMED")["count"] else None  # no lock taken when idle
    claim = f'{hook.tool("task_claim")}(agent="{name}"'
    who = f'Your backlog agent name is "{name}": pass it as agent to every backlog tool call.'
    if task is None:
        return _fit([f"No backlog task is ready for you. {who}",
                     f"{claim}) takes the most urgent ready task once there is one."])
    named = next((p for p in known["assign"] if p["uuid"] == task["uuid"]), {}) if known is not None else {}
    if "due" in task and named.get("due") == task["due"]:
        task = {**task, "due_day": named["due_day"]}  # as the summary saw it in this zone: no zoneinfo to load
    tid = task["id"]
    doc = (f" It has a spec doc: read it with {hook.tool('task_doc_read')}(id=\"{tid}\")."
           if task.get("has_doc") else f" It has no doc; {hook.tool('task_info')}(id=\"{tid}\") shows its notes.")
    return _fit([
        f"Backlog task #{tid} is assigned to you until {task['lease']['expires']}: "
        f"{_cut(task['description'], 200)}{_facts(task, backlog.clock(), backlog.tz, agent=False)}.{doc} {who}",
        f"Start it with {claim}, id=\"{tid}\"), record progress with {hook.tool('task_annotate')}"
        f"(id=\"{tid}\", text=..., agent=\"{name}\") and finish with {hook.tool('task_done')}(id=\"{tid}\", agent=\"{name}\").",
        f"If it is not your job, leave it: the assignment ends when you finish, and "
        f"{hook.tool('task_stop')}(id=\"{tid}\", agent=\"{name}\") hands back a task you claimed.",
    ])


def subagent_stop(hook: Hook) -> None:
    """Let go of what the subagent holds: an unclaimed assignment ends; a claimed task it left
    active is annotated with its last message and released."""
    name = subagent_name(hook)
    if hook.holds_nothing("holder", name):
        return None  # the summary shows no lease of it: the store was not even opened
    backlog = hook.backlog(name)
    if not any(t.get("lease", {}).get("holder") == name for t in backlog.store.tasks.values()):
        return None  # nothing held: no lock taken, nothing written
    backlog.release(name, _cut(hook.text("last_assistant_message") or "(no last message)", LAST_WORDS))
    return None


def session_end(hook: Hook) -> None:
    """Release the leases taken in this session, unless it only cleared (reason=clear goes on)."""
    session, reason = hook.text("session_id"), hook.text("reason") or "other"
    if not session:
        raise Ignored("no session_id")
    if reason == "clear":
        return None
    if hook.holds_nothing("session", session):
        return None
    backlog = hook.backlog()
    if any(t.get("lease", {}).get("session") == session for t in backlog.store.tasks.values()):
        backlog.release_session(session, f"the session ended ({reason})")
    return None


HANDLERS: dict[str, Callable[[Hook], str | None]] = {
    "SessionStart": session_start,
    "TaskCreated": task_created,
    "TaskCompleted": task_completed,
    "SubagentStart": subagent_start,
    "SubagentStop": subagent_stop,
    "SessionEnd": session_end,
}


# -- text for a model ------------------------------------------------------------------------

def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _facts(task: dict, now: datetime, tz: tzinfo | None, agent: bool = True) -> str:
    """` [H, due 2026-11-28 (overdue), project web, doc, agent x]` with only what is set; the due
    day is local: the task's `due_day` (a summary's row), else computed in `tz`."""
    from backlog.core.model import format_utc
    from backlog.hooks.summary import local_day

    facts = [task["priority"]] if task.get("priority") else []
    if task.get("due"):
        late = " (overdue)" if task["due"] < format_utc(now) else ""
        facts.append(f"due {task.get('due_day') or local_day(task['due'], tz)}{late}")  # type: ignore[arg-type]
    if task.get("project"):
        facts.append(f"project {task['project']}")
    if task.get("has_doc"):
        facts.append("doc")
    if agent and task.get("agent"):
        facts.append(f"agent {task['agent']}")
    return f" [{', '.join(facts)}]" if facts else ""


def _fit(lines: list[str]) -> str:
    """The lines joined, dropping middle lines until the text fits MAX_CONTEXT chars."""
    while len(lines) > 2 and len("\n".join(lines)) > MAX_CONTEXT:
        del lines[-2]
    return "\n".join(lines)[:MAX_CONTEXT]
