"""The engine facade every surface calls: one method per use case (SPEC §4).

`Backlog` is built by an entry point (`backlog.runtime.open_backlog`) with the store, the
time zone, a clock and who is writing; every method takes plain parameters and returns the
result object of SPEC §4, or raises BacklogError (bad input, refused operation) / StoreError
(the store itself). The use cases live in modules by area as functions of a `Scope`; this
class only names them (modules whose names the methods take are imported under other names).
"""

from __future__ import annotations

from backlog.engine import archive as archiving, claims, docs, exchange, history as changes, queries, search as searching, tasks
from backlog.engine.scope import Scope


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
