"""What an ingest's columnar batches held goes back to the system, so the steps after them (quality suite,
commit) do not stack on top of it in the process's resident size (issue 21's peak memory)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from core.memory import release_memory
from publish.context import Hub
from tests.publish.conftest import SAMPLES, ingest


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.parametrize("backend", ["spatialite"])
def test_arrow_memory_of_freed_batches_is_given_back_after_an_ingest(hub: Hub) -> None:
    assert ingest(hub, "admin-units", SAMPLES / "admin-units.geojson").status == "committed"
    release_memory()
    before = _resident_mb()
    batches = []
    for _ in range(150):  # 150 MB of Arrow buffers, written to (resident), as a big file's batches are
        buffer = pa.allocate_buffer(1 << 20)
        np.frombuffer(buffer, dtype=np.uint8)[:] = 1
        batches.append(buffer)
    assert _resident_mb() > before + 100
    del batches, buffer
    release_memory()
    assert _resident_mb() < before + 30
