"""Skills, the planner agent and the README name only real tools, parameters and filters."""

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backlog.core.filter import compile_filter
from tests.server_support import McpServer, server_env

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PREFIX = "mcp__plugin_backlog_tasks__"
SKILLS = ("tasks", "plan", "standup", "refine", "spec", "implement", "handoff")
EVENTS = ("SessionStart", "TaskCreated", "TaskCompleted", "SubagentStart", "SubagentStop", "SessionEnd")
BUILTIN_TOOLS = {"Read", "Grep", "Glob", "Edit", "Write", "Bash"}  # what our agents may use besides ours
SKILL_KEYS = {"name", "description", "argument-hint", "allowed-tools"}
AGENT_KEYS = {"name", "description", "tools", "model", "color"}

# SPEC §4: tool -> (required parameters, optional parameters); the server is checked against it.
_FIELDS = {"project", "tags", "priority", "due", "agent", "extra"}
_DATES = {"depends", "wait", "scheduled", "recur", "until"}
TOOLS = {
    "task_list": (set(), {"filter", "sort", "limit", "fields"}),  # empty filter: pending
    "task_count": (set(), {"filter"}),
    "task_info": ({"id"}, set()),
    "task_projects": (set(), set()),
    "task_tags": (set(), set()),
    "task_add": ({"description"}, _FIELDS | _DATES),
    "task_log": ({"description"}, _FIELDS - {"due"}),
    "task_modify": ({"filter"}, {"description"} | _FIELDS | _DATES),
    "task_duplicate": ({"id"}, {"description"} | _FIELDS),
    "task_done": ({"id"}, {"agent"}),
    "task_delete": ({"id"}, set()),
    "task_start": ({"id"}, {"agent"}),
    "task_stop": ({"id"}, {"agent"}),
    "task_annotate": ({"id", "text"}, {"agent"}),
    "task_denotate": ({"id", "text"}, set()),
    "task_undo": (set(), {"agent", "scope"}),
    "task_purge": ({"id"}, set()),
    "task_import": ({"tasks"}, set()),
    "task_doc_write": ({"id", "content"}, set()),
    "task_doc_read": ({"id"}, set()),
    "task_doc_delete": ({"id"}, set()),
    "task_archive": (set(), {"older_than_days"}),
    "task_archive_list": (set(), set()),
    "task_archive_load": ({"segment"}, set()),
    "task_claim": ({"agent"}, {"id", "filter"}),
    "task_search": ({"query"}, {"limit"}),
    "task_history": ({"id"}, set()),
}

PROMPTS = sorted(REPO.glob("skills/*/SKILL.md")) + sorted(REPO.glob("agents/*.md"))
PROMPT_IDS = [str(p.relative_to(REPO)) for p in PROMPTS]


