"""`backlog …`: the human CLI (SPEC §11b), plus `serve` and `hook` for Claude Code.

Exit codes: 0 ok, 1 bad input or refused operation (one line on stderr), 2 store problem.
`--json` prints the object the MCP tool of the same name returns.
"""

from __future__ import annotations

import os
import sys
from datetime import tzinfo
from collections.abc import Callable, Mapping, Sequence

import orjson

from backlog import __version__
from backlog.errors import BacklogError, StoreError
from backlog.core.model import DATE_FIELDS, parse_utc

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    import argparse

DEMO_TASKS = [
    {"description": "Set up CI for the web app", "project": "web", "tags": ["infra"], "priority": "H", "due": "tomorrow"},
    {"description": "Fix login redirect loop", "project": "web.auth", "tags": ["bug"], "priority": "H", "due": "today"},
    {"description": "Write API reference", "project": "docs", "tags": ["docs"], "due": "eow"},
    {"description": "Profile slow search queries", "project": "api", "tags": ["perf"], "priority": "M"},
    {"description": "Migrate sessions to Redis", "project": "api", "tags": ["infra"], "depends": "4"},
    {"description": "Weekly dependency update", "project": "ops", "recur": "weekly", "due": "monday"},
    {"description": "Plan the v2 roadmap", "tags": ["next"], "scheduled": "today"},
]


def split_words(words: Sequence[str], udas: Callable[[], Mapping[str, str]]) -> tuple[str, str]:
    """Command-line words → (description, extra): `+tag`, `-tag` and `key:value` go to extra.

    `key:value` is an attribute when key names a field (or abbreviates one), a UDA some task
    has, or is a near typo of one (`priorty:H`), which extra then refuses with a suggestion.
    """
    from functools import cache

    from backlog.core.edits import extra_key, near_key

    udas = cache(udas)
    text, extra = [], []
    for word in words:
        key, colon, value = word.partition(":")
        is_attr = bool(colon) and " " not in key and (
            extra_key(key) is not None or key in udas() or near_key(key, udas()) is not None)
        is_tag = len(word) > 1 and word[0] in "+-" and " " not in word
        (extra if is_attr or is_tag else text).append(word if " " not in word or not is_attr else f'{key}:"{value}"')
    return " ".join(text), " ".join(extra)


