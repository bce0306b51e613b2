"""The filter language's parser, printed AST, error lines and status rule (SPEC §4, §6)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backlog.errors import BacklogError
from backlog.core.filter import compile_filter, parse_filter
from backlog.store.view import Context

NOW = datetime(2026, 11, 24, 10, 14, 53, tzinfo=timezone.utc)
UTC = timezone.utc


@pytest.mark.parametrize("text, printed", [
    ("", "(all)"),  # empty filter
    ("   ", "(all)"),  # blank filter
    ("+bug", "(tag + bug)"),  # tag
    ("-bug", "(tag - bug)"),  # no tag
    ("+area:api", "(tag + area:api)"),  # tags may hold ':'
    ("+OVERDUE", "(virtual + OVERDUE)"),  # virtual tag
    ("-WAITING", "(virtual - WAITING)"),  # negated virtual tag
    ("+overdue", "(tag + overdue)"),  # lower case is an ordinary tag
    ("+API", "(tag + API)"),  # upper case, not near a virtual tag: ordinary
    ("project:web", "(attr project 'web')"),  # attribute, no modifier
    ("project:", "(attr project '')"),  # empty value (means none)
    ("due.before:eow", "(attr due before 'eow')"),  # modifier
    ("due.below:eow", "(attr due before 'eow')"),  # synonym below
    ("due.under:eow", "(attr due before 'eow')"),  # synonym under
    ("due.above:eow", "(attr due after 'eow')"),  # synonym above
    ("due.over:eow", "(attr due after 'eow')"),  # synonym over
    ("due.by:eow", "(attr due by 'eow')"),  # by
    ("project.equals:web", "(attr project is 'web')"),  # synonym equals
    ("project.isnt:web", "(attr project isnt 'web')"),  # isnt
    ("project.not:web", "(attr project not 'web')"),  # not
    ("description.contains:x", "(attr description has 'x')"),  # synonym contains
    ("description.hasnt:x", "(attr description hasnt 'x')"),  # hasnt
    ("description.left:x", "(attr description startswith 'x')"),  # synonym left
    ("description.right:x", "(attr description endswith 'x')"),  # synonym right
    ("description.word:x", "(attr description word 'x')"),  # word
    ("description.noword:x", "(attr description noword 'x')"),  # noword
    ("due.none:", "(attr due none '')"),  # none
    ("due.any:", "(attr due any '')"),  # any
    ("auth", "(word 'auth')"),  # bare word
    ('"two words"', "(word 'two words')"),  # quoted string
    ("'single quotes'", "(word 'single quotes')"),  # single quotes too
    ('"project:web"', "(word 'project:web')"),  # a quoted token is always text
    ('description.has:"a b"', "(attr description has 'a b')"),  # quoted value
    ('description.has:"(x)"', "(attr description has '(x)')"),  # parentheses inside quotes
    ("don't", "(word \"don't\")"),  # an apostrophe inside a word is not a quote
    ("3", "(ids 3)"),  # id
    ("3,7", "(ids 3 7)"),  # id list
    ("3-7", "(ids 3-7)"),  # id range
    ("1,3-5", "(ids 1 3-5)"),  # mixed list
    ("1234567", "(ids 1234567)"),  # 7 digits: still an id
    ("12345678", "(ids uuid:12345678)"),  # 8 hex digits: uuid prefix
    ("deadbeef", "(ids uuid:deadbeef)"),  # hex letters: uuid prefix
    ("deadbeef-12", "(ids uuid:deadbeef-12)"),  # longer prefix
    ("3,deadbeef", "(ids 3 uuid:deadbeef)"),  # id and uuid in one list
    ("deadbee", "(word 'deadbee')"),  # 7 hex digits: a word
    ("2026-11-24", "(word '2026-11-24')"),  # not uuid-shaped: a word
    ("3 7", "(ids 3 7)"),  # juxtaposed ids form one set (Taskwarrior)
    ("3 +bug 7", "(and (ids 3 7) (tag + bug))"),  # ids merge across an and chain
    ("a b c", "(and (word 'a') (word 'b') (word 'c'))"),  # juxtaposition is and
    ("a and b", "(and (word 'a') (word 'b'))"),  # explicit and
    ("a or b and c", "(or (word 'a') (and (word 'b') (word 'c')))"),  # and binds tighter than or
    ("a xor b or c", "(or (xor (word 'a') (word 'b')) (word 'c'))"),  # xor tighter than or
    ("a or b xor c", "(or (word 'a') (xor (word 'b') (word 'c')))"),  # xor tighter than or
    ("a and b xor c d", "(xor (and (word 'a') (word 'b')) (and (word 'c') (word 'd')))"),  # and tighter than xor
    ("a xor b xor c", "(xor (xor (word 'a') (word 'b')) (word 'c'))"),  # xor is left-associative
    ("not a b", "(and (not (word 'a')) (word 'b'))"),  # not binds tightest
    ("not not a", "(not (not (word 'a')))"),  # not repeats
    ("!a", "(not (word 'a'))"),  # ! glued
    ("! +bug", "(not (tag + bug))"),  # ! spaced
    ("!(a or b)", "(not (or (word 'a') (word 'b')))"),  # ! before a group
    ("a OR b", "(or (word 'a') (word 'b'))"),  # operators are case-insensitive
    ('"or"', "(word 'or')"),  # quoted operator is a word
    ("( a or b ) c", "(and (or (word 'a') (word 'b')) (word 'c'))"),  # spaced parentheses
    ("(a or b)c", "(and (or (word 'a') (word 'b')) (word 'c'))"),  # glued parentheses
    ("((a))", "(word 'a')"),  # nested parentheses
    ("(+OVERDUE or +ACTIVE) auth project:web",
     "(and (or (virtual + OVERDUE) (virtual + ACTIVE)) (word 'auth') (attr project 'web'))"),  # mixes freely
    ("pro:web", "(attr project 'web')"),  # attribute abbreviation
    ("pri:H", "(attr priority 'H')"),  # attribute abbreviation
    ("desc.has:x", "(attr description has 'x')"),  # attribute abbreviation with modifier
    ("urg.over:5", "(attr urgency after '5')"),  # abbreviated attribute, exact modifier
    ("du:today", "(attr due 'today')"),  # two letters are enough
    ("stat:pending", "(attr status 'pending')"),
    ("DUE.BEFORE:eow", "(attr due before 'eow')"),  # names are case-insensitive
    ("doc:yes", "(attr has_doc 'yes')"),  # doc = has_doc
    ("due.before:next week", "(attr due before 'next week')"),  # a date takes the next word
    ("due:in 3 days fix", "(and (attr due 'in 3 days') (word 'fix'))"),  # ... up to two
    ("due:today fix", "(and (attr due 'today') (word 'fix'))"),  # not when it reads alone
])
def test_parse_prints_the_tree(text, printed):
    assert str(parse_filter(text)) == printed


@pytest.mark.parametrize("text, message", [
    ("(+bug", "filter: unmatched '(' at 1; close it with ')'"),
    ("+bug )", "filter: unmatched ')' at 6; remove it or open it with '('"),
    ("( a ( b )", "filter: unmatched '(' at 1; close it with ')'"),
    ("()", "filter: empty '()' at 1; put a term inside or remove the parentheses"),
    ('say "hi', "filter: unmatched '\"' at 5; close the quote with '\"'"),
    ("+bug or", "filter: 'or' at 6 needs a term after it; add one or remove 'or'"),
    ("and +bug", "filter: 'and' at 1 needs a term before it; add one or remove 'and'"),
    ("a or or b", "filter: 'or' at 3 needs a term after it; add one or remove 'or'"),
    ("not", "filter: 'not' at 1 needs a term after it; add one or remove 'not'"),
    ("due.befre:friday", "filter: unknown modifier 'befre' in 'due.befre:friday' at 1; did you mean 'before'?"),
    ("due.befor:friday", "filter: unknown modifier 'befor' in 'due.befor:friday' at 1; did you mean 'before'?"),  # modifiers are never abbreviated
    ("due.no:", "filter: unknown modifier 'no' in 'due.no:' at 1; did you mean 'not'?"),  # no prefixes for modifiers
    ("st:x", "filter: ambiguous attribute 'st' in 'st:x' at 1; use 'start' or 'status'"),
    ("pr:H", "filter: ambiguous attribute 'pr' in 'pr:H' at 1; use 'priority' or 'project'"),
    ("w:x", "filter: attribute 'w' in 'w:x' at 1 is too short to abbreviate; use 'wait'"),
    ("+bug dscription:x", "filter: unknown attribute 'dscription' in 'dscription:x' at 6; did you mean "
     "'description'? attributes: agent, annotations, depends, description, doc, due, end, entry, has_doc, id, "
     "modified, origin, parent, priority, project, recur, scheduled, start, status, tags, until, urgency, uuid, wait"),
    ("zzz:1", "filter: unknown attribute 'zzz' in 'zzz:1' at 1; use one of agent, annotations, depends, "
     "description, doc, due, end, entry, has_doc, id, modified, origin, parent, priority, project, recur, scheduled, "
     "start, status, tags, until, urgency, uuid, wait, or quote it (\"zzz:1\") to search for the text"),
    ("+BLOKED", "filter: unknown virtual tag '+BLOKED' at 1; did you mean '+BLOCKED'?"),
    ("+bad!tag", "filter: '+bad!tag' at 1 is not a valid tag; tags use letters, digits and '_', '.', ':', '-'"),
    ("urgency < 5", "filter: operator '<' at 9 is not supported; use attribute modifiers, e.g. 'due.before:eow'"),
    ("7-3", "filter: range '7-3' at 1 runs backwards; write '3-7'"),
    ('a ""', "filter: empty quotes at 3; put the text to search for inside them or remove them"),
])
def test_parse_errors_name_token_position_and_fix(text, message):
    with pytest.raises(BacklogError) as raised:
        parse_filter(text)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("text, message", [
    ('due.before:"nxt week"', "filter: cannot read date 'nxt week' in 'due.before:\"nxt week\"' at 1; "
     "try 'next week', 'in 2 weeks' or 'tomorrow'"),
    ("+bug due:3", "filter: cannot read date '3' in 'due:3' at 6 (a number alone is not a date); "
     "try '+3d', '+3w' or '3rd'"),
    ("due.before:2026-02-30", "filter: cannot read date '2026-02-30' in 'due.before:2026-02-30' at 1 "
     "(February 2026 has 28 days); try '2026-02-28', '2026-02-01' or 'eom'"),
    ("entry.after:3m", "filter: cannot read date '3m' in 'entry.after:3m' at 1 ('m' could be minutes or months); "
     "try '+3min', '+3mo' or '+3w'"),
    ("priority:X", "filter: 'X' is not a priority in 'priority:X' at 1; use H, M or L, or 'priority:' for none"),
    ("status:pendign", "filter: 'pendign' is not a status in 'status:pendign' at 1; did you mean 'pending'? "
     "use one of pending, completed, deleted, recurring, waiting"),
    ("has_doc:maybe", "filter: 'maybe' is not yes or no in 'has_doc:maybe' at 1; "
     "use has_doc:yes or has_doc:no (true/false, 1/0)"),
    ("id.after:x", "filter: 'x' is not a number in 'id.after:x' at 1; use a number, e.g. 'id.after:12'"),
    ("urgency.over:high", "filter: 'high' is not a number in 'urgency.over:high' at 1; "
     "use a number, e.g. 'urgency.after:5.5'"),
    ("due.has:x", "filter: modifier 'has' does not apply to 'due' in 'due.has:x' at 1; "
     "use no modifier or one of is, not, isnt, before, after, by, none, any"),
    ("tags.before:x", "filter: modifier 'before' does not apply to 'tags' in 'tags.before:x' at 1; "
     "use no modifier or one of is, not, isnt, has, startswith, endswith, word, hasnt, noword, none, any"),
    ("depends:xyz", "filter: 'xyz' is not a task id or uuid in 'depends:xyz' at 1; "
     "name the task by id (3) or uuid (8+ hex digits)"),
    ("description.has:", "filter: needs a value in 'description.has:' at 1; "
     "give one, e.g. 'description.has:x', or use 'description.none:'"),
])
def test_compile_errors_name_token_position_and_fix(text, message):
    with pytest.raises(BacklogError) as raised:
        compile_filter(text, NOW, UTC)
    assert str(raised.value) == message


@pytest.mark.parametrize("text, printed", [
    ("", "(and (attr status 'pending') (virtual - WAITING))"),  # empty: pending, not waiting
    ("  ", "(and (attr status 'pending') (virtual - WAITING))"),  # blank too
    ("+bug", "(and (attr status 'pending') (tag + bug))"),  # names no status
    ("+bug +ui", "(and (attr status 'pending') (tag + bug) (tag + ui))"),  # flattened
    ("+bug or +ui", "(and (attr status 'pending') (or (tag + bug) (tag + ui)))"),  # or kept whole
    ("status:completed", "(attr status 'completed')"),  # names a status
    ("status.not:pending", "(attr status not 'pending')"),  # any status term
    ("+COMPLETED", "(virtual + COMPLETED)"),
    ("+DELETED", "(virtual + DELETED)"),
    ("+RECURRING", "(virtual + RECURRING)"),
    ("+PENDING", "(virtual + PENDING)"),
    ("+WAITING", "(virtual + WAITING)"),
    ("-WAITING", "(virtual - WAITING)"),  # negations name a status too
    ("+TEMPLATE", "(virtual + TEMPLATE)"),  # templates are status recurring
    ("+bug or +DELETED", "(or (tag + bug) (virtual + DELETED))"),  # anywhere in the tree
    ("3", "(ids 3)"),  # ids: every status
    ("deadbeef", "(ids uuid:deadbeef)"),  # uuid prefix: every status
    ("uuid:deadbeef", "(attr uuid 'deadbeef')"),  # uuid attribute too
    ("id:3", "(attr id '3')"),  # id attribute too
    ("id.after:3", "(and (attr status 'pending') (attr id after '3'))"),  # not an id lookup
    ("not 3", "(and (attr status 'pending') (not (ids 3)))"),  # excluding a task picks none
    ("+bug or 3", "(or (tag + bug) (ids 3))"),  # an id anywhere else counts
])
def test_default_status_rule(text, printed):
    assert str(compile_filter(text, NOW, UTC)) == printed


def test_default_status_off_leaves_the_filter_alone():
    assert str(compile_filter("", NOW, UTC, default_status=False)) == "(all)"
    assert str(compile_filter("+bug", NOW, UTC, default_status=False)) == "(tag + bug)"


@pytest.mark.parametrize("text, empty, status, ids", [
    ("", True, False, False),
    ("+bug", False, False, False),
    ("status:deleted +bug", False, True, False),
    ("3 +bug", False, False, True),
])
def test_filter_reports_what_it_names(text, empty, status, ids):
    compiled = compile_filter(text, NOW, UTC)
    assert (compiled.is_empty, compiled.names_status, compiled.names_ids) == (empty, status, ids)


def test_user_text_never_enters_generated_source():
    sneaky = "'); import os; ('"
    compiled = compile_filter(f'"{sneaky}" project:"{sneaky}" +x', NOW, UTC)
    assert sneaky not in compiled.source and "import" not in compiled.source
    tasks = {"u1": {"uuid": "u1", "id": 1, "status": "pending", "description": f"a {sneaky} b"}}
    assert compiled.select(Context(tasks, NOW, UTC)) == []


def test_matches_runs_the_same_predicate_as_select():
    tasks = {
        f"u{i}": {"uuid": f"u{i}", "id": i, "status": "pending" if i % 3 else "completed",
                  "description": f"task {i}", **({"tags": ["bug"]} if i % 2 else {})}
        for i in range(1, 20)
    }
    ctx = Context(tasks, NOW, UTC)
    for text in ("+bug", "not +bug or 3-5", "task 1", "+COMPLETED xor +bug", ""):
        compiled = compile_filter(text, NOW, UTC)
        assert [t for t in tasks.values() if compiled.matches(t, ctx)] == compiled.select(ctx), text


def test_compiling_resolves_dates_once():
    compiled = compile_filter("due.before:tomorrow", NOW, UTC)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    tasks = {"u": {"uuid": "u", "id": 1, "status": "pending", "description": "d", "due": "2026-11-24T20:00:00Z"}}
    assert compiled.select(Context(tasks, later, UTC)) == [tasks["u"]]
