"""One SQLite file in WAL mode behind one worker thread that owns its connection: what the
SQLite audit trail and the SQLite user-data store share (the PostgreSQL side is
`sources/pg.py`).

SQLite's calls block, so they run on the worker thread, never on the event loop; one
thread per file means one connection, used by nobody else. Several processes may open the
same file: writes take the write lock first (`BEGIN IMMEDIATE`).

Every call has a deadline (`timeout_s` after it was asked). SQLite's busy timeout is set
to what remains of it before each attempt, and the "locked" or "busy" answers SQLite
gives at once, without its busy timeout (while another process switches the file to WAL
or recovers its index), are tried again until then. A file another process keeps
write-locked therefore costs each call its deadline, never more, and the thread is free
for the next call when the deadline passes; nothing is left half-done (a transaction that
fails is rolled back).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ATTEMPTS = 250
PAUSE_S = 0.02  # x ATTEMPTS: five seconds at most
DEFAULT_TIMEOUT_S = 10.0
# How much longer than its deadline the event loop waits for a call the thread is
# already running: SQLite gives up by the deadline itself; this only bounds a call that
# does not (a disk that stalls), whose outcome is then unknown to the caller.
GRACE_S = 0.25

Setup = Callable[[sqlite3.Connection], None]


def _transient(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def patiently(fn: Callable[..., T], *args: Any, deadline: float | None = None) -> T:
    """`fn(*args)`, tried again while SQLite answers "locked" or "busy", at most
    `ATTEMPTS` times and, when given, until `deadline` (`time.monotonic()`)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn(*args)
        except sqlite3.OperationalError as exc:
            late = deadline is not None and time.monotonic() + PAUSE_S >= deadline
            if not _transient(exc) or attempt == ATTEMPTS or late:
                raise
            time.sleep(PAUSE_S)
    raise AssertionError("unreachable")


class SqliteFile:
    """The file at `path`, opened on first use in WAL mode with `pragmas` and `schema`
    (idempotent DDL, or a function of the connection that brings the schema up to date).

    `create=False` refuses a missing file instead of starting one. `read_only=True`
    opens it with `mode=ro` and runs neither DDL nor pragmas that write: what reads a
    trail to check it must not change it. `timeout_s` is every call's deadline.
    """

    def __init__(
        self,
        path: str | Path,
        schema: str | Setup,
        *,
        thread_name: str,
        create: bool = True,
        read_only: bool = False,
        pragmas: Sequence[str] = (),
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.path = Path(path)
        self._schema = schema
        self._create = create and not read_only
        self._read_only = read_only
        self._pragmas = tuple(pragmas)
        self.timeout_s = timeout_s
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._deadline = 0.0  # of the call on the worker thread
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)

    def _remaining(self) -> float:
        """Seconds left of the current call's deadline; TimeoutError when none are."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the SQLite file did not answer before the deadline")
        return remaining

    def connection(self) -> sqlite3.Connection:
        """The connection, opened on first use. On the worker thread only."""
        if self._conn is None:
            busy_s = self._remaining()
            if self._create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=busy_s)
            else:
                mode = "ro" if self._read_only else "rw"
                if self._read_only and not self._in_use():
                    # nobody writes it: read it as it lies, creating no WAL side files
                    # (they would belong to the reader and could lock the gateway out)
                    mode += "&immutable=1"
                uri = f"{self.path.resolve().as_uri()}?mode={mode}"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_s)
            try:
                if self._read_only:
                    conn.execute("PRAGMA query_only=ON")
                else:
                    conn.execute("PRAGMA journal_mode=WAL")
                    for pragma in self._pragmas:
                        conn.execute(f"PRAGMA {pragma}")
                    if callable(self._schema):
                        self._schema(conn)
                    else:
                        conn.executescript(self._schema)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _in_use(self) -> bool:
        """True when a writer may have the file open: its WAL side files exist."""
        return any(Path(f"{self.path}{suffix}").exists() for suffix in ("-wal", "-shm"))

    def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` inside one write-locked transaction, rolled back if it raises.
        A lock obtained only after the call's deadline is given back unused (TimeoutError):
        whoever asked has stopped waiting. On the worker thread only."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")  # the write lock before anything is read
        try:
            self._remaining()
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def _attempt(self, fn: Callable[..., T], *args: Any) -> T:
        """One try of `fn(*args)` with SQLite's busy timeout set to the time that is left."""
        remaining = self._remaining()
        if self._conn is not None:
            self._conn.execute(f"PRAGMA busy_timeout={max(1, int(remaining * 1000))}")
        return fn(*args)

    def _call(self, deadline: float, fn: Callable[..., T], *args: Any) -> T:
        """On the worker thread: `fn(*args)` patiently, by `deadline`."""
        self._deadline = deadline
        result: T = patiently(self._attempt, fn, *args, deadline=deadline)
        return result

    async def run(self, fn: Callable[..., T], *args: Any, deadline: float | None = None) -> T:
        """`fn(*args)` on the worker thread, patiently (see the module), by `deadline`
        (`time.monotonic()`; default `timeout_s` from now). Raises what `fn` raised,
        TimeoutError once the deadline has passed, or RuntimeError once closed."""
        if self._closed:
            raise RuntimeError("the SQLite file is closed")
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.run_in_executor(
            self._thread, self._call, deadline, fn, *args
        )
        future.add_done_callback(_consume)
        try:
            async with asyncio.timeout(deadline - time.monotonic() + GRACE_S):
                return await asyncio.shield(future)
        except TimeoutError:
            raise TimeoutError("the SQLite file did not answer before the deadline") from None

    async def aclose(self) -> None:
        """Close the connection and stop the worker thread; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_sync)
        finally:
            self._thread.shutdown(wait=False)

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a call its caller stopped waiting for."""
    if not future.cancelled():
        future.exception()
