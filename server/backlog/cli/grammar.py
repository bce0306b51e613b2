"""Reading a command line (pure): `backlog [FILTER] COMMAND [WORDS]` or `backlog COMMAND [WORDS]`.

Rules: the first word that names a command is the command (a command name wins over a bare
word; quote it or use `description.has:` to search for it); only `--long` words are options
(`-h`, `-bug` are tags), `--` ends them; no command with only ids is `info`, nothing at all
is `next`. `Invocation` says which words filter and which words change or describe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from backlog.core.model import is_short_id, is_uuid_prefix
from backlog.core.value import Value
from backlog.core.patterns import Pattern
from backlog.errors import Action, BacklogError

# kind: how the words after the command are read
#   report  every word filters            create  words describe a new task (no filter)
#   tasks   every word filters (ids …)    change  FILTER then changes (modify, duplicate)
#   text    FILTER then a note's text     words   plain arguments    none  no words at all
KINDS = ("report", "create", "tasks", "change", "text", "words", "none")


class Command(Value):
    kind: str
    help: str
    options: tuple[str, ...] = ()


REPORT_OPTIONS = ("sort", "limit", "fields", "absolute")
COMMANDS: dict[str, Command] = {
    "add": Command("create", "add a task: words, +tag, key:value (project:web due:friday)"),
    "log": Command("create", "record a task that is already done"),
    "list": Command("report", "tasks matching FILTER (default: pending, not waiting)", REPORT_OPTIONS),
    "next": Command("report", "READY tasks, most urgent first (the default command)", REPORT_OPTIONS),
    "ready": Command("report", "READY tasks: pending, not waiting, not blocked, scheduled", REPORT_OPTIONS),
    "blocked": Command("report", "tasks waiting on unfinished dependencies", REPORT_OPTIONS),
    "active": Command("report", "started tasks", REPORT_OPTIONS),
    "waiting": Command("report", "tasks hidden until their wait date", REPORT_OPTIONS),
    "completed": Command("report", "completed tasks, newest first", REPORT_OPTIONS),
    "count": Command("report", "how many tasks match FILTER"),
    "export": Command("report", "matching tasks (all by default) as Taskwarrior JSON"),
    "claim": Command("report", "give an agent (--agent, default you) a READY task and start it", ("agent",)),
    "info": Command("tasks", "a card of each task (`backlog 12` alone does this too)", ("absolute",)),
    "history": Command("tasks", "every recorded change of the tasks"),
    "done": Command("tasks", "complete the tasks", ("yes",)),
    "delete": Command("tasks", "delete the tasks", ("yes",)),
    "start": Command("tasks", "mark the tasks active", ("yes",)),
    "stop": Command("tasks", "mark the tasks inactive", ("yes",)),
    "purge": Command("tasks", "remove deleted tasks for good", ("yes",)),
    "doc": Command("tasks", "a task's markdown doc: edit it in $EDITOR, --show it, or --delete it", ("show", "delete")),
    "modify": Command("change", 'change the tasks: +tag -tag key:value (\'due:\' clears, description:"…")', ("yes",)),
    "duplicate": Command("change", "copy a task, with words/+tag/key:value applied to the copy"),
    "annotate": Command("text", "add a note to the tasks"),
    "denotate": Command("text", "remove the note with this exact text"),
    "search": Command("words", "tasks of any status ranked by relevance to the words", ("limit",)),
    "import": Command("words", "import a JSON array or `task export` output from FILE or stdin"),
    "hook": Command("words", "handle a Claude Code hook event read from stdin"),
    "help": Command("words", "this help"),
    "completion": Command("words", 'a completion script: eval "$(backlog completion bash)" (or zsh, fish)'),
    "projects": Command("none", "projects of pending tasks, with counts"),
    "tags": Command("none", "tags of pending tasks, with counts"),
    "undo": Command("none", "revert your newest change not yet undone (--agent: that agent's; --any: anyone's)",
                    ("any", "agent")),
    "archive": Command("none", "move tasks that ended long ago into quarter segments", ("older-than-days",)),
    "doctor": Command("none", "check the store; --repair restores the newest consistent state", ("repair",)),
    "migrate": Command("none", "copy this backlog with its history and docs into an empty one: "
                       "--to s3 (the BACKLOG_S3_* settings) or --to files (the data dir)", ("to",)),
    "demo": Command("none", "show a sample backlog in a temporary data dir (never yours)"),
    "serve": Command("none", "run the MCP server on stdio"),
    "board": Command("none", "serve a live web board of the backlog on 127.0.0.1 until Ctrl-C",
                     ("no-open", "port", "read-only")),
    "version": Command("none", "print the version"),
}
VALUE_OPTIONS = {"sort": "due+,priority-", "limit": "20", "fields": "id,description",
                 "older-than-days": "90", "agent": "claude", "port": "8765", "color": "never",
                 "to": "s3"}
FLAG_OPTIONS = ("json", "yes", "repair", "help", "version", "show", "delete", "no-open", "read-only", "any",
                "absolute")
EVERYWHERE = ("json", "help", "color")

_KEY = Pattern(r"[a-z_][a-z0-9_.]*")


COMMAND_OF_TOOL = {"doc_write": "doc", "doc_read": "doc --show", "doc_delete": "doc --delete"}


def spell_command(action: Action) -> str:
    """An engine error's fix as a command line: `Action("list", {"filter": "+READY"})` is
    `backlog list +READY`; an argument naming one of the command's options is spelled as it
    (`Action("undo", {"scope": "any"})` is `backlog undo --any`); a command that needs tasks
    and got none says where they go (`ID`)."""
    command = COMMAND_OF_TOOL.get(action.name, action.name)
    options = COMMANDS[command.split()[0]].options
    args = [f"--{value}" if value in options and value in FLAG_OPTIONS  # scope 'any' is --any
            else f"--{key} {value}" if key in options else value for key, value in action.args.items()]
    if not args and COMMANDS[command.split()[0]].kind == "tasks":
        return f"backlog ID {command}"
    return " ".join(["backlog", command, *args])


class Invocation(Value):
    """One parsed command line: the command, its filter words, its other words and options."""

    command: str
    filter: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    options: dict[str, str | bool]


def is_ids(word: str) -> bool:
    """True for `12`, `3,5`, `3-7`, a uuid or uuid prefix (8+ hex), or a comma list of them."""
    return all(is_uuid_prefix(part) or all(is_short_id(n) for n in part.split("-", 1)) for part in word.split(","))


def plain_ids(words: Sequence[str]) -> list[str] | None:
    """The single ids and uuids of `12 3,5` in order, without repeats; None when a word is not one (or a range)."""
    parts = [part for word in words for part in word.split(",")]
    if not parts or not all(is_short_id(p) or is_uuid_prefix(p) for p in parts):
        return None
    return list(dict.fromkeys(parts))


def is_tag(word: str) -> bool:
    """True for `+tag` and `-tag` (so `-h` is a tag, not an option)."""
    return len(word) > 1 and word[0] in "+-" and not word.startswith("--") and not any(
        c.isspace() or c == ":" for c in word)


def parse(argv: Sequence[str]) -> Invocation:
    """The Invocation of a command line; BacklogError (one line) for an unknown option or misplaced words."""
    before: list[str] = []
    after: list[str] = []
    options: dict[str, str | bool] = {}
    command = None
    words = iter(argv)
    ended = False
    for word in words:
        if not ended and word == "--":
            ended = True
        elif not ended and word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if name in VALUE_OPTIONS:
                if not eq:
                    value = next(words, None)
                    if value is None:
                        raise BacklogError(f"--{name}", "needs a value", f"e.g. --{name} {VALUE_OPTIONS[name]}")
                options[name] = value
            elif name in FLAG_OPTIONS and not eq:
                options[name] = True
            else:
                known = ", ".join(f"--{o}" for o in (*FLAG_OPTIONS, *VALUE_OPTIONS))
                raise BacklogError(word, "is not an option", f"options are {known}; put words that start with -- after --")
        elif command is None and word in COMMANDS:
            command = word
        else:
            (after if command else before).append(word)
    if command is None:
        command = default_command(before, options)
    check_options(command, options)
    return Invocation(command, *split(command, before, after), options)


def default_command(before: Sequence[str], options: dict) -> str:
    """`--help`, `--version`, `info` for ids alone, else `next`; a near-miss command word is an error."""
    if options.pop("help", False):
        return "help"
    if options.pop("version", False):
        return "version"
    if before and all(is_ids(w) for w in before):
        return "info"
    for word in before:
        import difflib  # lazy imports here and below: most command lines never need them

        close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.75)
        if close and not is_tag(word) and ":" not in word and " " not in word:
            raise BacklogError("command", f"'{word}' is not a command", f"did you mean '{close[0]}'? (quote a word to search for it)")
    return "next"


def check_options(command: str, options: dict) -> None:
    """Refuse an option the command does not take, naming the ones it does."""
    allowed = (*COMMANDS[command].options, *EVERYWHERE)
    for name in options:
        if name not in allowed:
            takes = ", ".join(f"--{o}" for o in allowed)
            raise BacklogError(f"--{name}", f"{command} does not take it", f"{command} takes {takes}")


def split(command: str, before: list[str], after: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(filter words, other words) for the command's kind."""
    kind = COMMANDS[command].kind
    if kind in ("report", "tasks"):
        if kind == "tasks" and not before + after:
            raise BacklogError(command, "needs the tasks", f"name them, e.g. backlog 12 {command} or backlog {command} 3,5")
        return tuple(before + after), ()
    if kind in ("create", "words", "none") and before:
        raise BacklogError(command, f"takes no filter before it (got '{before[0]}')", f"write backlog {command} …")
    if kind == "none" and after:
        raise BacklogError(command, f"takes no words (got '{after[0]}')", f"write just backlog {command}")
    if kind in ("create", "words", "none"):
        return (), tuple(after)
    if before:
        return tuple(before), tuple(after)
    ids = 0
    while ids < len(after) and is_ids(after[ids]):
        ids += 1
    if ids == 0 and kind == "change" and after:
        ids = 1  # `modify project:web priority:H`: the first word is the filter
    if ids == 0:
        raise BacklogError(command, "needs the tasks first", f"e.g. backlog 12 {command} … or backlog {command} 12 …")
    return tuple(after[:ids]), tuple(after[ids:])


