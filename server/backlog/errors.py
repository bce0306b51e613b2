"""The kinds of failure every entry point reports as one line."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from typing import TypeAlias


class Action(namedtuple("Action", ("name", "args"), defaults=({},))):  # not typing.NamedTuple: hooks skip typing
    """A use case a fix points to, with its arguments; each surface spells it its own way:
    `Action("list", {"filter": "+READY"})` is `task_list filter '+READY'` over MCP and
    `backlog list +READY` on the CLI. `name` is the MCP tool's name without `task_`;
    `args` a dict of str to str."""

    __slots__ = ()
    name: str
    args: dict[str, str]


Fix: TypeAlias = "str | tuple[str | Action, ...]"  # plain text, or text and actions in order


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
