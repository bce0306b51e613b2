"""Where a project's backlog lives (SPEC §2): one resolution for every entry point."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from collections.abc import Mapping

from backlog.errors import BacklogError

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def project_dir(env: Mapping[str, str], cwd: str, payload_cwd: str | None = None) -> Path:
    """CLAUDE_PROJECT_DIR, else the hook payload's cwd, else the git top-level, else cwd."""
    if env.get("CLAUDE_PROJECT_DIR"):
        return Path(env["CLAUDE_PROJECT_DIR"]).resolve()
    if payload_cwd:
        return Path(payload_cwd).resolve()
    here = Path(cwd).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def slug(project: Path) -> str:
    """`<basename reduced to [A-Za-z0-9_-]>-<8 hex of sha256(path)>`, e.g. `web-1a2b3c4d`."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", project.name)
    base = re.sub(r"^[^A-Za-z0-9]+", "", base) or "project"
    return f"{base}-{hashlib.sha256(str(project).encode()).hexdigest()[:8]}"


def data_dir(env: Mapping[str, str], project: Path) -> Path:
    """The data directory for `project`, namespaces applied; raises BacklogError on bad config."""
    if env.get("TASKDATA"):
        base = project / os.path.expanduser(env["TASKDATA"])
    elif env.get("TASKDATA_ROOT"):
        base = Path(os.path.expanduser(env["TASKDATA_ROOT"])) / slug(project)
    else:
        xdg = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local/share")
        base = Path(xdg) / "backlog" / "projects" / slug(project)
    namespace = env.get("BACKLOG_NAMESPACE", "")
    if not namespace and env.get("BACKLOG_AUTO_NAMESPACE", "").lower() in ("1", "true", "yes", "on"):
        namespace = slug(project)
    if namespace:
        if not _NAME.fullmatch(namespace) or namespace.strip(".") == "":
            raise BacklogError(
                "BACKLOG_NAMESPACE", f"'{namespace}' is not a valid namespace",
                "use letters, digits, '_', '-' and '.', e.g. 'frontend'",
            )
        base = base / "ns" / namespace
    return base.resolve()


def resolve_data_dir(env: Mapping[str, str], cwd: str, payload_cwd: str | None = None) -> Path:
    """The data directory an entry point running in `cwd` with `env` must use."""
    return data_dir(env, project_dir(env, cwd, payload_cwd))
