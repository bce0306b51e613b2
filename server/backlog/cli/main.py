"""`backlog …`: the entry point of the human CLI (SPEC §11b), of `serve` and of `hook` for Claude Code.

Exit codes: 0 ok, 1 bad input or refused operation (one line on stderr), 2 store problem,
130 interrupted (Ctrl-C). A closed pipe (`backlog list | head -1`) ends quietly with 0.
`backlog hook <Event>` is dispatched before any CLI module is imported: hooks start fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    if len(words) == 2 and words[0] == "hook" and not words[1].startswith("-"):
        # Claude Code runs this on every event: no grammar, no tables, no CLI-only imports.
        from backlog.hooks.events import main as hook_main
        code = hook_main(words[1], sys.stdin.buffer.read(), dict(os.environ), os.getcwd(), sys.stdout)
        if argv is None:
            leave(code)  # as a command does: tearing the interpreter down costs a hook ~7 ms
        return code
    # One command, then the process exits: the cyclic collector would only walk the loaded store
    # again and again (tasks hold no cycles). `serve` and `board`, which stay, turn it back on.
    gc.disable()
    code = command(words)
    if argv is None and not gc.isenabled():
        leave(code)
    gc.enable()
    return code


def leave(code: int) -> NoReturn:
    """End this one-shot process now: output flushed, no teardown.

    A normal exit frees the loaded store object by object and collects once more (~7 ms at 10k
    tasks, ~30 ms at 100k), and tears down every imported module (~7 ms for a hook's); nothing
    needs it: backlog registers no exit handlers, the command's writes are fsynced before it
    returns, and its lock goes with the process.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to say
            pass
    os._exit(code)


def command(words: list[str]) -> int:
    """Run one CLI command line; errors become one line on stderr and the exit code."""
    from backlog.errors import BacklogError, StoreError

    try:
        code = cli(words)
        sys.stdout.flush()
        return code
    except BacklogError as err:
        from backlog.cli.grammar import spell_command

        return fail(err.line(spell_command), 1)
    except StoreError as err:
        return fail(str(err), 2)
    except KeyboardInterrupt:
        return fail("interrupted", 130, newline=True)
    except BrokenPipeError:
        # The reader left (`| head -1`): send what is still buffered nowhere, and stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        return fail(f"{err.filename or ''} {err.strerror}; check the path and permissions".strip(), 2)


def cli(words: list[str]) -> int:
    """Parse and run one command line with the process's terminal."""
    from backlog.cli.commands import Terminal, run
    from backlog.cli.grammar import parse

    from backlog.cli.look import use_color

    if words[:1] == ["_complete"]:  # the completion scripts' helper: any word, even `--li`, is the one typed
        from backlog.cli.commands import complete
        return complete(words[1:], dict(os.environ), print)
    invocation = parse(words)
    stdin_tty = sys.stdin is not None and sys.stdin.isatty()
    stdout_tty = sys.stdout.isatty()
    width = None
    if stdout_tty:
        import shutil
        width = shutil.get_terminal_size((120, 20)).columns
    env = dict(os.environ)
    term = Terminal(env=env, out=print, warn=lambda line: print(line, file=sys.stderr),
                    ask=ask if stdin_tty else None, width=width,
                    color=use_color(invocation.options.get("color"), env, stdout_tty))
    return run(invocation, term)


def ask(prompt: str) -> str:
    """The user's answer to `prompt` (shown on stderr, so piped stdout stays clean); '' at end of input."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline()


def fail(message: str, code: int, newline: bool = False) -> int:
    """Print `backlog: message` as one line on stderr (never raising) and return `code`."""
    try:
        print(("\n" if newline else "") + f"backlog: {message}", file=sys.stderr)
    except OSError:
        pass
    return code
