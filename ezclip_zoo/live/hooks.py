"""Event hooks: a command run per event of a `watch` (``ezclip-zoo watch --on-event CMD``) with the event's JSON
on its standard input, in the background with a timeout, so that a hook never blocks the stream: a hook that fails,
hangs or cannot keep up is logged and counted, never fatal."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["EventHook", "HookStats"]

log = logging.getLogger("ezclip_zoo.live.hooks")


@dataclass
class HookStats:
    """What a hook did: ``submitted`` events, ``ran`` commands that exited 0, ``failed`` (non-zero exit or could
    not start), ``timed_out`` (killed after ``timeout_s``), ``dropped`` (events refused because ``max_pending``
    were already waiting)."""

    submitted: int = 0
    ran: int = 0
    failed: int = 0
    timed_out: int = 0
    dropped: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counters as a dict."""
        return asdict(self)


class EventHook:
    """Runs ``command`` (a shell command line) once per submitted event, the event's JSON on its stdin.

    `submit` only queues the event and returns at once; ``workers`` threads run the commands, each killed after
    ``timeout_s`` seconds. At most ``max_pending`` events wait; beyond that they are dropped (counted). `close`
    waits for the queue to drain (at most ``timeout_s`` per waiting command) and returns the `HookStats`.

    Args:
        command: run with ``/bin/sh -c``; its stdout and stderr are discarded (stderr's tail is logged on failure).
        timeout_s: seconds a run may take before it is killed.
        workers: commands running at once.
        max_pending: events that may wait for a worker.
    """

    def __init__(self, command: str, *, timeout_s: float = 10.0, workers: int = 2, max_pending: int = 64) -> None:
        if not isinstance(command, str) or not command.strip():
            raise ValueError("the event hook needs a command line, got an empty one")
        if not timeout_s > 0:
            raise ValueError(f"the hook's timeout_s must be positive seconds, got {timeout_s!r}")
        self.command, self.timeout_s = command, float(timeout_s)
        self.stats = HookStats()
        self._lock = threading.Lock()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max_pending)
        self._threads = [
            threading.Thread(target=self._work, name=f"ezclip-zoo hook {i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, event: Mapping[str, Any]) -> bool:
        """Queue one event (a JSON-ready dict) for the command; False when it was dropped (the queue is full)."""
        data = (json.dumps(dict(event), ensure_ascii=False) + "\n").encode()
        with self._lock:
            self.stats.submitted += 1
        try:
            self._queue.put_nowait(data)
            return True
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            log.warning(
                "event hook %r cannot keep up: an event was dropped (%d so far)", self.command, self.stats.dropped
            )
            return False

    def close(self) -> HookStats:
        """Let the waiting events run (each within ``timeout_s``), stop the workers, and return the counters."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        return self.stats

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def _work(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            self._run(data)

    def _run(self, data: bytes) -> None:
        try:
            proc = subprocess.Popen(
                self.command,
                shell=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            self._count("failed")
            log.warning("event hook %r could not start: %s", self.command, exc)
            return
        try:
            _, err = proc.communicate(data, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the shell and what it started (its own session)
            proc.communicate()
            self._count("timed_out")
            log.warning("event hook %r took over %g s and was killed", self.command, self.timeout_s)
            return
        if proc.returncode == 0:
            self._count("ran")
        else:
            self._count("failed")
            tail = err.decode(errors="replace").strip()[-300:]
            log.warning("event hook %r exited with %d: %s", self.command, proc.returncode, tail or "(no stderr)")
