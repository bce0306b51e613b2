"""`Pattern`: a regular expression compiled on first use.

A module-level `re.compile` runs in every process that imports the module (~0.2–0.4 ms each
here): core.dates alone held 13, which a `backlog list` or `info` never uses.
"""

from __future__ import annotations

import re

_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "pattern")


class Pattern:
    """Stands for `re.compile(pattern, flags)`: the first use compiles it and binds its methods
    to the instance, so later calls cost what a compiled pattern's do."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        compiled = re.compile(*self._source)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)
