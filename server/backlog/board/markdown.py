"""Docs as safe HTML: markdown-it-py (raw HTML off) and then nh3 (Ammonia) strips anything active."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def render(text: str) -> str:
    """The markdown `text` as HTML with no script, event handler, style or javascript: URL left."""
    return nh3.clean(_parser().render(text), url_schemes={"http", "https", "mailto"})
