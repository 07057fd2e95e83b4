"""`python -m tests.publish.paused_load SIGNAL hub-arguments…`: the real `hub` command line, except that its load
stops for good once it has staged its first rows, after writing their count to the file SIGNAL.

The killed-load test waits for SIGNAL instead of sleeping for a guessed time: the load is then provably part
way through staging (neither before it nor applying), and stays there until the test kills it, however busy
the machine. Nothing else changes: the real Loader.stage has run before the pause.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from publish.loads import Loader

PAUSE_SECONDS = 300  # longer than the test waits; then the process ends without loading anything


def pause_after_staging(signal: Path) -> None:
    """Make every Loader of this process write `signal` and stop after the first batch that staged rows."""
    stage = Loader.stage

    def stage_then_pause(self: Loader, frame: Any) -> int:
        staged = stage(self, frame)
        if self.rows_staged:
            partial = signal.with_name(signal.name + ".partial")
            partial.write_text(str(self.rows_staged), encoding="utf-8")
            partial.replace(signal)  # whole or not at all, for the test polling it
            time.sleep(PAUSE_SECONDS)
            os._exit(3)
        return staged

    Loader.stage = stage_then_pause  # type: ignore[method-assign]


if __name__ == "__main__":
    pause_after_staging(Path(sys.argv[1]))
    from hub.cli import main

    main(sys.argv[2:])
