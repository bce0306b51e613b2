"""The narrow seam between the store's logic and where its bytes live.

`FileBackend` keeps a data dir on a local disk; a later S3 backend implements the same
methods on a bucket (conditional puts instead of a lock file). Every write here is atomic
and durable: whole files go through temp file + fsync + rename + fsync of the directory;
journal lines are appended at a known offset and fdatasync'ed before the call returns.
A write that is short, hits a full disk or cannot be synced raises StoreError and leaves
no temp file; temp files of a writer that crashed are removed by the next one to take the
lock (never by age: a live writer's temp file is only ever seen under its own lock).

Layout of a data dir:
    format.json           the format version (see sealed.py); absent in a format-1 store
    tasks.json            snapshot: {"gen", "seq", "next_id", "tasks", "docs"}
    tasks.prev.json       the snapshot before the newest compaction (doctor's fallback)
    head                  the newest acknowledged transaction (see sealed.py): catches a cut journal
    journal/<gen>.jsonl   one line per committed transaction; old generations are history
    docs/<sha256>.md      doc bodies, content-addressed
    archive/<YYYY-Qn>.json  archived tasks of one quarter: {"seq", "tasks"}
    project.json          {"project": path}: the project whose backlog this is (record_project)
    .lock                 the cross-process write lock (with a lock on the data dir itself, see lock())
    .<dir>-<name>.<pid>.tmp  a whole-file write in progress (any file's temp lives here)
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterator

from backlog.core import cjson
from backlog.core.patterns import Pattern
from backlog.errors import StoreError
from backlog.store.sealed import FORMAT_FILE, HEAD_FILE

SNAPSHOT, PREVIOUS = "tasks.json", "tasks.prev.json"
PROJECT_FILE = "project.json"
LOCK_TIMEOUT_S = 30.0


_SEGMENT = Pattern(r"\d{4}-Q[1-4]")
_BLOB = Pattern(r"[0-9a-f]{64}")

Token = tuple[int, int, int]
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: hooks start fast
if TYPE_CHECKING:
    from os import PathLike

    StrPath = str | PathLike[str]


def fsync_dir(path: StrPath) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` (os.write may write fewer, e.g. near a full disk)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def read_file(path: StrPath) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def remove_file(path: StrPath) -> None:
    """Delete `path` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_atomic(path: StrPath, data: bytes, temp_dir: StrPath | None = None) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file.

    The temp file lives in `temp_dir` (default: beside `path`; same file system). Raises
    StoreError, with `path` unchanged and the temp file gone, when the bytes cannot all be
    written and synced.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or os.curdir
    tmp = os.path.join(folder if temp_dir is None else temp_dir,
                       f".{os.path.basename(folder)}-{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(folder)
    except OSError as err:
        remove_file(tmp)
        raise StoreError(f"{path}: could not write {len(data):,} bytes ({err.strerror or err}); "
                         "nothing was saved, free disk space and retry") from None


def record_project(root: StrPath, project: StrPath) -> None:
    """Write `project.json` naming `project` into the data dir `root`, once (an existing one is
    kept), so that a store says whose it is (store/strays.py)."""
    path = os.path.join(root, PROJECT_FILE)
    if os.path.exists(path) or not os.path.isdir(root):
        return
    try:
        write_atomic(path, cjson.dumps({"project": os.fspath(project)}, ascii=True, spaced=True).encode() + b"\n")
    except StoreError:  # noqa: S110 - a read-only data dir still serves reads; a writable open records it
        pass


def recorded_project(root: StrPath) -> str | None:
    """The project path a data dir records, or None."""
    try:
        return str(cjson.loads(read_file(os.path.join(root, PROJECT_FILE)))["project"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_temp(name: str) -> bool:
    """True for the name of write_atomic's temp file."""
    return name.startswith(".") and name.endswith(".tmp")


class FileBackend:
    """A data dir on the local file system (`root`: its path, as a str)."""

    optimistic = False  # writers exclude each other with lock() (see backend.Backend)
    remote = False

    def __init__(self, root: StrPath, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.root = os.fspath(root)
        self.lock_timeout = lock_timeout
        self._lock_fd: int | None = None  # `.lock`, flock'ed while this backend holds the lock
        self._append_fd: tuple[int, int] | None = None  # (generation, fd)
        self._dir_fd: int | None = None  # the data dir, flock'ed while this backend holds the lock
        self.removed_temps: list[str] = []  # temp files of crashed writers this backend removed

    def describe(self, name: str) -> str:
        """The path a user should look at for the item `name` (for error messages)."""
        return self._file(name)

    def _file(self, name: str) -> str:
        return os.path.join(self.root, name)

    # -- locking ---------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the write lock (reentrant): `.lock`, then the data dir itself.

        `.lock` is what every backlog version takes (a `flock`, as the `filelock` package that
        earlier versions used takes it on Unix, so they and this one exclude each other); an
        operator can delete it while writers run, after which two writers could each hold a
        `.lock`. The flock on the data dir's own inode, taken second by every writer of this
        version, cannot be deleted away. A bad `.lock` (see lock_problem) is skipped: older
        versions cannot lock it, so cannot write, and this version's writers exclude each other
        by the data dir's lock. Both waits together last at most `lock_timeout`.
        """
        self._ensure_dirs()
        deadline = time.monotonic() + self.lock_timeout
        with self._held("_lock_fd", self._open_lock_file, deadline), self._held("_dir_fd", self._open_dir, deadline):
            self._remove_temp_files()
            yield

    def lock_problem(self) -> str | None:
        """What is wrong with `.lock` (not a regular file, not readable and writable), or None."""
        path = self._file(".lock")
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None  # the next writer creates it
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
            return f"{path} is {kind}, so older backlog versions cannot write; `backlog doctor --repair` replaces it"
        if not os.access(path, os.R_OK | os.W_OK):
            return (f"{path} is not readable and writable by this user, so older backlog versions cannot write; "
                    "`backlog doctor --repair` replaces it")
        return None

    def replace_bad_lock(self, stamp: str) -> str | None:
        """Move a `.lock` no writer can take aside to `.lock.damaged-<stamp>` and make a fresh
        one, under the data dir's lock only (never waiting on `.lock` while holding it);
        what was done, or None when `.lock` is fine."""
        if self.lock_problem() is None:
            return None
        self._ensure_dirs()
        with self._held("_dir_fd", self._open_dir, time.monotonic() + self.lock_timeout):
            if self.lock_problem() is None:
                return None
            aside = f".lock.damaged-{stamp}"
            os.rename(self._file(".lock"), self._file(aside))
            write_atomic(self._file(".lock"), b"", self.root)
        return f"moved the lock file no writer could take to {aside} and made a new one"

    def _open_lock_file(self) -> int | None:
        """`.lock` opened to be flock'ed, created when missing; None when it is bad (a
        directory, a symlink, not ours: left alone, the data dir's lock alone excludes then)."""
        if self.lock_problem():
            return None
        try:
            return os.open(self._file(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            if err.errno in (errno.ELOOP, errno.EISDIR, errno.EACCES, errno.EPERM):
                return None  # made bad since lock_problem looked: as above
            raise

    def _open_dir(self) -> int:
        return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    @contextmanager
    def _held(self, attr: str, open_fd: Callable[[], int | None], deadline: float) -> Iterator[None]:
        """An exclusive flock on what `open_fd` opens, kept in `attr` while held (reentered: held
        already). Each try opens anew, as filelock does, so a file deleted meanwhile is made again;
        past `deadline`, one line: the write lock is taken."""
        if getattr(self, attr) is not None:
            yield
            return
        while True:
            fd = open_fd()
            if fd is None:
                yield
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() > deadline:
                    raise StoreError(f"{self.root}: could not take the write lock within {self.lock_timeout:.0f}s; "
                                     "another backlog process is holding it, retry when it is done") from None
                time.sleep(0.005)
        setattr(self, attr, fd)
        try:
            yield
        finally:
            setattr(self, attr, None)
            os.close(fd)  # releases the flock

    def _remove_temp_files(self) -> None:
        """Delete temp files a crashed writer left (call under the lock: no write is in progress)."""
        for name in self.temp_files():
            try:
                os.unlink(self._file(name))
            except FileNotFoundError:  # renamed into place meanwhile by a write that takes no lock (record_project)
                continue
            self.removed_temps.append(name)

    def temp_files(self) -> list[str]:
        """Names of whole-file writes in progress, or left by a writer that crashed."""
        with os.scandir(self.root) as entries:
            return sorted(entry.name for entry in entries if is_temp(entry.name))

    def _ensure_dirs(self) -> None:
        try:
            for sub in ("journal", "docs", "archive"):
                os.makedirs(self._file(sub), exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"{self.root}: cannot create the data dir ({err.strerror}); "
                "set TASKDATA to a writable directory"
            ) from None

    # -- format ------------------------------------------------------------------------
    def read_format(self) -> bytes | None:
        try:
            return read_file(self._file(FORMAT_FILE))
        except FileNotFoundError:
            return None

    def write_format(self, data: bytes) -> None:
        write_atomic(self._file(FORMAT_FILE), data, self.root)

    # -- head --------------------------------------------------------------------------
    def read_head(self) -> bytes | None:
        try:
            return read_file(self._file(HEAD_FILE))
        except FileNotFoundError:
            return None

    def write_head(self, data: bytes) -> None:
        """Overwrite the head in place (its length never changes), unsynced: it may lag the
        journal after a power loss, never lead it. A failure only leaves the older head."""
        try:
            fd = os.open(self._file(HEAD_FILE), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, data, 0)
            finally:
                os.close(fd)
        except OSError:
            pass

    # -- snapshot ----------------------------------------------------------------------
    def snapshot_token(self) -> Token | None:
        """Changes whenever the snapshot is replaced; None when there is none."""
        try:
            st = os.stat(self._file(SNAPSHOT))
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read_snapshot(self, previous: bool = False) -> tuple[bytes | None, Token | None]:
        path = self._file(PREVIOUS if previous else SNAPSHOT)
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                return f.read(), (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return None, None

    def write_snapshot(self, data: bytes) -> None:
        """Install a new snapshot, keeping the current one as the previous."""
        current, previous = self._file(SNAPSHOT), self._file(PREVIOUS)
        if os.path.exists(current):
            remove_file(previous)
            os.link(current, previous)
        write_atomic(current, data, self.root)

    # -- journal -----------------------------------------------------------------------
    def _journal(self, gen: int) -> str:
        return self._file(self.journal_name(gen))

    def journal_name(self, gen: int) -> str:
        return f"journal/{gen:06d}.jsonl"

    def journal_size(self, gen: int) -> int:
        try:
            return os.stat(self._journal(gen)).st_size
        except FileNotFoundError:
            return 0

    def read_journal(self, gen: int, offset: int = 0) -> bytes:
        try:
            with open(self._journal(gen), "rb") as f:
                f.seek(offset)
                return f.read()
        except FileNotFoundError:
            return b""

    def journal_generations(self) -> list[int]:
        try:  # a listing, not a glob: pathlib compiles the pattern in every process (~1 ms)
            names = os.listdir(self._file("journal"))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(int(name[:-6]) for name in names if name.endswith(".jsonl") and name[:-6].isdigit())

    def append_journal(self, gen: int, line: bytes, offset: int) -> None:
        """Write `line` at `offset` (cutting any torn tail beyond it) and make it durable."""
        fd = self._append_handle(gen)
        self._check_unchanged(gen, fd, offset)
        try:
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            written = os.pwrite(fd, line, offset)
            if written != len(line):
                raise OSError(errno.ENOSPC, "short write")
            os.fdatasync(fd)
        except OSError as err:
            try:
                os.ftruncate(fd, offset)  # no reader may see a line that is not durable
            except OSError:
                pass
            raise StoreError(f"{self._journal(gen)}: could not append ({err.strerror or err}); "
                             "nothing was saved, free disk space and retry") from None

    def _check_unchanged(self, gen: int, fd: int, offset: int) -> None:
        """StoreError when the journal was deleted, replaced or cut shorter than `offset` underneath us.

        Appending then would write into an unlinked file or after a hole; the handle is
        dropped so that a later call looks at the path afresh.
        """
        path = self._journal(gen)
        held = os.fstat(fd)
        try:
            named = os.stat(path)
        except FileNotFoundError:
            named = None
        if named is None or held.st_nlink == 0 or (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino):
            problem = "was deleted or replaced while backlog was writing it"
        elif held.st_size < offset:
            problem = f"was cut to {held.st_size:,} bytes underneath backlog, which had written {offset:,}"
        else:
            return
        self.close()
        raise StoreError(f"{path}: {problem}; nothing was saved: run `backlog doctor` and restart the session")

    def _append_handle(self, gen: int) -> int:
        if self._append_fd and self._append_fd[0] == gen:
            return self._append_fd[1]
        self.close()
        path = self._journal(gen)
        created = not os.path.exists(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if created:
            fsync_dir(os.path.dirname(path))
        self._append_fd = (gen, fd)
        return fd

    def append_at(self, gen: int, data: bytes, offset: int) -> None:
        """Write `data` at `offset` of closed generation `gen` (cutting what lies beyond) and fsync.

        For the history merge, under the lock. On failure the file is cut back to `offset`
        (as far as possible) and StoreError is raised.
        """
        path = self._journal(gen)
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as err:
            raise StoreError(f"{path}: could not open it to merge history ({err.strerror or err})") from None
        try:
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            view, at = memoryview(data), offset
            while view:
                written = os.pwrite(fd, view, at)
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view, at = view[written:], at + written
            os.fsync(fd)
        except OSError as err:
            try:
                os.ftruncate(fd, offset)
            except OSError:
                pass
            raise StoreError(f"{path}: could not append {len(data):,} bytes of history ({err.strerror or err}); "
                             "the generations stay as they are, free disk space") from None
        finally:
            os.close(fd)

    def replace_journal(self, gen: int, data: bytes) -> None:
        """Rewrite a whole journal generation (doctor only)."""
        self.close()
        write_atomic(self._journal(gen), data, self.root)

    def delete_journal(self, gen: int) -> None:
        """Remove a journal generation whose records a merged file holds."""
        remove_file(self._journal(gen))
        fsync_dir(self._file("journal"))

    def close(self) -> None:
        if self._append_fd:
            os.close(self._append_fd[1])
            self._append_fd = None

    # -- docs --------------------------------------------------------------------------
    def _blob(self, digest: str) -> str:
        if not _BLOB.fullmatch(digest):
            raise StoreError(f"refusing doc name '{digest}': not a sha256 digest")
        return self._file(f"docs/{digest}.md")

    def put_blob(self, digest: str, data: bytes) -> None:
        path = self._blob(digest)
        if not os.path.exists(path):
            self._ensure_dirs()
            write_atomic(path, data, self.root)

    def get_blob(self, digest: str) -> bytes:
        try:
            return read_file(self._blob(digest))
        except FileNotFoundError:
            raise StoreError(
                f"{self._blob(digest)}: doc body missing; run `backlog doctor` to check the store"
            ) from None

    def blob_size(self, digest: str) -> int:
        try:
            return os.stat(self._blob(digest)).st_size
        except FileNotFoundError:
            return 0

    def list_blobs(self) -> list[str]:
        return [name[:-3] for name in self._names("docs") if name.endswith(".md")]

    def delete_blob(self, digest: str) -> None:
        remove_file(self._blob(digest))

    # -- archive segments -------------------------------------------------------------
    def _segment(self, name: str) -> str:
        if not _SEGMENT.fullmatch(name):
            raise StoreError(f"refusing segment name '{name}': not YYYY-Qn")
        return self._file(f"archive/{name}.json")

    def read_segment(self, name: str) -> bytes | None:
        try:
            return read_file(self._segment(name))
        except FileNotFoundError:
            return None

    def write_segment(self, name: str, data: bytes | None) -> None:
        """Replace a segment atomically; None removes it."""
        path = self._segment(name)
        if data is None:
            if os.path.exists(path):
                os.unlink(path)
                fsync_dir(os.path.dirname(path))
        else:
            write_atomic(path, data, self.root)

    def list_segments(self) -> list[str]:
        return sorted(name[:-5] for name in self._names("archive") if name.endswith(".json") and _SEGMENT.fullmatch(name[:-5]))

    def _names(self, folder: str) -> list[str]:
        """The names in one of the data dir's folders; none when it is missing."""
        try:
            return os.listdir(self._file(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
