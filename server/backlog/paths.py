"""Where a project's backlog lives (SPEC §2): one resolution for every entry point.

Paths are strings (os.path): a hook resolves its data dir without importing pathlib (with the
`re`, `enum` and `urllib.parse` it loads, ~7 ms of a hook's start). Arguments may be Paths too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from backlog.core.patterns import Pattern
from backlog.errors import BacklogError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from pathlib import Path

    from backlog.store.files import StrPath

_NAME = Pattern(r"[A-Za-z0-9_.-]+")
_BARE = Pattern(r"^\s*bare\s*=\s*true\s*$", "MULTILINE", "IGNORECASE")
_NOT_SLUG = Pattern(r"[^A-Za-z0-9_-]")
_LEADING_NOT_ALNUM = Pattern(r"^[^A-Za-z0-9]+")
_ORIGIN = Pattern(r'^\s*\[remote\s+"origin"\]\s*$(.*?)(?=^\s*\[|\Z)', "MULTILINE", "DOTALL")
_URL = Pattern(r"^\s*url\s*=\s*(\S+)\s*$", "MULTILINE")
_REMOTE = Pattern(r"(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+?)(?:\.git)?/*", "IGNORECASE")


def project_dir(env: Mapping[str, str], cwd: str, payload_cwd: str | None = None) -> str:
    """The repository holding CLAUDE_PROJECT_DIR, else the hook payload's cwd, else cwd (see
    `repository_root`); that directory itself outside any repository."""
    start = env.get("CLAUDE_PROJECT_DIR") or payload_cwd or cwd
    return repository_root(os.path.realpath(start))


def repository_root(start: StrPath) -> str:
    """The project of `start`: the main working tree of the repository holding it, for a linked
    worktree too (a bare repository with worktrees: the bare dir); a submodule is its own.

    Read from the `.git` dir or file, its `gitdir:` and the `commondir` file, without running
    git. A `.git` that cannot be read is logged and its directory used, never another backlog.
    """
    start = os.fspath(start)
    for folder in _ancestry(start):
        dot_git = os.path.join(folder, ".git")
        if not os.path.exists(dot_git):
            continue
        if os.path.isdir(dot_git):
            return folder
        try:
            line = _text(dot_git).strip()
            if not line.startswith("gitdir:"):
                raise ValueError(f"{dot_git} has no 'gitdir:' line")
            gitdir = os.path.realpath(os.path.join(folder, line[len("gitdir:"):].strip()))
            common_file = os.path.join(gitdir, "commondir")
            if not os.path.exists(common_file):
                return folder  # a submodule (or a plain gitfile): its own project
            common = os.path.realpath(os.path.join(gitdir, _text(common_file).strip()))
            config = os.path.join(common, "config")
            config = _text(config) if os.path.exists(config) else ""
        except (OSError, ValueError) as err:
            import logging  # only here: its import costs every process ~5 ms

            logging.getLogger("backlog").warning("cannot read %s (%s); using %s as the project", dot_git, err, folder)
            return folder
        return common if _BARE.search(config) else os.path.dirname(common)
    return start


def _ancestry(path: str) -> list[str]:
    """`path` and each folder above it, up to the root (as Path.parents)."""
    found = [path]
    while os.path.dirname(found[-1]) != found[-1]:
        found.append(os.path.dirname(found[-1]))
    return found


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def slug(project: StrPath) -> str:
    """`<basename reduced to [A-Za-z0-9_-]>-<8 hex of sha256(path)>`, e.g. `web-1a2b3c4d`."""
    import hashlib  # only here: a process given TASKDATA never loads it

    project = os.fspath(project)
    base = _NOT_SLUG.sub("-", os.path.basename(project))
    base = _LEADING_NOT_ALNUM.sub("", base) or "project"
    return f"{base}-{hashlib.sha256(project.encode()).hexdigest()[:8]}"


def data_dir(env: Mapping[str, str], project: StrPath) -> str:
    """The data directory for `project`, namespaces applied; raises BacklogError on bad config."""
    if env.get("TASKDATA"):
        base = os.path.join(project, os.path.expanduser(env["TASKDATA"]))
    elif env.get("TASKDATA_ROOT"):
        base = os.path.join(os.path.expanduser(env["TASKDATA_ROOT"]), slug(project))
    else:
        xdg = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local/share")
        base = os.path.join(xdg, "backlog", "projects", slug(project))
    namespace = env.get("BACKLOG_NAMESPACE", "")
    if not namespace and env.get("BACKLOG_AUTO_NAMESPACE", "").lower() in ("1", "true", "yes", "on"):
        namespace = slug(project)
    if namespace:
        if not _NAME.fullmatch(namespace) or namespace.strip(".") == "":
            raise BacklogError(
                "BACKLOG_NAMESPACE", f"'{namespace}' is not a valid namespace",
                "use letters, digits, '_', '-' and '.', e.g. 'frontend'",
            )
        base = os.path.join(base, "ns", namespace)
    return os.path.realpath(base)


def resolve_data_dir(env: Mapping[str, str], cwd: str, payload_cwd: str | None = None) -> str:
    """The data directory an entry point running in `cwd` with `env` must use."""
    return data_dir(env, project_dir(env, cwd, payload_cwd))


def origin_name(project: StrPath) -> str | None:
    """The `origin` remote of the repository at `project`, normalized so that every clone agrees:
    `git@GitHub.com:Acme/Shop.git` and `https://user@github.com/acme/shop/` are both
    `github.com/acme/shop`. None without a git config, an origin, or a host (a local path)."""
    for config in (os.path.join(project, ".git", "config"), os.path.join(project, "config")):
        try:
            text = _text(config)
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


def s3_prefix(env: Mapping[str, str], project: StrPath) -> str | None:
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
    from pathlib import Path  # (S3's cache: store/s3cache.py)

    place = f"{conf['endpoint'] or 'aws'}|{conf['bucket']}|{conf['prefix']}".encode()
    return Path(base) / "backlog" / "s3" / hashlib.sha256(place).hexdigest()[:16]
