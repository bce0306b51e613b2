"""The release artifacts: `python -m build` makes an sdist and a wheel that twine accepts, the
wheel holds the `backlog` package and its script only, and it installs cleanly into a
fresh venv and with `pipx install`. build, twine and pipx come from the `release` extra
(pinned in constraints.txt; .ci/run installs it); installs go to the package index.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import NOW_ISO, REPO

pytestmark = pytest.mark.needs_tools

PINS = REPO / "constraints.txt"
TIMEOUT_S = 900


def require_module(name: str) -> None:
    """Skip when the release extra is missing, but fail under CI=true (.ci/run installs it)."""
    if importlib.util.find_spec(name) is None:
        message = f"'{name}' is not installed; pip install -c constraints.txt -e '.[release]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run(args: list, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    ran = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT_S,
                         env=env, cwd=cwd)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    return ran


def plugin_version() -> str:
    return json.loads((REPO / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))["version"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built from the repository with the pinned build backend."""
    require_module("build")
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, REPO], env={**os.environ, "PIP_CONSTRAINT": str(PINS)})
    version = plugin_version()
    return {"wheel": out / f"backlog-{version}-py3-none-any.whl", "sdist": out / f"backlog-{version}.tar.gz"}


def smoke_env(tmp_path: Path) -> dict:
    """An environment where the installed `backlog` keeps its data in tmp_path, at NOW."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKDATA", "BACKLOG_", "CLAUDE_", "PIPX_")) and k != "PYTHONPATH"}
    return {**env, "TASKDATA": str(tmp_path / "tasks"), "BACKLOG_NOW": NOW_ISO, "HOME": str(tmp_path)}


def works(backlog: Path, env: dict) -> None:
    """The installed console script adds a task and lists it."""
    run([backlog, "add", "release check"], env=env)
    assert "release check" in run([backlog, "list"], env=env).stdout


def test_wheel_holds_the_package_and_its_script_only(dist):
    """`backlog` is a script (pip rewrites its `#!python` line), not a console entry point, whose
    generated script would import re before anything else."""
    names = zipfile.ZipFile(dist["wheel"]).namelist()
    version = plugin_version()
    info = f"backlog-{version}.dist-info/"
    script = f"backlog-{version}.data/scripts/backlog"
    assert {name for name in names if not name.startswith(("backlog/", info))} == {script}
    assert "backlog/mcp/server.py" in names and info + "entry_points.txt" not in names
    assert zipfile.ZipFile(dist["wheel"]).read(script).startswith(b"#!python\n")


def test_twine_check_passes(dist):
    require_module("twine")
    checked = run([sys.executable, "-m", "twine", "check", "--strict", dist["wheel"], dist["sdist"]])
    assert checked.stdout.count("PASSED") == 2


def test_wheel_installs_into_a_fresh_venv(dist, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", PINS, dist["wheel"]])
    run([venv / "bin" / "python", "-m", "pip", "check"])
    script = (venv / "bin" / "backlog").read_text(encoding="utf-8")
    assert script.startswith(f"#!{venv / 'bin' / 'python'}\n") and "import re" not in script
    works(venv / "bin" / "backlog", smoke_env(tmp_path))


def test_pipx_install_gives_a_working_backlog(dist, tmp_path):
    require_module("pipx")
    env = smoke_env(tmp_path)
    pipx = {**env, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
            "PIPX_MAN_DIR": str(tmp_path / "man")}
    run([sys.executable, "-m", "pipx", "install", "--pip-args", f"-c {PINS}", dist["wheel"]], env=pipx)
    works(tmp_path / "bin" / "backlog", env)
