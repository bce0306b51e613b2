"""The engine facade every surface calls: one method per use case (SPEC §4).

`Backlog` is built by an entry point (`backlog.runtime.open_backlog`) with the store, the
time zone, a clock and who is writing; every method takes plain parameters and returns the
result object of SPEC §4, or raises BacklogError (bad input, refused operation) / StoreError
(the store itself). The use cases live in modules by area as functions of a `Scope`; this
class only names them (modules whose names the methods take are imported under other names).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from backlog.engine import archive as archiving, claims, docs, exchange, history as changes, queries, search as searching, tasks
from backlog.engine.scope import Scope
from backlog.errors import Conflict, StoreError

CONFLICT_WAIT_S = 60  # how long one use case keeps losing races before it gives up (optimistic backends)


class Backlog(Scope):
    """The use cases of one backlog, as methods."""

    list = queries.list_tasks
    count = queries.count
    info = queries.info
    projects = queries.projects
    tags = queries.tags
    search = searching.search
    history = changes.history
    activity = changes.activity
    undo = changes.undo
    add = tasks.add
    log = tasks.log
    duplicate = tasks.duplicate
    modify = tasks.modify
    done = tasks.done
    delete = tasks.delete
    start = tasks.start
    stop = tasks.stop
    annotate = tasks.annotate
    denotate = tasks.denotate
    purge = tasks.purge
    claim = claims.claim
    assign = claims.assign
    release = claims.release
    release_session = claims.release_session
    release_task = claims.release_task
    release_writer = claims.release_writer
    renew_leases = claims.renew_leases
    complete_external = claims.complete_external
    doc_read = docs.doc_read
    doc_write = docs.doc_write
    doc_delete = docs.doc_delete
    import_tasks = exchange.import_tasks
    export = exchange.export
    archive = archiving.archive
    archive_list = archiving.archive_list
    archive_load = archiving.archive_load


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


for _name, _use_case in list(vars(Backlog).items()):
    if not _name.startswith("_") and callable(_use_case):
        setattr(Backlog, _name, rerun_on_conflict(_use_case))
del _name, _use_case
