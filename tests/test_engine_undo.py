"""For any sequence of use cases (add, modify, done with recurrence, docs, archive, purge,
import, claim …), undoing them all restores every task, doc and archive segment exactly."""

from __future__ import annotations

import itertools
from datetime import timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from backlog.engine.backlog import Backlog
from backlog.errors import BacklogError
from backlog.store.store import Store
from tests.conftest import NOW
from tests.test_store_undo import state

ids = st.integers(min_value=1, max_value=6).map(str)
use_case = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["a", "b c"]), st.sampled_from([{}, {"project": "web", "tags": "x,y"},
                                                                              {"priority": "H", "due": "friday"},
                                                                              {"recur": "weekly", "due": "2026-11-20"}])),
    st.tuples(st.just("modify"), ids, st.sampled_from([{"priority": "L"}, {"tags": "+z,-x"}, {"project": ""}])),
    st.tuples(st.just("done"), ids), st.tuples(st.just("delete"), ids), st.tuples(st.just("purge"), ids),
    st.tuples(st.just("start"), ids), st.tuples(st.just("stop"), ids),
    st.tuples(st.just("annotate"), ids, st.just("note")),
    st.tuples(st.just("doc_write"), ids, st.sampled_from(["# one", "two"])), st.tuples(st.just("doc_delete"), ids),
    st.tuples(st.just("archive"), st.just(0)),
    st.tuples(st.just("claim"), st.sampled_from(["me", "you"])),
    st.tuples(st.just("import_tasks"), st.just('[{"description": "imported", "status": "completed"}]')),
)


def run(backlog: Backlog, case: tuple) -> bool:
    """Apply one use case; False when the engine refused it (nothing was written)."""
    name, *args = case
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    try:
        getattr(backlog, name)(*args, **kwargs)
    except BacklogError:
        return False
    return True


@pytest.mark.parametrize("compact_every", [1000, 3], ids=["no-compaction", "compact-every-3"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(use_case, min_size=1, max_size=15))
def test_undoing_every_use_case_restores_each_earlier_state(tmp_path_factory, compact_every, cases):
    root = tmp_path_factory.mktemp("data")
    ticks = itertools.count()
    clock = lambda: NOW + timedelta(hours=next(ticks))  # noqa: E731 - every call is an hour later
    backlog = Backlog(Store.open(root, compact_every=compact_every), tz=timezone.utc, clock=clock)
    states = [state(root)]
    for case in cases:
        seq = backlog.store.seq
        if run(backlog, case) and backlog.store.seq != seq:
            states.append(state(root))
    event(f"{len(states) - 1} committed use cases")
    if any(state["segments"] for state in states):
        event("archived something")
    for expected in reversed(states[:-1]):
        backlog.undo()
        assert state(root) == expected
    with pytest.raises(BacklogError):
        backlog.undo()
