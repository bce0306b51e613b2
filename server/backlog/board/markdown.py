"""Docs, descriptions and annotations as safe HTML: markdown-it-py (raw HTML off), then nh3 (Ammonia) strips anything active."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt


SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


@lru_cache(maxsize=1)
def _inline_parser() -> MarkdownIt:
    """Inline markdown without links or images: the text sits inside a link to its task."""
    return MarkdownIt("commonmark", {"html": False}).enable("strikethrough").disable(["link", "image", "autolink"])


def render(text: str) -> str:
    """The markdown `text` as HTML with no script, event handler, style or javascript: URL left."""
    return nh3.clean(_parser().render(text), url_schemes=SCHEMES)


@lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """One line of markdown (a description, an annotation) as safe inline HTML: emphasis, code, strike."""
    return nh3.clean(_inline_parser().renderInline(text), url_schemes=SCHEMES)
