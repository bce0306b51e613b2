"""`Pattern`: a regular expression compiled on first use.

A module-level `re.compile` runs in every process that imports the module (~0.2–0.4 ms each
here): core.dates alone held 13, which a `backlog list` or `info` never uses. `re` itself is
imported on the first use (with `enum`, ~5 ms: a hook that matches nothing never loads it);
flags are passed by name (`"IGNORECASE"`).
"""

from __future__ import annotations

_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "pattern")


class Pattern:
    """Stands for `re.compile(pattern, flags)`: the first use compiles it and binds its methods
    to the instance, so later calls cost what a compiled pattern's do."""

    def __init__(self, pattern: str | bytes, *flags: str) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        import re

        pattern, flags = self._source
        compiled = re.compile(pattern, sum(getattr(re, flag) for flag in flags))
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)
