"""Key memory across batches: the latest earlier row of a repeated key, exactly, whatever the hashes."""

from __future__ import annotations

import random

import numpy as np
import pytest

from validate.keys import KeyMemory, encode_keys


def _expected(batches: list[list[str | None]]) -> list[list[int]]:
    last: dict[str, int] = {}
    out, row = [], 2
    for batch in batches:
        prev = []
        for key in batch:
            prev.append(-1 if key is None else last.get(key, -1))
            if key is not None:
                last[key] = row
            row += 1
        out.append(prev)
    return out


@pytest.mark.parametrize("hash_function", [hash, lambda text: len(text) % 3], ids=["hash", "colliding"])
def test_repeats_name_the_latest_earlier_row_even_when_hashes_collide(hash_function) -> None:  # noqa: ANN001
    rng = random.Random(7)
    words = ["Hòa", "Hoà", "a", "b", "ab", "", "7", "07", "x\x1fy", "đ"]
    batches = [[rng.choice([*words, None]) for _ in range(rng.randint(0, 30))] for _ in range(8)]
    memory = KeyMemory(hash_function=hash_function)
    row, got = 2, []
    for batch in batches:
        keys = np.empty(len(batch), dtype=object)
        keys[:] = batch
        got.append(memory.previous(keys, np.arange(row, row + len(batch))).tolist())
        row += len(batch)
    assert got == _expected(batches)


def test_composite_keys_with_empty_parts_do_not_run_together() -> None:
    left = np.array(["a", "a:", None, "1"], dtype=object)
    right = np.array([":b", "b", "1", None], dtype=object)
    keys = encode_keys([left, right], np.zeros(4, dtype=bool))
    assert len(set(keys.tolist())) == 4
