"""Ranked full-text search over tasks (SPEC §4 task_search): BM25, words OR-ranked.

`rank` is pure: documents in, `(index, score)` out. A task's document is its description
(counted twice, so a word in the title outweighs the same word in a long note), its
annotations and its doc body. Words are runs of letters and digits, compared
case-insensitively; a task matches when it contains any query word.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from backlog.engine import render
from backlog.errors import BacklogError

from backlog.engine.scope import Scope

K1, B = 1.2, 0.75
DEFAULT_LIMIT = 10
SNIPPET_CHARS = 80
DESCRIPTION_WEIGHT = 2
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lower-cased words of `text`."""
    return _WORD.findall(text.lower())


def rank(query: Sequence[str], documents: Sequence[Counter]) -> list[tuple[int, float]]:
    """BM25 scores of the documents (term counts) containing any query word, best first.

    Ties keep document order. Each distinct query word counts once.
    """
    terms = list(dict.fromkeys(query))
    if not documents or not terms:
        return []
    lengths = [sum(doc.values()) for doc in documents]
    average = sum(lengths) / len(documents) or 1.0
    idf = {}
    for term in terms:
        having = sum(1 for doc in documents if term in doc)
        idf[term] = math.log(1 + (len(documents) - having + 0.5) / (having + 0.5))
    scored = []
    for index, doc in enumerate(documents):
        score = 0.0
        for term in terms:
            tf = doc.get(term)
            if tf:
                norm = K1 * (1 - B + B * lengths[index] / average)
                score += idf[term] * tf * (K1 + 1) / (tf + norm)
        if score > 0:
            scored.append((index, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored


def snippet(texts: Sequence[str], query: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """≤ `width` chars of the first text containing a query word, around its first hit."""
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(q) for q in sorted(set(query), key=len, reverse=True)) + r")\b")
    for text in texts:
        flat = " ".join(text.split())
        hit = pattern.search(flat.lower())
        if hit is None:
            continue
        if len(flat) <= width:
            return flat
        begin = max(0, min(hit.start() - width // 3, len(flat) - width + 1))
        if begin > 0:  # start at a word, after a leading "…"
            space = flat.find(" ", begin, min(hit.start(), begin + 20))
            begin = space + 1 if space != -1 else begin
        end = begin + width - (begin > 0)
        if end < len(flat):  # stop at a word, before a trailing "…"
            space = flat.rfind(" ", max(hit.end(), end - 20), end)
            end = space if space != -1 else end - 1
        return ("…" if begin > 0 else "") + flat[begin:end].strip() + ("…" if end < len(flat) else "")
    return ""


def search(scope: Scope, query: str, limit: int | None = DEFAULT_LIMIT) -> dict:
    """Hot tasks of any status ranked by BM25 for `query`: compact rows plus score and snippet."""
    if not isinstance(query, str) or not query.strip():
        raise BacklogError("query", "is empty", "give words to look for, e.g. 'login redirect'")
    terms = words(query)
    if not terms:
        raise BacklogError("query", f"'{query}' has no words", "use letters or digits, e.g. 'login redirect'")
    if limit is None:
        limit = DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BacklogError("limit", f"'{limit}' is not a count", "use a whole number ≥ 1, or 0 for all")
    ctx = scope.context()
    tasks = sorted(ctx.tasks.values(), key=lambda t: t["id"])
    texts = []
    for task in tasks:
        doc = scope.store.doc(task["uuid"]) if task.get("has_doc") else None
        texts.append([task["description"], *(n["description"] for n in task.get("annotations", ())),
                      *([doc] if doc else [])])
    documents = []
    for parts in texts:
        counts = Counter(words(parts[0]) * DESCRIPTION_WEIGHT)
        for part in parts[1:]:
            counts.update(words(part))
        documents.append(counts)
    found = rank(terms, documents)
    chosen = found[:limit or None]
    results = render.rows([tasks[index] for index, _ in chosen], ctx)
    for row, (index, score) in zip(results, chosen):
        row["score"] = round(score, 2)
        row["snippet"] = snippet(texts[index], terms)
    return {"results": results}