def filter_text(words: Sequence[str]) -> str:
    """Filter words as one filter string; a word with spaces is quoted (`key:"a b"` or `"a b"`)."""
    return " ".join(_quote_word(w) for w in words)


def _quote_word(word: str) -> str:
    if not any(c.isspace() for c in word) or word[:1] in "'\"":
        return word
    key, colon, value = word.partition(":")
    mark = "'" if '"' in word else '"'
    if colon and _KEY.fullmatch(key):
        return f"{key}:{mark}{value}{mark}"
    return f"{mark}{word}{mark}"


def modifications(command: str, words: Sequence[str], known_key: Callable[[str], bool]) -> tuple[str, str]:
    """Words → (description, extra): `+tag`, `-tag` and `key:value` go to extra, the rest is text.

    Only `create` commands and `duplicate` take text: there a `key:value` is an attribute when
    `known_key(key)` (a field, a UDA or a near typo, which extra refuses with a suggestion),
    else text (`at: noon`). Elsewhere every `key:value` goes to extra, which refuses unknown
    keys listing the valid ones, and a bare word is an error naming `description:"…"`; there
    a word with spaces is an attribute only when `known_key(key)`.
    """
    takes_text = COMMANDS[command].kind == "create" or command == "duplicate"
    text, extra = [], []
    for word in words:
        key, colon, value = word.partition(":")
        spaced = any(c.isspace() for c in word)
        if is_tag(word):
            extra.append(word)
        elif colon and _KEY.fullmatch(key) and not value.startswith("//") and (
                known_key(key) if spaced or takes_text else True):
            import shlex

            extra.append(f"{key}:{shlex.quote(value)}" if value else word)
        else:
            text.append(word)
    if text and not takes_text:
        joined = " ".join(text).replace('"', "'")
        raise BacklogError(command, f"'{text[0]}' is not a change",
                           f'to replace the description write description:"{joined}"; changes are +tag, -tag, key:value')
    return " ".join(text), " ".join(extra)


def usage() -> str:
    """`backlog --help`: the grammar, then one line per command."""
    lines = ["usage: backlog [FILTER] COMMAND [WORDS] [--options]   or   backlog COMMAND [FILTER|WORDS]",
             "  FILTER: ids (12, 3,5, 3-7), +tag, -tag, key:value, words; `backlog 12` = info, `backlog` = next",
             "  only --long words are options; -- ends them; more than 3 tasks changed asks first (--yes skips)",
             "", "commands:"]
    lines += [f"  {name:<10} {spec.help}" + (f"  [{' '.join('--' + o for o in spec.options)}]" if spec.options else "")
              for name, spec in COMMANDS.items()]
    lines.append("every command takes --json (the result object), --help and --color=auto|always|never")
    return "\n".join(lines)
