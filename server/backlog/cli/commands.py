"""One function per CLI command: read the Invocation, call the Backlog facade, print for people.

`--json` prints the result object the MCP tool of the same name returns. A command that would
change or delete more than `ASK_ABOVE` tasks asks on a terminal and needs `--yes` otherwise.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Mapping

from backlog import __version__
from backlog.cli import grammar
from backlog.cli.grammar import Invocation, filter_text
from backlog.cli.table import View, as_json, grid, history_lines, task_table
from backlog.core.value import Value
from backlog.errors import Action, BacklogError, StoreError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from backlog.engine.backlog import Backlog  # (runtime opens it: `--version` and `help` never import the engine)
    from backlog.store.backend import Backend

ASK_ABOVE = 3
REPORTS = {"next": "+READY", "ready": "+READY", "blocked": "+BLOCKED", "active": "+ACTIVE",
           "waiting": "+WAITING", "completed": "+COMPLETED"}
VERBS = {"done": "complete", "modify": "change"}  # the verb of the confirmation question, else the command


class Terminal(Value):
    """Where output goes and how to ask the user: stdout, stderr, and stdin when it is a terminal."""

    env: dict
    out: Callable[[str], None]
    warn: Callable[[str], None]
    ask: Callable[[str], str] | None  # None: stdin is not a terminal
    width: int | None  # None: stdout is not a terminal (tab-separated, never cut)
    color: bool = False


def run(inv: Invocation, term: Terminal) -> int:
    """Run one parsed command line; raises BacklogError / StoreError for main to report."""
    if inv.options.get("help") or inv.command == "help":
        term.out(grammar.usage())
        return 0
    simple = {"version": lambda: term.out(f"backlog {__version__}"), "serve": lambda: serve(term),
              "completion": lambda: completion_script(inv, term),
              "hook": lambda: hook(inv, term), "doctor": lambda: doctor(inv, term), "migrate": lambda: migrate(inv, term),
              "demo": lambda: demo(term), "board": lambda: board(inv, term)}
    if inv.command in simple:
        return simple[inv.command]() or 0
    from backlog.runtime import open_backlog

    user = term.env.get("BACKLOG_AGENT_ID") or term.env.get("USER") or "user"
    backlog = open_backlog(term.env, os.getcwd(), channel="cli", writer=f"cli:{user}",
                           briefs=bool(inv.options.get("json")))  # else only answers' messages are printed
    handler = HANDLERS.get(inv.command) or (report if grammar.COMMANDS[inv.command].kind == "report" else close)
    return handler(backlog, inv, term) or 0


def answer(result: dict, inv: Invocation, term: Terminal) -> None:
    """The result object as JSON with --json, else its message."""
    term.out(as_json(result) if inv.options.get("json") else result["message"])


def count_option(inv: Invocation, name: str, default: int) -> int:
    """A whole-number option such as --limit; BacklogError (one line) otherwise."""
    value = inv.options.get(name, default)
    if isinstance(value, str):
        if not value.isdigit():
            raise BacklogError(f"--{name}", f"'{value}' is not a count", f"use a whole number, e.g. --{name} {grammar.VALUE_OPTIONS[name]}")
        value = int(value)
    return value


def targets(backlog: Backlog, words: tuple[str, ...]) -> list[str]:
    """The ids the filter words name: plain ids as given (the engine says which is missing), else the matches."""
    plain = grammar.plain_ids(words)
    if plain:
        return plain
    text = filter_text(words)
    found = [str(t["id"]) for t in backlog.list(text, sort="id+", limit=0, fields="id")["tasks"]]
    if not found:
        raise BacklogError("filter", f"no task matches '{text}'", "check it with backlog list")
    return found


def confirm(verb: str, ids: list[str], inv: Invocation, term: Terminal) -> None:
    """Ask before changing more than ASK_ABOVE tasks: y/N on a terminal, --yes otherwise."""
    if len(ids) <= ASK_ABOVE or inv.options.get("yes"):
        return
    shown = ", ".join(ids[:8]) + (", …" if len(ids) > 8 else "")
    what = f"{VERBS.get(verb, verb)} {len(ids)} tasks ({shown})"
    if term.ask is None:
        raise BacklogError("--yes", f"this would {what}", "pass --yes to go ahead, or narrow the filter")
    if term.ask(f"{what}? [y/N] ").strip().lower() not in ("y", "yes"):
        raise BacklogError("confirm", "not confirmed", "nothing was changed")


def rows_out(result: dict, inv: Invocation, backlog: Backlog, term: Terminal, fields: str | None) -> None:
    """Task rows as a table (or tab-separated), with a note when the limit cut them."""
    if inv.options.get("json"):
        term.out(as_json(result))
        return
    tasks = result["tasks"]
    if not tasks:
        term.out("no matching tasks")
        return
    shown = [f.strip() for f in fields.split(",") if f.strip()] if fields and fields.strip() != "all" else (
        list(dict.fromkeys(k for t in tasks for k in t)) if fields else None)
    term.out("\n".join(task_table(tasks, view(backlog, inv, term), shown, blocked_by_open(backlog))))
    if result["total"] > len(tasks):
        (term.out if term.width else term.warn)(f"({len(tasks)} of {result['total']} shown; --limit 0 shows all)")


def view(backlog: Backlog, inv: Invocation, term: Terminal) -> View:
    """How this command shows tasks: the backlog's zone and clock, the terminal's width and colour."""
    return View(backlog.tz, backlog.clock(), term.width, term.color, bool(inv.options.get("absolute")))


def blocked_by_open(backlog: Backlog) -> Callable[[dict], bool]:
    """Whether a row (with `depends` as ids) depends on a pending or waiting task."""
    store = backlog.store

    def blocked(row: dict) -> bool:
        return any((store.tasks.get(store.uuid_of(dep) or "") or {}).get("status") in ("pending", "waiting")
                   for dep in row["depends"])
    return blocked


def report(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """list, next, ready, blocked, active, waiting, completed, count, export, claim."""
    text = filter_text(inv.filter)
    if inv.command == "count":
        result = backlog.count(text)
        term.out(as_json(result) if inv.options.get("json") else str(result["count"]))
        return
    if inv.command == "export":
        term.out(as_json(backlog.export(text), indent=True))
        return
    if inv.command == "claim":
        agent = str(inv.options.get("agent") or backlog.agent)
        one = len(inv.filter) == 1 and grammar.is_ids(inv.filter[0]) and "," not in inv.filter[0]
        answer(backlog.claim(agent, id=inv.filter[0] if one else None, filter=None if one else text), inv, term)
        return
    if inv.command in REPORTS:
        text = f"{REPORTS[inv.command]} ({text})" if text else REPORTS[inv.command]
    sort = inv.options.get("sort") or ("end-" if inv.command == "completed" else None)
    fields = inv.options.get("fields")
    result = backlog.list(text, sort=sort, limit=count_option(inv, "limit", 100), fields=fields)
    rows_out(result, inv, backlog, term, fields)


def add(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """add / log: free words are the description."""
    description, extra = grammar.modifications(inv.command, inv.words, lambda k: known_key(k, backlog.udas))
    create = backlog.add if inv.command == "add" else backlog.log
    answer(create(description, extra=extra or None), inv, term)


def known_key(key: str, udas: Callable[[], Mapping[str, str]]) -> bool:
    """True for an attribute name (or an unambiguous prefix of one), a UDA some task has, or a near
    typo of one (`udas` walks every task: asked only for a key that is not an attribute)."""
    from backlog.core.edits import extra_key, near_key  # only commands that write import edits

    return extra_key(key) is not None or key in udas() or near_key(key, udas()) is not None


def modify(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """modify (changes only, confirmed above ASK_ABOVE tasks) and duplicate (free words: the copy's description)."""
    description, extra = grammar.modifications(inv.command, inv.words, lambda k: known_key(k, backlog.udas))
    if inv.command == "duplicate":
        params = {"description": description} if description else {}
        calls = [lambda i=i: backlog.duplicate(i, extra=extra or None, **params) for i in targets(backlog, inv.filter)]
        for result in together(backlog, "duplicate", calls):
            answer(result, inv, term)
        return
    if not extra:
        raise BacklogError("modify", "no change given", "add +tag, -tag or key:value, e.g. priority:H")
    confirm("modify", targets(backlog, inv.filter), inv, term)
    answer(backlog.modify(filter_text(inv.filter), extra=extra), inv, term)


def open_dependencies(backlog: Backlog, ref: str) -> list[int]:
    """Ids of the pending or recurring tasks task `ref` depends on, in its order (its `blocked_by`)."""
    tasks = backlog.store.tasks
    found = (tasks.get(uuid) for uuid in backlog.resolve(ref).get("depends", ()))
    return [dep["id"] for dep in found if dep is not None and dep["status"] in ("pending", "recurring")]


def close(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """done, delete, start, stop, purge: all named tasks in one transaction (all or nothing, one undo);
    completing a task blocked by a task not completed along with it warns."""
    ids = targets(backlog, inv.filter)
    confirm(inv.command, ids, inv, term)
    action = getattr(backlog, inv.command)
    named = set(ids)
    warnings = []
    if inv.command == "done":
        for ref in ids:
            blockers = [b for b in open_dependencies(backlog, ref) if str(b) not in named]
            if blockers:
                warnings.append(f"backlog: warning: task {ref} was blocked by unfinished task"
                                f"{'s' * (len(blockers) > 1)} {', '.join(map(str, blockers))}")
    for result in together(backlog, inv.command, [lambda ref=ref: action(ref) for ref in ids]):
        answer(result, inv, term)
    for line in warnings:
        term.warn(line)


def together(backlog: Backlog, op: str, calls: list[Callable[[], dict]]) -> list[dict]:
    """The results of `calls` made in one transaction (a single call needs none)."""
    if len(calls) == 1:
        return [calls[0]()]
    with backlog.batch(op):
        return [call() for call in calls]


def info(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """info (a card) and history of each named task, a blank line between tasks."""
    blocks = []
    for ref in targets(backlog, inv.filter):
        result = backlog.info(ref) if inv.command == "info" else backlog.history(ref)
        if inv.options.get("json"):
            blocks.append(as_json(result))
        elif inv.command == "info":
            entries = backlog.history(ref)["entries"]
            from backlog.cli.card import card  # lazy imports here and below: only their commands pay for them

            blocks.append("\n".join(card(result["task"], view(backlog, inv, term), related(backlog), entries)))
        else:
            blocks.append("\n".join(history_lines(result["entries"], backlog.tz)) or f"no history for task {ref}")
    term.out(("\n" if inv.options.get("json") else "\n\n").join(blocks))


def related(backlog: Backlog) -> Callable[[int], dict | None]:
    """A hot task by its short id, for the descriptions of dependencies on a card."""
    store = backlog.store
    return lambda id: store.tasks.get(store.uuid_of(id) or "")


def note(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """annotate / denotate each named task with the words as one text, in one transaction."""
    text = " ".join(inv.words)
    if not text.strip():
        raise BacklogError(inv.command, "needs the note's text", f"e.g. backlog 12 {inv.command} called the vendor")
    action = getattr(backlog, inv.command)
    calls = [lambda ref=ref: action(ref, text) for ref in targets(backlog, inv.filter)]
    for result in together(backlog, inv.command, calls):
        answer(result, inv, term)


def names(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """projects / tags with their pending counts."""
    result = getattr(backlog, inv.command)()
    if inv.options.get("json"):
        term.out(as_json(result))
    elif not result["items"]:
        term.out(f"no {inv.command}")
    else:
        rows = [[i["name"], str(i["pending"])] for i in result["items"]]
        term.out("\n".join(grid([inv.command[:-1].capitalize(), "Pending"], rows, term.width)))


def search(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """Tasks of any status ranked by relevance to the words, with a snippet of where they matched."""
    result = backlog.search(" ".join(inv.words), limit=count_option(inv, "limit", 100))
    if inv.options.get("json"):
        term.out(as_json(result))
    elif not result["results"]:
        term.out("no matching tasks")
    else:
        rows = [[str(r["id"]), r["status"], r["description"], " ".join(r["snippet"].split())] for r in result["results"]]
        term.out("\n".join(grid(["ID", "Status", "Description", "Snippet"], rows, term.width)))


def simple(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """undo and archive: one call, one message."""
    if inv.command == "undo":
        agent = inv.options.get("agent")
        answer(backlog.undo(agent=agent if isinstance(agent, str) else None, everyone=bool(inv.options.get("any"))),
               inv, term)
    else:
        answer(backlog.archive(count_option(inv, "older-than-days", 90)), inv, term)


def import_(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """Import FILE, or stdin when it is not a terminal."""
    if len(inv.words) > 1:
        raise BacklogError("import", f"takes one file, got {len(inv.words)}", "import them one at a time")
    path = inv.words[0] if inv.words else "-"
    if path == "-" and term.ask is not None:
        raise BacklogError("import", "no file given and stdin is a terminal",
                           "use backlog import tasks.json, or pipe JSON in: task export | backlog import")
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    answer(backlog.import_tasks(text), inv, term)


def doc(backlog: Backlog, inv: Invocation, term: Terminal) -> None:
    """One task's doc: --show prints it, --delete removes it; else the new text comes from
    $VISUAL/$EDITOR on a terminal (opened on the current doc), or from stdin when piped."""
    ids = targets(backlog, inv.filter)
    if len(ids) != 1:
        raise BacklogError("doc", f"takes one task, got {len(ids)}", "name one, e.g. backlog 12 doc")
    ref = ids[0]
    if inv.options.get("show"):
        term.out(backlog.doc_read(ref)["content"])
        return
    if inv.options.get("delete"):
        answer(backlog.doc_delete(ref), inv, term)
        return
    current = backlog.doc_read(ref)["content"] if backlog.info(ref)["task"].get("has_doc") else ""
    text = sys.stdin.read() if term.ask is None else edited(current, term.env)
    if text == current:
        term.out(f"the doc of task {ref} is unchanged")
    elif not text.strip():
        raise BacklogError("doc", "the new text is empty", ("nothing was changed; ", Action("doc_delete"), " removes a doc"))
    else:
        answer(backlog.doc_write(ref, text), inv, term)


def edited(text: str, env: Mapping[str, str]) -> str:
    """`text` after the user's editor has had it (a temporary .md file, removed afterwards)."""
    import shlex  # only here: every other command starts ~8 ms sooner without them
    import subprocess
    import tempfile

    editor = shlex.split(env.get("VISUAL") or env.get("EDITOR") or "vi")
    with tempfile.TemporaryDirectory(prefix="backlog-doc-") as folder:
        path = os.path.join(folder, "doc.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if subprocess.run([*editor, path]).returncode != 0:
            raise BacklogError("doc", f"the editor {editor[0]} failed", "nothing was changed; fix $EDITOR or use --show")
        with open(path, encoding="utf-8") as f:
            return f.read()


HANDLERS: dict[str, Callable[[Backlog, Invocation, Terminal], object]] = {
    "add": add, "log": add, "modify": modify, "duplicate": modify, "info": info, "history": info,
    "annotate": note, "denotate": note, "projects": names, "tags": names, "search": search,
    "undo": simple, "archive": simple, "import": import_, "doc": doc,
}


def complete(words: list[str], env: dict, out: Callable[[str], None]) -> int:
    """`backlog _complete WORD`: the completion candidates, one per line; without a readable
    store only the commands and field names (a completion never prints an error)."""
    from backlog.runtime import open_backlog

    try:
        backlog = open_backlog(env, os.getcwd(), channel="cli")
        lists = {"project": backlog.projects()["items"], "tags": backlog.tags()["items"]}
        udas = list(backlog.udas())
    except (BacklogError, StoreError, OSError):
        lists, udas = {}, []
    from backlog.cli import completion

    found = completion.candidates(words[0] if words else "", lambda field: [i["name"] for i in lists.get(field, ())],
                                  lambda: udas)
    out("\n".join(found))
    return 0


def completion_script(inv: Invocation, term: Terminal) -> None:
    from backlog.cli import completion

    term.out(completion.script(inv.words))


def serve(term: Terminal) -> None:
    gc.enable()  # main paused it for a one-shot command; a server runs for hours
    from backlog.mcp.server import serve as serve_mcp
    serve_mcp(term.env, os.getcwd())


def board(inv: Invocation, term: Terminal) -> int:
    """Serve the live web board (Starlette and uvicorn are imported only here)."""
    port = count_option(inv, "port", 0)
    if port > 65535:
        raise BacklogError("--port", f"'{port}' is not a port", "use 1024–65535, or leave it out for a free one")
    gc.enable()  # main paused it for a one-shot command; the board runs until stopped
    from backlog.board.serve import serve_board
    return serve_board(term.env, os.getcwd(), port=port, open_page=not inv.options.get("no-open"),
                       read_only=bool(inv.options.get("read-only")), out=term.out)


def hook(inv: Invocation, term: Terminal) -> int:
    if len(inv.words) != 1:
        raise BacklogError("hook", "needs one event name", "e.g. backlog hook SessionStart")
    from backlog.hooks.events import main as hook_main
    return hook_main(inv.words[0], sys.stdin.buffer.read(), term.env, os.getcwd(), sys.stdout)


def doctor(inv: Invocation, term: Terminal) -> int:
    """Check (or --repair) the store and list backlogs left under old per-directory slugs;
    --json prints {"ok", "problems"} (and "repaired", or "strays" when there are some)."""
    from backlog.paths import data_dir, project_dir
    from backlog.store import doctor as checks

    project = project_dir(term.env, os.getcwd())
    if term.env.get("BACKLOG_BACKEND") == "s3":
        from backlog.paths import s3_prefix
        from backlog.runtime import s3_backend

        backend = s3_backend(term.env, s3_prefix(term.env, project))
        return doctor_report(backend, backend.root, inv, term, [], [])
    root = data_dir(term.env, project)
    strays = [] if inv.options.get("repair") else checks.strays(
        root, project, lambda folder: data_dir(term.env, folder),
        bool(term.env.get("BACKLOG_NAMESPACE") or term.env.get("BACKLOG_AUTO_NAMESPACE")))
    notes = [f"{s['directory']}: {s['tasks']} task(s) in an old backlog {s['data']}; merge them with "
             f"`{s['merge']}`, then remove it" for s in strays]
    return doctor_report(root, root, inv, term, strays, notes)


def doctor_report(place: str | Backend, root: object, inv: Invocation, term: Terminal, strays: list[dict],
                  notes: list[str]) -> int:
    """Check or repair `place` (a data dir or a bucket's backend, named `root`) and print the outcome."""
    from backlog.runtime import clock_from_env
    from backlog.store import doctor as checks

    json_out = inv.options.get("json")
    if inv.options.get("repair"):
        report = checks.repair(place, clock_from_env(term.env)())
        if json_out:
            left = checks.check(place)
            term.out(as_json({"ok": not left, "problems": left, "repaired": report}))
        else:
            term.out("\n".join(report) if report else f"{root}: healthy, nothing to repair")
        return 0
    problems = checks.check(place)
    if json_out:
        term.out(as_json({"ok": not problems, "problems": problems, **({"strays": strays} if strays else {})}))
    elif problems:
        term.out("\n".join(problems + ["run `backlog doctor --repair` to restore the newest consistent state"] + notes))
    else:
        term.out("\n".join([f"{root}: healthy", *notes]))
    return 2 if problems else 0


def migrate(inv: Invocation, term: Terminal) -> int:
    """Copy the backlog of the current settings into the empty store `--to` names (store/migrate.py)."""
    from backlog.paths import data_dir, project_dir, s3_prefix
    from backlog.runtime import open_s3, s3_backend
    from backlog.store.files import FileBackend
    from backlog.store.migrate import migrate as copy_backlog
    from backlog.store.store import Store

    to = inv.options.get("to")
    here = term.env.get("BACKLOG_BACKEND") or "files"
    if to not in ("s3", "files") or to == here:
        other = "files" if here == "s3" else "s3"
        raise BacklogError("--to", f"'{to or ''}' is not where this backlog can go from '{here}'", f"use --to {other}")
    project = project_dir(term.env, os.getcwd())
    prefix = s3_prefix(term.env, project)
    if to == "s3":
        source = Store.open(data_dir(term.env, project))
        target = s3_backend(term.env, prefix)
    else:
        source = open_s3(term.env, prefix)
        target = FileBackend(data_dir({k: v for k, v in term.env.items() if k != "BACKLOG_BACKEND"}, project))
    line = copy_backlog(source, target)
    if inv.options.get("json"):
        term.out(as_json({"ok": True, "message": line}))
    else:
        term.out(f"{line}; {'set BACKLOG_BACKEND=s3' if to == 's3' else 'unset BACKLOG_BACKEND'} to use it")
    return 0


def demo(term: Terminal) -> None:
    from backlog.cli.demo import demo as run_demo
    run_demo(term.env, term.out, term.width, term.color)
