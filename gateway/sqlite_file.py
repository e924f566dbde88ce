"""One SQLite file in WAL mode behind one worker thread that owns its connection: what the
SQLite audit trail and the SQLite user-data store share (the PostgreSQL side is
`gateway/pg.py`).

SQLite's calls block, so they run on the worker thread, never on the event loop; one
thread per file means one connection, used by nobody else. Several processes may open the
same file: writes take the write lock first (`BEGIN IMMEDIATE`), and the "locked" or
"busy" answers SQLite gives at once, without its busy timeout (while another process
switches the file to WAL or recovers its index), are tried again for a few seconds.
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


def patiently(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, tried again while SQLite answers "locked" or "busy"."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn(*args)
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            if not transient or attempt == ATTEMPTS:
                raise
            time.sleep(PAUSE_S)
    raise AssertionError("unreachable")


class SqliteFile:
    """The file at `path`, opened on first use in WAL mode with `pragmas` and `schema`
    (idempotent DDL). `create=False` refuses a missing file instead of starting one."""

    def __init__(
        self,
        path: str | Path,
        schema: str,
        *,
        thread_name: str,
        create: bool = True,
        pragmas: Sequence[str] = (),
    ) -> None:
        self.path = Path(path)
        self._schema = schema
        self._create = create
        self._pragmas = tuple(pragmas)
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)

    def connection(self) -> sqlite3.Connection:
        """The connection, opened on first use. On the worker thread only."""
        if self._conn is None:
            if self._create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            else:
                uri = f"{self.path.resolve().as_uri()}?mode=rw"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                for pragma in self._pragmas:
                    conn.execute(f"PRAGMA {pragma}")
                conn.executescript(self._schema)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` inside one write-locked transaction, rolled back if it raises.
        On the worker thread only."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")  # the write lock before anything is read
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the worker thread, patiently (see the module). Raises what `fn`
        raised, or RuntimeError once closed."""
        if self._closed:
            raise RuntimeError("the SQLite file is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, patiently, fn, *args)

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
