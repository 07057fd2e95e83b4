"""Crash points: a test hook that kills a load's process with SIGKILL at a named stage.

`HUB_CRASH_AT=<stage>` makes the process kill itself (kill -9: no `finally`, no clean-up, no atexit) when its
load reaches that stage, so tests can prove that a crash anywhere leaves the previous version served byte for
byte, the history honest and the next load working (tests/publish/test_crash_stages.py). Unset, as in any
real deployment, a stage costs one comparison with None: the variable is read once, at import.
"""

from __future__ import annotations

import os
import signal

# The stages in the order a load reaches them (publish/pipeline.py, publish/loads.py, `hub ingest`).
STAGES: dict[str, str] = {
    "read": "the first batch of rows read from the file; the load is recorded `running`, nothing staged yet",
    "validated": "the first batch validated, not yet staged",
    "staged": "the first batch written to the load's staging table (in a one-batch file every row; what "
              "follows until `applied`, the report and the quality run, changes nothing in the database)",
    "applied": "the new version written and the load recorded, inside the transaction holding the dataset's "
               "lock, before COMMIT",
    "committed": "the version committed, before the command prints its summary or writes report files",
    "reported": "the report files (`hub ingest --out`) written, before the command exits",
}

_AT = os.environ.get("HUB_CRASH_AT") or None


def crash_point(stage: str) -> None:
    """Kill this process with SIGKILL when HUB_CRASH_AT names `stage`; nothing otherwise."""
    if _AT is None:
        return
    if _AT not in STAGES:  # a mistyped test setting must not look like a load that survived
        raise RuntimeError(f"HUB_CRASH_AT={_AT!r} names no stage; the stages are {', '.join(STAGES)}")
    if stage == _AT:
        os.kill(os.getpid(), signal.SIGKILL)


__all__ = ["STAGES", "crash_point"]
