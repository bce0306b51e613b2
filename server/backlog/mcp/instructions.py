"""The MCP server's `instructions`: what a model reads about backlog before any tool description.

Claude Code shows each server's instructions to the model up front (with tool search on, next to
nothing but the tool names) and cuts them at 2 KB, so they stay under 2,000 chars (a test pins it).
"""

INSTRUCTIONS = """\
backlog is this project's persistent task list: tasks, notes and spec docs kept on disk, shared \
by every session, subagent and teammate, and kept across restarts, /clear and compaction. Use it \
instead of a list in your context (or a TODO file) when work has more than a few steps, spans \
sessions or agents, or should outlive this conversation: plan into it, claim a task before \
working on it, note progress, mark it done.

The calls that matter most:
- task_list(filter, sort, limit): pending tasks, most urgent first; filter='+READY' is what can start now.
- task_add(description, project, tags, priority=H|M|L, due, depends): one line per task; put the \
details in task_doc_write(id, content).
- task_claim(agent, id): start a task as yours; without id, the most urgent ready one no agent holds.
- task_annotate(id, text): record progress, findings, hand-off notes.
- task_done(id): complete it; tasks depending on it become ready.
Then task_info(id) for everything about one task, task_modify(filter, ...) to change tasks, \
task_search(query) to find text in tasks and docs, task_undo() to revert the last change.

Filters use Taskwarrior syntax; terms side by side mean and: project:web (and web.*), +bug / -bug \
(has / lacks a tag), priority:H, due.before:eow, agent:worker-1, bare words (in the description \
or notes), ids 3,7 or 3-7, virtual tags +READY +ACTIVE +BLOCKED +OVERDUE +WAITING, and or / not \
with parentheses. '' lists pending tasks that are not waiting. Ids: the short number, a uuid or \
a uuid prefix of 8+ hex digits. Dates: 2026-12-01, friday, eow, +3d. A failed call answers one \
line saying what to change."""
