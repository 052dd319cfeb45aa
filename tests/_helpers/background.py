"""Commands whose result a slow test checks but whose running it does not watch (training runs, a benchmark's quick
mode), started at the end of collection and run beside the rest of the suite, at the lowest CPU priority, on every
core the suite leaves idle.

A test names each command with the ``background(name, command)`` marker (``command``: an argv list in which
``{out}`` stands for the job's own empty folder); the ``background`` fixture is the `Background` running them, whose
``folder(name)`` is that folder once the command has exited 0 and ``output(name)`` what it printed. Such tests run
last (tests/conftest.py), so the suite's wall time is about the longer of the two, not their sum: the suite is
CPU-bound on 2 cores, and its many waits (streams paced in real time, servers, browsers) leave the cores to these
commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .paths import REPO_ROOT


def background_jobs(items) -> dict[str, list[str]]:
    """{name: command} of the ``background`` markers of ``items``, in the order of the tests that need them."""
    jobs: dict[str, list[str]] = {}
    for item in items:
        for mark in item.iter_markers("background"):
            name, command = mark.args[0], list(mark.args[1])
            if jobs.setdefault(name, command) != command:
                raise ValueError(f"two tests name background job {name!r} with different commands")
    return jobs


class Background:
    """``jobs`` run ``workers`` at a time from now, at nice 19 where ``nice`` exists: every test in the foreground
    comes first, and a job takes the cycles left (its result does not depend on speed). `stop` kills what still runs
    and removes the folders."""

    def __init__(self, jobs: dict[str, list[str]], workers: int | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ezclip-background-"))
        self._queue = list(jobs.items())
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen] = []
        self._done = {name: threading.Event() for name in jobs}
        self._errors: dict[str, str] = {}
        self._stopped = False
        self._started = time.monotonic()
        self._seconds: dict[str, float] = {}  # name -> how long its command ran
        self._last_end = 0.0  # when the last job ended, in seconds since the jobs started
        self.waited = 0.0  # seconds that tests spent waiting for a job
        workers = workers or os.cpu_count() or 1
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        env["OMP_NUM_THREADS"] = "1"  # one thread a job: the results of float32 training depend on the thread count
        while True:
            with self._lock:
                if not self._queue or self._stopped:
                    return
                name, command = self._queue.pop(0)
                out = self.root / name
                out.mkdir()
                argv = [part.replace("{out}", str(out)) for part in command]
                if shutil.which("nice"):
                    argv = ["nice", "-n", "19", *argv]
                with self._log(name).open("wb") as log:
                    proc = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
                self._procs.append(proc)
            begun = time.monotonic()
            if proc.wait() != 0:
                self._errors[name] = self.output(name)[-4000:]
            self._seconds[name] = time.monotonic() - begun
            self._last_end = max(self._last_end, time.monotonic() - self._started)
            self._done[name].set()

    def _log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def output(self, name: str) -> str:
        """What job ``name``'s command printed (standard output and error), so far."""
        return self._log(name).read_text(errors="replace")

    def folder(self, name: str, timeout: float = 1800.0) -> Path:
        """The folder of job ``name`` once its command has exited 0 (an assertion error with its output if not)."""
        assert name in self._done, f"no test marked background job {name!r}"
        begun = time.monotonic()
        done = self._done[name].wait(timeout)
        self.waited += time.monotonic() - begun
        assert done, f"background job {name!r}: not done after {timeout} s"
        assert name not in self._errors, f"background job {name!r} failed:\n{self._errors[name]}"
        return self.root / name

    def summary(self) -> str:
        """One line: how many jobs ran for how long, when the last ended, and how long tests waited for them."""
        return (
            f"background jobs: {len(self._seconds)} of {len(self._done)} ran, {sum(self._seconds.values()):.0f} s in "
            f"all; the last ended {self._last_end:.0f} s after collection; tests waited {self.waited:.0f} s for them"
        )

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
        for thread in self._threads:
            thread.join(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
