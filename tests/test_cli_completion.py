"""Shell completion: the bash script run live in bash; zsh and fish are not installed here (not checked)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import require_tool, run_backlog

# Complete `line` as bash would at its end: COMP_* set as readline sets them, the default word breaks.
BASH_DRIVER = r'''
eval "$(backlog completion bash)"
complete -p backlog
while IFS= read -r line; do
    COMP_LINE=$line COMP_POINT=${#line}
    read -ra COMP_WORDS <<< "$line"
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    _backlog
    echo "$line => ${COMPREPLY[*]}"
done
'''


@pytest.fixture
def env(clean_env, store_dir, tmp_path) -> dict:
    """Two projects, three tags, a UDA; `backlog` on PATH as the shell finds it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "backlog").write_text(f"#!/bin/sh\nexec {sys.executable} -m backlog \"$@\"\n")
    (bin_dir / "backlog").chmod(0o755)
    env = {**clean_env, "TASKDATA": str(store_dir), "PATH": f"{bin_dir}:{clean_env['PATH']}"}
    tasks = '[{"description": "A", "project": "web", "tags": ["bug", "ui"]}, {"description": "B", "project": "docs", "tags": ["bulk"], "jira": "X-1"}]'
    assert run_backlog(["import"], env, stdin=tasks).returncode == 0
    return env


def bash_completions(lines: list[str], env: dict) -> list[str]:
    result = subprocess.run([require_tool("bash"), "--norc", "--noprofile", "-c", BASH_DRIVER], input="\n".join(lines) + "\n",
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "complete -o nosort -F _backlog backlog"
    return out[1:]


def test_bash_completes_commands_attributes_projects_and_tags(env):
    assert bash_completions([
        "backlog li",             # a command
        "backlog 1 mod",          # a command after a filter
        "backlog list pri",       # an attribute name, with its colon
        "backlog ji",             # a UDA some task has
        "backlog project:w",      # bash breaks words at ':'; only the part after it is replaced
        "backlog list +b",        # tags of pending tasks
        "backlog 1 modify -u",
        "backlog list --li",      # options
    ], env) == [
        "backlog li => list",
        "backlog 1 mod => modify modified:",
        "backlog list pri => priority:",
        "backlog ji => jira:",
        "backlog project:w => web",
        "backlog list +b => +bug +bulk",
        "backlog 1 modify -u => -ui",
        "backlog list --li => --limit",
    ]


def test_completion_without_a_store_still_offers_commands(env, tmp_path):
    env = {**env, "TASKDATA": str(tmp_path / "missing" / "deep")}
    assert bash_completions(["backlog don", "backlog +"], env) == ["backlog don => done", "backlog + => "]
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("shell, line", [
    ("bash", "complete -o nosort -F _backlog backlog"),
    ("zsh", "compdef _backlog backlog"),
    ("fish", "complete -c backlog -f -a '(command backlog _complete (commandline -ct) 2>/dev/null)'"),
])
def test_each_shell_gets_a_script(env, shell, line):
    result = run_backlog(["completion", shell], env)
    assert result.returncode == 0 and line in result.stdout.splitlines()


def test_completion_needs_a_known_shell(env):
    result = run_backlog(["completion", "tcsh"], env)
    assert (result.returncode, result.stderr) == (
        1, 'backlog: completion: needs the shell: bash, zsh or fish; e.g. eval "$(backlog completion bash)"\n')
