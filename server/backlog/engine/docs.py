"""The markdown doc of a task: read, write, delete (its tag `doc` follows)."""

from __future__ import annotations

from backlog.errors import Action, BacklogError
from backlog.core.model import check_text, format_utc, sync_doc_tag
from backlog.engine.scope import Scope


MAX_DOC_BYTES = 1 << 20


def doc_read(scope: Scope, id: object) -> dict:
    scope.store.refresh()
    task = scope.resolve(id)
    content = scope.store.doc(task["uuid"])
    if content is None:
        raise BacklogError("id", f"task {task['id']} has no doc", ("write one with ", Action("doc_write")))
    return {"content": content}


def doc_write(scope: Scope, id: object, content: str) -> dict:
    if not isinstance(content, str) or not content.strip():
        raise BacklogError("content", "is empty", ("pass the markdown to attach; ", Action("doc_delete"), " removes a doc"))
    size = len(check_text(content, "content").encode())
    if size > MAX_DOC_BYTES:
        raise BacklogError("content", f"is {size} bytes, the limit is {MAX_DOC_BYTES} (1 MiB)", "shorten it or split it over tasks")
    now = scope.clock()
    with scope.transaction("doc_write", now) as tx:
        task = scope.resolve(id)
        tx.write_doc(task["uuid"], content)
        new = sync_doc_tag({**task, "has_doc": True, "modified": format_utc(now)})
        tx.put(new)
    return scope.answer(f"wrote the doc of task {task['id']} ({size} bytes)", new, now)


def doc_delete(scope: Scope, id: object) -> dict:
    now = scope.clock()
    with scope.transaction("doc_delete", now) as tx:
        task = scope.resolve(id)
        if not tx.doc_digest(task["uuid"]):
            raise BacklogError("id", f"task {task['id']} has no doc", "nothing to delete")
        tx.delete_doc(task["uuid"])
        new = sync_doc_tag({**{k: v for k, v in task.items() if k != "has_doc"}, "modified": format_utc(now)})
        tx.put(new)
    return scope.answer(f"deleted the doc of task {task['id']}", new, now)
