"""The engine facade every surface calls: one method per use case (SPEC §4).

`Backlog` is built by an entry point (`backlog.runtime.open_backlog`) with the store, the
time zone, a clock and who is writing; every method takes plain parameters and returns the
result object of SPEC §4, or raises BacklogError (bad input, refused operation) / StoreError
(the store itself). The use cases live in modules by area as functions of a `Scope`; this
class only names them (modules whose names the methods take are imported under other names).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable

from backlog.engine.scope import Scope
from backlog.errors import Conflict, StoreError

CONFLICT_WAIT_S = 60  # how long one use case keeps losing races before it gives up (optimistic backends)


class UseCase:
    """A method of Backlog: function `name` of area module `area`, imported on first use, then
    set on the class in its place (wrapped by `rerun_on_conflict`)."""

    def __init__(self, area: str, name: str) -> None:
        self.area, self.name = area, name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.owner, self.attr = owner, attr

    def __get__(self, obj: object, owner: type | None = None) -> Callable:
        module = f"backlog.engine.{self.area}"
        __import__(module)  # (importlib.import_module, without importing importlib)
        function = rerun_on_conflict(getattr(sys.modules[module], self.name))
        setattr(self.owner, self.attr, function)
        return function if obj is None else function.__get__(obj, owner)


class Backlog(Scope):
    """The use cases of one backlog, as methods."""

    list = UseCase("queries", "list_tasks")
    count = UseCase("queries", "count")
    info = UseCase("queries", "info")
    projects = UseCase("queries", "projects")
    tags = UseCase("queries", "tags")
    search = UseCase("search", "search")
    history = UseCase("history", "history")
    activity = UseCase("history", "activity")
    undo = UseCase("history", "undo")
    add = UseCase("tasks", "add")
    log = UseCase("tasks", "log")
    duplicate = UseCase("tasks", "duplicate")
    modify = UseCase("tasks", "modify")
    done = UseCase("tasks", "done")
    delete = UseCase("tasks", "delete")
    start = UseCase("tasks", "start")
    stop = UseCase("tasks", "stop")
    annotate = UseCase("tasks", "annotate")
    denotate = UseCase("tasks", "denotate")
    purge = UseCase("tasks", "purge")
    claim = UseCase("claims", "claim")
    assign = UseCase("claims", "assign")
    release = UseCase("claims", "release")
    release_session = UseCase("claims", "release_session")
    release_task = UseCase("claims", "release_task")
    release_writer = UseCase("claims", "release_writer")
    renew_leases = UseCase("claims", "renew_leases")
    complete_external = UseCase("claims", "complete_external")
    doc_read = UseCase("docs", "doc_read")
    doc_write = UseCase("docs", "doc_write")
    doc_delete = UseCase("docs", "doc_delete")
    import_tasks = UseCase("exchange", "import_tasks")
    export = UseCase("exchange", "export")
    archive = UseCase("archive", "archive")
    archive_list = UseCase("archive", "archive_list")
    archive_load = UseCase("archive", "archive_load")


def import_all() -> None:
    """Bind every use case now: a long-lived server imports the areas while its store opens,
    so its first call does not pay them."""
    for name, value in list(vars(Backlog).items()):
        if isinstance(value, UseCase):
            getattr(Backlog, name)


def rerun_on_conflict(use_case: Callable) -> Callable:
    """`use_case`, run again on the new state each time another writer took its commit's sequence.

    Only an optimistic backend (S3) raises Conflict. Between runs it waits a random time that
    doubles up to 0.25 s (so racers spread out); after CONFLICT_WAIT_S of lost races, StoreError.
    """
    @functools.wraps(use_case)
    def run(self: Backlog, *args: object, **kwargs: object) -> object:
        deadline, attempt = time.monotonic() + CONFLICT_WAIT_S, 0
        while True:
            try:
                return use_case(self, *args, **kwargs)
            except Conflict:
                if time.monotonic() > deadline:
                    raise StoreError(f"{self.store.backend.root}: other writers kept committing first for "
                                     f"{CONFLICT_WAIT_S}s; nothing was saved, retry") from None
                import random  # only after a lost race (S3): other processes never import it

                attempt += 1
                time.sleep(random.uniform(0, min(0.25, 0.004 * 2 ** attempt)))
    return run

