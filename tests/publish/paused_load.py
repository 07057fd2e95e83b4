"""`python -m tests.publish.paused_load SIGNAL hub-arguments…`: the real `hub` command line, except that its load
stops for good once it has staged its first rows, after writing their count to the file SIGNAL.

The killed-load test waits for SIGNAL instead of sleeping for a guessed time: the load is then provably part
way through staging (neither before it nor applying), and stays there until the test kills it, however busy
the machine. Nothing else changes: the real Loader.stage has run before the pause.

With PAUSE_ARMED=FILE in the environment (long-running processes: `hub worker`, several of them), a load
pauses only when the test has created FILE, and only the first such load of all the processes (the one that
renames FILE away); it writes SIGNAL (its staged rows, host and pid) and waits until the file SIGNAL.release
exists, then goes on as if nothing happened (or, killed meanwhile, never does).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from publish.loads import Loader

PAUSE_SECONDS = 300  # longer than the test waits; then the process ends without loading anything


def _announce(signal: Path, text: str) -> None:
    partial = signal.with_name(signal.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(signal)  # whole or not at all, for the test polling it


def pause_after_staging(signal: Path) -> None:
    """Make every Loader of this process write `signal` and stop after the first batch that staged rows."""
    stage = Loader.stage

    def stage_then_pause(self: Loader, frame: Any, *args: Any) -> int:
        staged = stage(self, frame, *args)
        if self.rows_staged:
            _announce(signal, str(self.rows_staged))
            time.sleep(PAUSE_SECONDS)
            os._exit(3)
        return staged

    Loader.stage = stage_then_pause  # type: ignore[method-assign]


def pause_when_armed(signal: Path, armed: Path) -> None:
    """Make the first Loader to stage rows after `armed` appears pause until SIGNAL.release exists."""
    stage = Loader.stage

    def stage_maybe_pausing(self: Loader, frame: Any, *args: Any) -> int:
        staged = stage(self, frame, *args)
        if not self.rows_staged:
            return staged
        try:
            armed.rename(armed.with_name(armed.name + f".taken-{os.getpid()}"))  # one process wins
        except OSError:
            return staged
        _announce(signal, f"{self.rows_staged} {socket.gethostname()} {os.getpid()} {self.load_id}")
        release = signal.with_name(signal.name + ".release")
        deadline = time.monotonic() + PAUSE_SECONDS
        while not release.exists():
            if time.monotonic() > deadline:
                os._exit(3)
            time.sleep(0.1)
        return staged

    Loader.stage = stage_maybe_pausing  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get("PAUSE_ARMED"):
        pause_when_armed(Path(sys.argv[1]), Path(os.environ["PAUSE_ARMED"]))
    else:
        pause_after_staging(Path(sys.argv[1]))
    from hub.cli import main

    main(sys.argv[2:])
