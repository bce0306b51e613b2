"""The plugin launcher (hooks/launch): builds its venv once, execs fast, never stalls a hook.

Fast-path tests use a fake environment (a `venv-<version>/bin/backlog` shell script and a
`.ready` marker) under a fake plugin root. The install tests run the real launcher on this
repository with pip (15-60 s each: the first start, a hook-started background install,
concurrent first starts, and a version change).
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAUNCH = REPO / "hooks" / "launch"
INSTALL_TIMEOUT = 900
SKIP_COPY = shutil.ignore_patterns(".git", ".venv", ".tools", "node_modules", "__pycache__",
                                   "*.egg-info", "build", "dist", ".pytest_cache", ".hypothesis")


def launch(*args, data, root=REPO, stdin=b"", launcher=LAUNCH, timeout=INSTALL_TIMEOUT, **env):
    """Run the launcher as Claude Code does: plugin root and data dir in the environment."""
    return subprocess.run([str(launcher), *args], input=stdin, capture_output=True,
                          timeout=timeout, env=launch_env(data, root, **env))


def launch_env(data, root, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update(CLAUDE_PLUGIN_ROOT=str(root), CLAUDE_PLUGIN_DATA=str(data))
    env.update({k: str(v) for k, v in extra.items()})
    return {k: v for k, v in env.items() if v != "<unset>"}


def session_context(stdout: bytes) -> str:
    """The one line a cold SessionStart prints, checked for the hook output shape."""
    assert stdout.count(b"\n") == 1 and stdout.endswith(b"\n"), stdout
    answer = json.loads(stdout)
    assert answer == {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                             "additionalContext": answer["hookSpecificOutput"]["additionalContext"]}}
    return answer["hookSpecificOutput"]["additionalContext"]


SETTING_UP = ("backlog (this project's persistent task list) is setting up its Python environment; "
              "its tools (mcp__plugin_backlog_tasks__task_*) will answer shortly.")


def fake_root(tmp_path, version="1.2.3"):
    """A plugin root whose pyproject names `version`, with a copy of the launcher."""
    root = tmp_path / "plugin"
    (root / "hooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "backlog"\nversion = "{version}"\n')
    shutil.copy2(LAUNCH, root / "hooks" / "launch")
    return root


def fake_env(data, version, script='#!/bin/sh\nprintf "%s|" "$@"; echo; cat; exit 7\n', ready=True,
             python=sys.executable):
    """A ready environment whose `backlog` echoes its arguments and stdin and exits 7."""
    venv = Path(data) / f"venv-{version}"
    (venv / "bin").mkdir(parents=True)
    exe = venv / "bin" / "backlog"
    exe.write_text(script)
    exe.chmod(0o755)
    (venv / "bin" / "python").symlink_to(python)
    if ready:
        (venv / ".ready").write_text(f"{version}\n")
    return venv


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def installer_idle(data):
    """True when no install holds the data dir's lock."""
    with open(Path(data) / "install.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


def installs_started(data):
    log = Path(data) / "install.log"
    return log.read_text().count("] installing backlog") if log.exists() else 0


def env_version(venv):
    """The installed distribution's version, as pip recorded it."""
    run = subprocess.run([str(Path(venv) / "bin" / "python"), "-c",
                          "import importlib.metadata as m, backlog; print(m.version('backlog'))"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def repo_version():
    return re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)


# ---- fast path and failure handling (no real install) ----

def test_ready_start_execs_backlog_with_args_stdin_and_exit_code(tmp_path):
    root = fake_root(tmp_path)
    fake_env(tmp_path / "data", "1.2.3")
    run = launch("hook", "SessionStart", data=tmp_path / "data", root=root, stdin=b'{"cwd": "/x"}')
    assert (run.returncode, run.stdout, run.stderr) == (7, b'hook|SessionStart|\n{"cwd": "/x"}', b"")


def test_environment_is_chosen_by_the_pyproject_version(tmp_path):
    root = fake_root(tmp_path, version="2.0.0rc1")
    fake_env(tmp_path / "data", "1.2.3")
    venv = fake_env(tmp_path / "data", "2.0.0rc1")
    run = launch("--prepare", data=tmp_path / "data", root=root)
    assert (run.returncode, run.stdout) == (0, f"{venv}\n".encode())


@pytest.mark.parametrize("plugin_data", [
    "<unset>",                 # outside Claude Code
    "${CLAUDE_PLUGIN_DATA}",   # a manifest that passes the variable through unexpanded
])
def test_without_plugin_data_the_env_lives_under_xdg_data_home(tmp_path, plugin_data):
    root = fake_root(tmp_path)
    venv = fake_env(tmp_path / "xdg" / "backlog" / "plugin-env", "1.2.3")
    run = launch("--prepare", data=plugin_data, root=root, XDG_DATA_HOME=tmp_path / "xdg")
    assert (run.returncode, run.stdout) == (0, f"{venv}\n".encode())


def test_without_plugin_root_the_launcher_serves_its_own_plugin(tmp_path):
    root = fake_root(tmp_path, version="3.1.4")
    venv = fake_env(tmp_path / "data", "3.1.4")
    run = launch("--prepare", data=tmp_path / "data", root="<unset>", launcher=root / "hooks" / "launch")
    assert (run.returncode, run.stdout) == (0, f"{venv}\n".encode())


def test_hook_exits_silently_when_the_data_dir_cannot_be_made(tmp_path):
    (tmp_path / "file").write_text("")
    data = tmp_path / "file" / "data"
    hook = launch("hook", "SessionStart", data=data, stdin=b"{}", timeout=10)
    assert (hook.returncode, hook.stdout, hook.stderr) == (0, b"", b"")
    serve = launch("serve", data=data, timeout=60)
    assert serve.returncode == 1 and serve.stdout == b""
    assert b"could not set up its Python environment" in serve.stderr


def test_failed_install_is_reported_once_and_only_session_start_names_the_log(tmp_path):
    root = fake_root(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n[[[ not toml\n')
    data = tmp_path / "data"
    partial = fake_env(data, "1.2.3", ready=False)  # an interrupted install: never used

    prepare = launch("--prepare", data=data, root=root)
    assert prepare.returncode == 1 and prepare.stdout == b""
    assert prepare.stderr.decode().strip() == (
        f"backlog: could not set up its Python environment; see {data}/install.log")
    assert "install FAILED" in (data / "install.log").read_text()
    assert (data / "install.failed").exists()
    assert not partial.exists()

    started = installs_started(data)
    hook = launch("hook", "TaskCreated", data=data, root=root, stdin=b"{}", timeout=10)
    assert (hook.returncode, hook.stdout, hook.stderr) == (0, b"", b"")
    start = launch("hook", "SessionStart", data=data, root=root, stdin=b"{}", timeout=10)
    assert (start.returncode, start.stderr) == (0, b"")
    assert session_context(start.stdout) == (
        "backlog (this project's persistent task list) could not set up its Python environment, "
        f"so its tools are unavailable; see {data}/install.log")
    time.sleep(1.5)  # a background install would have logged its start by now
    assert installs_started(data) == started, "a hook retried a failed install within 5 minutes"


@pytest.mark.parametrize("record", [
    "0\n",  # failed in 1970: long ago on any clock
    "",      # no instant recorded
])
def test_a_hook_retries_a_failure_not_recorded_as_recent(tmp_path, record):
    root = fake_root(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n[[[ not toml\n')
    data = tmp_path / "data"
    data.mkdir()
    (data / "install.failed").write_text(record)  # the file is new: only its content says when
    hook = launch("hook", "TaskCreated", data=data, root=root, stdin=b"{}", timeout=10)
    assert (hook.returncode, hook.stdout, hook.stderr) == (0, b"", b"")
    wait_for(lambda: "install FAILED" in (data / "install.log").read_text(), 120, "the retry")
    assert installs_started(data) == 1
    assert 0 < float((data / "install.failed").read_text()), "the new failure records its instant"


def test_env_whose_interpreter_is_gone_is_rebuilt_not_used(tmp_path):
    root = fake_root(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n[[[ not toml\n')
    data = tmp_path / "data"
    fake_env(data, "1.2.3", python=tmp_path / "python3.9-uninstalled")
    hook = launch("hook", "SessionStart", data=data, root=root, stdin=b"{}", timeout=10)
    assert (hook.returncode, hook.stderr) == (0, b"")
    assert session_context(hook.stdout) == SETTING_UP
    wait_for(lambda: "install FAILED" in (data / "install.log").read_text(), 120, "the rebuild")
    assert installs_started(data) == 1


@pytest.mark.wallclock  # asserts a duration
def test_launcher_is_posix_sh():
    for shell in ("sh", "dash", "bash"):
        if shutil.which(shell):
            check = subprocess.run([shell, "-n", str(LAUNCH)], capture_output=True, text=True)
            assert check.returncode == 0, check.stderr
    if shutil.which("shellcheck"):
        check = subprocess.run(["shellcheck", "-s", "sh", str(LAUNCH)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


# ---- real installs ----

@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A data dir whose environment the launcher built from this repository."""
    data = tmp_path_factory.mktemp("plugin-data")
    run = launch("--prepare", data=data)
    assert run.returncode == 0, run.stderr.decode() + (data / "install.log").read_text()
    return data, Path(run.stdout.decode().strip())


@pytest.mark.needs_tools  # pip, from the package index
def test_first_start_builds_the_env_and_later_starts_reuse_it(installed):
    data, venv = installed
    version = repo_version()
    assert venv == data / f"venv-{version}"
    assert (venv / ".ready").read_text().split("\n")[0] == version
    assert env_version(venv) == version
    assert not list(data.glob("src-*")), "the source copy is cleaned up"

    started = installs_started(data)
    again = launch("--prepare", data=data, timeout=30)
    assert (again.returncode, again.stdout) == (0, f"{venv}\n".encode())
    assert installs_started(data) == started


@pytest.mark.needs_tools  # pip, from the package index
def test_ready_launcher_runs_the_cli(installed):
    data, _ = installed
    run = launch("--version", data=data, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().split() == ["backlog", repo_version()]


@pytest.mark.needs_tools  # pip, from the package index
def test_serve_speaks_json_rpc_from_the_first_byte(installed):
    data, _ = installed
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"}}}
    server = subprocess.Popen([str(LAUNCH), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=launch_env(data, REPO))
    try:
        server.stdin.write(json.dumps(hello).encode() + b"\n")
        server.stdin.flush()
        first = json.loads(server.stdout.readline())
    finally:
        server.kill()
        server.communicate()
    assert first["id"] == 1 and first["result"]["serverInfo"]


@pytest.mark.needs_tools  # pip, from the package index
@pytest.mark.wallclock  # asserts a duration
def test_hook_without_env_exits_at_once_and_installs_in_background(tmp_path):
    data = tmp_path / "data"
    start = time.monotonic()
    hook = launch("hook", "SessionStart", data=data, stdin=b'{"session_id": "s"}', timeout=10)
    elapsed = time.monotonic() - start
    assert (hook.returncode, hook.stderr) == (0, b"")
    assert session_context(hook.stdout) == SETTING_UP
    assert elapsed < 2, f"hook took {elapsed:.2f} s"

    venv = data / f"venv-{repo_version()}"
    wait_for(lambda: (venv / ".ready").exists(), INSTALL_TIMEOUT, "the background install")
    wait_for(lambda: installer_idle(data), 60, "the installer to exit")
    assert env_version(venv) == repo_version()


@pytest.mark.needs_tools  # pip, from the package index
def test_concurrent_first_starts_build_one_env_and_keep_stdout_clean(tmp_path):
    data = tmp_path / "data"
    env = launch_env(data, REPO)
    hooks = [subprocess.Popen([str(LAUNCH), "hook", event], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for event in ("SessionStart", "SubagentStart", "TaskCreated")]
    cli = subprocess.Popen([str(LAUNCH), "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    for event, hook in zip(("SessionStart", "SubagentStart", "TaskCreated"), hooks):
        out, err = hook.communicate(b"{}", timeout=10)
        assert (hook.returncode, err) == (0, b"")
        assert (session_context(out) == SETTING_UP) if event == "SessionStart" else out == b""
    out, err = cli.communicate(timeout=INSTALL_TIMEOUT)
    assert cli.returncode == 0, err.decode() + (data / "install.log").read_text()
    assert out.decode().split() == ["backlog", repo_version()], "install output reached stdout"

    wait_for(lambda: installer_idle(data), 60, "the installers to exit")
    time.sleep(1)  # a late background installer would start (and log) within this
    assert installs_started(data) == 1
    assert [p.name for p in data.glob("venv-*")] == [f"venv-{repo_version()}"]
    assert not list(data.glob("src-*"))


@pytest.mark.needs_tools  # pip, from the package index
def test_new_version_installs_beside_the_old_and_prunes_older(installed, tmp_path):
    data, current = installed
    stale = fake_env(data, "0.0.1", script="#!/bin/sh\n")
    os.utime(stale / ".ready", (1, 1))
    partial = fake_env(data, "0.0.2", ready=False)
    root = tmp_path / "plugin"
    shutil.copytree(REPO, root, ignore=SKIP_COPY)
    bumped = repo_version() + ".post1"
    pyproject = root / "pyproject.toml"
    pyproject.write_text(re.sub(r'^version\s*=\s*"[^"]+"', f'version = "{bumped}"',
                                pyproject.read_text(), count=1, flags=re.M))

    run = launch("--prepare", data=data, root=root)
    assert run.returncode == 0, run.stderr.decode() + (data / "install.log").read_text()
    venv = Path(run.stdout.decode().strip())
    assert venv == data / f"venv-{bumped}"
    assert env_version(venv) == bumped
    assert (current / ".ready").exists(), "the previous version stays for running sessions"
    assert not stale.exists() and not partial.exists()