def parser() -> argparse.ArgumentParser:
    import argparse  # not at the top: `backlog hook` skips it (~10 ms with the parser)

    top = argparse.ArgumentParser(prog="backlog", description="Persistent task backlog for Claude Code and you.")
    top.add_argument("--version", action="version", version=f"backlog {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help, description=help)
        cmd.add_argument("--json", action="store_true", help="print the result object as JSON")
        return cmd

    command("add", "add a task: words, +tag, key:value (project:web due:friday)").add_argument("words", nargs="+")
    lst = command("list", "list tasks matching a filter (default: pending, not waiting)")
    lst.add_argument("filter", nargs="*")
    lst.add_argument("--sort", help="e.g. 'due+,priority-' (default urgency-,id+)")
    lst.add_argument("--limit", type=int, default=100, help="rows to show, 0 = all (default 100)")
    lst.add_argument("--fields", help="comma list of fields, or 'all'")
    command("info", "every field of one task").add_argument("id")
    command("done", "complete a task").add_argument("id")
    mod = command("modify", "change every task matching FILTER: words, +tag, -tag, key:value ('key:' clears)")
    mod.add_argument("filter")
    mod.add_argument("words", nargs="+")
    command("undo", "revert the newest change not yet undone")
    command("import", "import a JSON array or `task export` output").add_argument("file", nargs="?", default="-")
    command("export", "print matching tasks (all by default) as Taskwarrior JSON").add_argument("filter", nargs="*")
    doctor = sub.add_parser("doctor", help="check the store; --repair restores the newest consistent state")
    doctor.add_argument("--repair", action="store_true")
    sub.add_parser("demo", help="show a sample backlog in a temporary data dir (never yours)")
    sub.add_parser("serve", help="run the MCP server on stdio")
    hook = sub.add_parser("hook", help="handle a Claude Code hook event read from stdin")
    hook.add_argument("event")
    return top


def run(args: argparse.Namespace, env: dict, out: Callable[[str], None]) -> int:
    from backlog.runtime import open_backlog

    if args.command == "serve":
        from backlog.mcp.server import serve
        serve(env, os.getcwd())
        return 0
    if args.command == "hook":
        from backlog.hooks.events import main as hook_main
        return hook_main(args.event, sys.stdin.buffer.read(), env, os.getcwd(), sys.stdout)
    if args.command == "doctor":
        return doctor(args.repair, env, out)
    if args.command == "demo":
        return demo(env, out)
    backlog = open_backlog(env, os.getcwd(), channel="cli")
    as_json = args.json
    if args.command == "add":
        description, extra = split_words(args.words, backlog.udas)
        result = backlog.add(description, extra=extra or None)
    elif args.command == "list":
        result = backlog.list(" ".join(args.filter), sort=args.sort, limit=args.limit, fields=args.fields)
        if not as_json:
            out(table(result["tasks"], result["total"], backlog.tz))
            return 0
    elif args.command == "info":
        result = backlog.info(args.id)
        if not as_json:
            out("\n".join(info_lines(result["task"], backlog.tz)))
            return 0
    elif args.command == "done":
        result = backlog.done(args.id)
    elif args.command == "modify":
        description, extra = split_words(args.words, backlog.udas)
        result = backlog.modify(args.filter, extra=extra or None, **({"description": description} if description else {}))
    elif args.command == "undo":
        result = backlog.undo()
    elif args.command == "import":
        text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
        result = backlog.import_tasks(text)
    else:  # export
        out(orjson.dumps(backlog.export(" ".join(args.filter)), option=orjson.OPT_INDENT_2).decode())
        return 0
    out(orjson.dumps(result).decode() if as_json else result["message"])
    return 0


def local_time(stamp: str, tz: tzinfo) -> str:
    """A stored UTC date as local time with its offset, e.g. `2026-11-24 11:14:53 +0100`."""
    return parse_utc(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")


def info_lines(task: dict, tz: tzinfo) -> list[str]:
    """task_info's fields as `key value` lines: dates in the local zone, one line per annotation."""
    lines = []
    for key, value in task.items():
        if key == "annotations":
            lines += [f"{key if n == 0 else '':<12} {local_time(note['entry'], tz)} {note['description']}"
                      for n, note in enumerate(value)]
            continue
        if key in DATE_FIELDS:
            value = local_time(value, tz)
        lines.append(f"{key:<12} {value if isinstance(value, str) else orjson.dumps(value).decode()}")
    return lines


def table(tasks: list[dict], total: int, tz: tzinfo) -> str:
    """A fixed-width table of task rows (dates as local days), the description cut to the terminal width."""
    import shutil

    if not tasks:
        return "no matching tasks"
    columns = [("id", "ID"), ("priority", "P"), ("project", "Project"), ("tags", "Tags"),
               ("due", "Due"), ("agent", "Agent"), ("urgency", "Urg"), ("description", "Description")]
    columns = [(k, h) for k, h in columns if any(k in t for t in tasks)]

    def cell(task: dict, key: str) -> str:
        value = task.get(key, "")
        if key == "tags":
            return " ".join(value)
        if key == "due" and value:
            return parse_utc(value).astimezone(tz).strftime("%Y-%m-%d")
        if key == "description" and task.get("start"):
            return f"* {value}"
        return str(value)

    rows = [[cell(t, k) for k, _ in columns] for t in tasks]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, (_, h) in enumerate(columns)]
    room = shutil.get_terminal_size((120, 20)).columns - sum(widths[:-1]) - len(widths)
    widths[-1] = max(20, min(widths[-1], room))
    lines = [" ".join(h.ljust(w) for (_, h), w in zip(columns, widths)).rstrip()]
    for r in rows:
        lines.append(" ".join((c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(r, widths)).rstrip())
    if total > len(tasks):
        lines.append(f"({len(tasks)} of {total} shown; --limit 0 shows all)")
    return "\n".join(lines)


def doctor(repair: bool, env: dict, out: Callable[[str], None]) -> int:
    from backlog.store import doctor as checks
    from backlog.paths import resolve_data_dir
    from backlog.runtime import clock_from_env

    root = resolve_data_dir(env, os.getcwd())
    if repair:
        report = checks.repair(root, clock_from_env(env)())
        out("\n".join(report) if report else f"{root}: healthy, nothing to repair")
        return 0
    problems = checks.check(root)
    if problems:
        out("\n".join(problems + ["run `backlog doctor --repair` to restore the newest consistent state"]))
        return 2
    out(f"{root}: healthy")
    return 0


def demo(env: dict, out: Callable[[str], None]) -> int:
    import tempfile

    from backlog.runtime import open_backlog

    root = tempfile.mkdtemp(prefix="backlog-demo-")
    demo_env = {k: v for k, v in env.items() if k not in ("BACKLOG_NAMESPACE", "BACKLOG_AUTO_NAMESPACE")}
    demo_env["TASKDATA"] = root
    backlog = open_backlog(demo_env, root, channel="cli", agent="demo")
    for spec in DEMO_TASKS:
        spec = dict(spec)
        backlog.add(spec.pop("description"), **{k: (",".join(v) if isinstance(v, list) else v) for k, v in spec.items()})
    backlog.start("1")
    backlog.annotate("2", "Reproduced with Safari 18; cookie path is wrong")
    out(table(backlog.list()["tasks"], backlog.count()["count"], backlog.tz))
    out(f"\nThis demo backlog lives in {root}; explore it with:\n  TASKDATA={root} backlog list +READY")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    if len(words) == 2 and words[0] == "hook" and not words[1].startswith("-"):
        # Claude Code runs this on every event: no argparse, no CLI-only imports.
        from backlog.hooks.events import main as hook_main
        return hook_main(words[1], sys.stdin.buffer.read(), dict(os.environ), os.getcwd(), sys.stdout)
    args = parser().parse_args(words)
    env = dict(os.environ)
    try:
        return run(args, env, print)
    except BacklogError as err:
        print(f"backlog: {err}", file=sys.stderr)
        return 1
    except StoreError as err:
        print(f"backlog: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"backlog: {err.filename or ''} {err.strerror}; check the path and permissions".strip(), file=sys.stderr)
        return 2
