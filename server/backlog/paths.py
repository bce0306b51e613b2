"""Where a project's backlog lives (SPEC §2): one resolution for every entry point."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Mapping

from backlog.core.patterns import Pattern
from backlog.errors import BacklogError

_NAME = Pattern(r"[A-Za-z0-9_.-]+")
_BARE = Pattern(r"^\s*bare\s*=\s*true\s*$", "MULTILINE", "IGNORECASE")
_NOT_SLUG = Pattern(r"[^A-Za-z0-9_-]")
_LEADING_NOT_ALNUM = Pattern(r"^[^A-Za-z0-9]+")
_ORIGIN = Pattern(r'^\s*\[remote\s+"origin"\]\s*$(.*?)(?=^\s*\[|\Z)', "MULTILINE", "DOTALL")
_URL = Pattern(r"^\s*url\s*=\s*(\S+)\s*$", "MULTILINE")
_REMOTE = Pattern(r"(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+?)(?:\.git)?/*", "IGNORECASE")


def project_dir(env: Mapping[str, str], cwd: str, payload_cwd: str | None = None) -> Path:
    """The repository holding CLAUDE_PROJECT_DIR, else the hook payload's cwd, else cwd (see
    `repository_root`); that directory itself outside any repository."""
    start = env.get("CLAUDE_PROJECT_DIR") or payload_cwd or cwd
    return repository_root(Path(start).resolve())


def repository_root(start: Path) -> Path:
    """The project of `start`: the main working tree of the repository holding it, for a linked
    worktree too (a bare repository with worktrees: the bare dir); a submodule is its own.

    Read from the `.git` dir or file, its `gitdir:` and the `commondir` file, without running
    git. A `.git` that cannot be read is logged and its directory used, never another backlog.
    """
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if not dot_git.exists():
            continue
        if dot_git.is_dir():
            return folder
        try:
            line = dot_git.read_text(encoding="utf-8").strip()
            if not line.startswith("gitdir:"):
                raise ValueError(f"{dot_git} has no 'gitdir:' line")
            gitdir = (folder / line[len("gitdir:"):].strip()).resolve()
            common_file = gitdir / "commondir"
            if not common_file.exists():
                return folder  # a submodule (or a plain gitfile): its own project
            common = (gitdir / common_file.read_text(encoding="utf-8").strip()).resolve()
            config = (common / "config").read_text(encoding="utf-8") if (common / "config").exists() else ""
        except (OSError, ValueError) as err:
            import logging  # only here: its import costs every process ~5 ms

            logging.getLogger("backlog").warning("cannot read %s (%s); using %s as the project", dot_git, err, folder)
            return folder
        return common if _BARE.search(config) else common.parent
    return start


def slug(project: Path) -> str:
    """`<basename reduced to [A-Za-z0-9_-]>-<8 hex of sha256(path)>`, e.g. `web-1a2b3c4d`."""
    import hashlib  # only here: a process given TASKDATA never loads it

    base = _NOT_SLUG.sub("-", project.name)
    base = _LEADING_NOT_ALNUM.sub("", base) or "project"
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


def origin_name(project: Path) -> str | None:
    """The `origin` remote of the repository at `project`, normalized so that every clone agrees:
    `git@GitHub.com:Acme/Shop.git` and `https://user@github.com/acme/shop/` are both
    `github.com/acme/shop`. None without a git config, an origin, or a host (a local path)."""
    for config in (project / ".git" / "config", project / "config"):
        try:
            text = config.read_text(encoding="utf-8")
            break
        except OSError:
            continue
    else:
        return None
    section = _ORIGIN.search(text)
    url = _URL.search(section.group(1)) if section else None
    if not url:
        return None
    found = _REMOTE.fullmatch(url.group(1))
    if not found or url.group(1).lower().startswith("file:") or (
            "://" not in url.group(1) and ":" not in url.group(1).split("/")[0]):
        return None  # a path on this machine: nothing a teammate shares
    return f"{found.group(1)}/{found.group(2).strip('/')}".lower()


def s3_prefix(env: Mapping[str, str], project: Path) -> str | None:
    """The key prefix of the project's backlog in a bucket: BACKLOG_S3_PREFIX, else TASKDATA, else
    `backlogs/<origin_name>`, each with `/ns/<namespace>` as the data dir has; None with none of them."""
    base = env.get("BACKLOG_S3_PREFIX") or env.get("TASKDATA") or ""
    if not base.strip("/"):
        origin = origin_name(project)
        base = f"backlogs/{origin}" if origin else ""
    if not base.strip("/"):
        return None
    namespace = env.get("BACKLOG_NAMESPACE", "")
    if namespace and (not _NAME.fullmatch(namespace) or namespace.strip(".") == ""):
        raise BacklogError("BACKLOG_NAMESPACE", f"'{namespace}' is not a valid namespace",
                           "use letters, digits, '_', '-' and '.', e.g. 'frontend'")
    return base.strip("/") + (f"/ns/{namespace}" if namespace else "")


def s3_cache_dir(env: Mapping[str, str], conf: dict) -> Path:
    """This machine's cache of one bucket prefix (`conf`: store/s3bucket.py settings):
    XDG_CACHE_HOME (else ~/.cache)/backlog/s3/<hash>."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    import hashlib  # lazy here, in paths.slug and for docs in the store: it loads OpenSSL (~3–10 ms)

    place = f"{conf['endpoint'] or 'aws'}|{conf['bucket']}|{conf['prefix']}".encode()
    return Path(base) / "backlog" / "s3" / hashlib.sha256(place).hexdigest()[:16]