def frontmatter(path):
    """(fields, body) of a markdown file. Accepts the YAML subset our files use - plain or
    double-quoted scalars and block lists - and rejects anything else, YAML pitfalls included."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path}: no frontmatter"
    head, body = text[4:].split("\n---\n", 1)
    fields, key = {}, None
    for line in head.split("\n"):
        item = re.fullmatch(r"  - (\S.*)", line)
        if item and key is not None and isinstance(fields[key], list):
            fields[key].append(scalar(item.group(1), path))
            continue
        pair = re.fullmatch(r"([a-z][a-z-]*):(?: (.*))?", line)
        assert pair, f"{path}: cannot read frontmatter line {line!r}"
        key = pair.group(1)
        assert key not in fields, f"{path}: {key} twice"
        fields[key] = scalar(pair.group(2), path) if pair.group(2) else []
    return fields, body


def scalar(text, path):
    if text.startswith('"'):
        return json.loads(text)
    assert not re.match(r"[\[\]{}&*!|>'%@`#]", text), f"{path}: quote {text!r}"
    assert ": " not in text and " #" not in text, f"{path}: quote {text!r}"
    return text


def calls(body):
    """Every `task_x(...)` in a prompt: (tool, [(parameter, raw value or None)])."""
    found = []
    for match in re.finditer(r"\b(task_[a-z_]+)\(", body):
        depth, quoted, i, start = 1, False, match.end(), match.end()
        while depth:
            ch = body[i]
            if quoted:
                i += ch == "\\"
                quoted = ch != '"'
            elif ch == '"':
                quoted = True
            else:
                depth += {"(": 1, ")": -1}.get(ch, 0)
            i += 1
        found.append((match.group(1), arguments(body[start:i - 1])))
    return found


def arguments(text):
    parts, depth, quoted, current = [], 0, False, ""
    for i, ch in enumerate(text):
        if quoted:
            quoted = ch != '"' or text[i - 1] == "\\"
        elif ch == '"':
            quoted = True
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    args = []
    for part in filter(None, (p.strip() for p in parts)):
        named = re.fullmatch(r"([a-z_]+)=(.+)", part, re.S)
        assert named or re.fullmatch(r"[a-z_]+", part), f"cannot read argument {part!r}"
        args.append((named.group(1), named.group(2)) if named else (part, None))
    return args


def short_names(body):
    return set(re.findall(r"\btask_[a-z_]+\b", body))


def test_the_tool_table_has_the_27_tools_of_the_spec():
    assert len(TOOLS) == 27


def test_the_tool_table_matches_the_server(tmp_path):
    with McpServer(server_env(tmp_path)) as server:
        served = {tool.name: tool.input_schema for tool in server.list_tools()}
    assert set(served) == set(TOOLS)
    for name, schema in served.items():
        required, optional = TOOLS[name]
        assert set(schema.get("required", [])) == required, name
        assert set(schema.get("properties", {})) == required | optional, name


def test_every_skill_and_the_planner_exist():
    assert sorted(p.parent.name for p in REPO.glob("skills/*/SKILL.md")) == sorted(SKILLS)
    assert (REPO / "agents" / "task-planner.md").exists()


@pytest.mark.parametrize("path", PROMPTS, ids=PROMPT_IDS)
def test_frontmatter_names_it_says_when_to_use_it_and_lists_real_tools(path):
    fields, _ = frontmatter(path)
    is_skill = path.name == "SKILL.md"
    assert set(fields) <= (SKILL_KEYS if is_skill else AGENT_KEYS), "unknown frontmatter key"
    assert fields["name"] == (path.parent.name if is_skill else path.stem)
    assert re.search(r"\bUse (when|for|before)\b", fields["description"]), "say when to use it"
    assert len(fields["description"]) <= 400
    if is_skill:
        assert fields["argument-hint"]
        tools = fields["allowed-tools"]
    else:
        tools = [t.strip() for t in fields["tools"].split(",")]
    ours = [t for t in tools if t.startswith(PREFIX)]
    assert ours and len(set(tools)) == len(tools)
    assert set(tools) - set(ours) <= BUILTIN_TOOLS
    assert {t[len(PREFIX):] for t in ours} <= set(TOOLS)


@pytest.mark.parametrize("path", PROMPTS, ids=PROMPT_IDS)
def test_prompts_name_only_real_tools(path):
    text = path.read_text(encoding="utf-8")
    assert set(re.findall(PREFIX + r"(\w+)", text)) <= set(TOOLS)
    _, body = frontmatter(path)
    assert short_names(body) <= set(TOOLS)


@pytest.mark.parametrize("path", PROMPTS, ids=PROMPT_IDS)
def test_every_pre_approved_tool_is_used_by_the_prompt(path):
    fields, body = frontmatter(path)
    tools = fields.get("allowed-tools") or fields["tools"].split(", ")
    approved = {t[len(PREFIX):] for t in tools if t.startswith(PREFIX)}
    assert approved <= short_names(body)


@pytest.mark.parametrize("path", PROMPTS, ids=PROMPT_IDS)
def test_tool_calls_use_real_parameters_and_all_required_ones(path):
    _, body = frontmatter(path)
    found = calls(body)
    assert found, "a prompt shows exact tool calls"
    for tool, args in found:
        required, optional = TOOLS[tool]
        names = [name for name, _ in args]
        assert set(names) <= required | optional, f"{tool}({', '.join(names)})"
        assert required <= set(names), f"{tool} needs {sorted(required)}"


@pytest.mark.parametrize("path", PROMPTS, ids=PROMPT_IDS)
def test_filters_in_prompts_parse(path):
    _, body = frontmatter(path)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    filters = [json.loads(value) for _, args in calls(body) for name, value in args
               if name == "filter" and value and value.startswith('"')]
    assert filters or path.parent.name == "spec"
    for text in filters:
        concrete = re.sub(r"<[^<>]*>", "web", text.replace("$ARGUMENTS", "project:web"))
        compile_filter(concrete, now, timezone.utc)  # raises on an invalid filter


def test_readme_names_every_tool_skill_and_hook_event():
    text = README.read_text(encoding="utf-8")
    assert {t for t in TOOLS if f"`{t}`" not in text} == set()
    assert {s for s in SKILLS if f"/backlog:{s}" not in text} == set()
    assert {e for e in EVENTS if f"`{e}`" not in text} == set()
    assert "task-planner" in text


def test_readme_filter_examples_parse():
    text = README.read_text(encoding="utf-8")
    table = text.split("## Filters", 1)[1].split("\n## ", 1)[0]
    examples = [code for row in re.findall(r"^\| (.+?) \|", table, re.M)
                for code in re.findall(r"`([^`]+)`", row)]
    assert len(examples) >= 10
    now = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    for example in examples:
        compile_filter(example, now, timezone.utc, udas=lambda: ("jira", "estimate"))  # the README's UDAs
