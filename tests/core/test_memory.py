"""core.memory.older_objects_frozen: while a load runs, the cycle collector leaves out the objects that
existed before it (a pass over them costs ~0.13 CPU s once Great Expectations is imported), still collects
what the load makes, and leaves the process as it found it."""

from __future__ import annotations

import gc
import weakref

import pytest

from core.memory import older_objects_frozen, release_memory


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_older_objects_are_out_of_the_collections_and_new_cycles_are_still_collected() -> None:
    older = _Node()
    seen: dict[str, object] = {}

    @older_objects_frozen
    def load() -> str:
        seen["frozen"] = gc.get_freeze_count()
        made = _Node()
        gone = weakref.ref(made)
        del made
        release_memory()
        seen["collected"] = gone() is None
        return "done"

    assert gc.get_freeze_count() == 0
    assert load() == "done"
    assert seen["frozen"] and seen["collected"]  # a cycle the load made and dropped went in its own collection
    assert gc.get_freeze_count() == 0  # everything frozen went back
    alive = weakref.ref(older)
    del older
    gc.collect()
    assert alive() is None  # an older object that became garbage goes at the next collection


def test_the_objects_go_back_when_the_call_fails() -> None:
    @older_objects_frozen
    def failing() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        failing()
    assert gc.get_freeze_count() == 0


def test_objects_someone_else_froze_stay_frozen() -> None:
    @older_objects_frozen
    def load() -> int:
        return gc.get_freeze_count()

    gc.freeze()
    try:
        assert load()  # still frozen inside (by the other)
        assert gc.get_freeze_count()  # and after: what the call did not freeze, it does not unfreeze
    finally:
        gc.unfreeze()
