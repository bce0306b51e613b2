"""The kinds of failure every entry point reports as one line."""

from __future__ import annotations


class BacklogError(Exception):
    """Bad input or a refused operation: `<param>: <what was wrong>; <fix>`."""

    def __init__(self, param: str, problem: str, fix: str = "") -> None:
        self.param, self.problem, self.fix = param, problem, fix
        super().__init__(f"{param}: {problem}; {fix}" if fix else f"{param}: {problem}")


class StoreError(Exception):
    """The store cannot be read or written: names the file and the way back."""


class FormatError(StoreError):
    """The store was written by a newer format than this code reads: not damage, never repaired."""
