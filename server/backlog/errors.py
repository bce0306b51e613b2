"""The kinds of failure every entry point reports as one line."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

# (a namedtuple, not typing.NamedTuple: importing typing costs every CLI and hook process)
Action = namedtuple("Action", "name args", defaults=({},))
Action.__doc__ = """A use case a fix points to, with its arguments (`name`: the MCP tool's name
without `task_`; `args`: str → str); each surface spells it its own way:
`Action("list", {"filter": "+READY"})` is `task_list filter '+READY'` over MCP and
`backlog list +READY` on the CLI."""

Fix = str | tuple[str | Action, ...]  # plain text, or text and actions in order


def spell_tool(action: Action) -> str:
    """An action as an MCP tool call: `task_list filter '+READY'`."""
    return " ".join([f"task_{action.name}", *(f"{key} '{value}'" for key, value in action.args.items())])


class BacklogError(Exception):
    """Bad input or a refused operation: `<param>: <what was wrong>; <fix>`."""

    def __init__(self, param: str, problem: str, fix: Fix = "") -> None:
        self.param, self.problem, self.fix = param, problem, fix
        super().__init__(self.line())

    def line(self, spell: Callable[[Action], str] = spell_tool) -> str:
        """The one line, with each action of the fix spelled by `spell` (MCP tool names by default)."""
        fix = self.fix if isinstance(self.fix, str) else "".join(
            part if isinstance(part, str) else spell(part) for part in self.fix)
        return f"{self.param}: {self.problem}; {fix}" if fix else f"{self.param}: {self.problem}"


class StoreError(Exception):
    """The store cannot be read or written: names the file and the way back."""


class FormatError(StoreError):
    """The store was written by a newer format than this code reads: not damage, never repaired."""


class Conflict(Exception):
    """Another writer committed the sequence number this append wanted (optimistic backends only).

    Nothing was written; the store catches up and the caller runs its use case again.
    """
