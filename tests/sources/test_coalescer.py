import asyncio
from collections.abc import Sequence

import pytest

from sources.coalescer import Coalescer, batching, loader_options


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def dispatch(self, keys: Sequence[str]) -> list[str | BaseException]:
        self.batches.append(list(keys))
        return [ValueError(k) if k.startswith("bad") else k.upper() for k in keys]


async def test_siblings_at_different_await_depths_share_one_dispatch() -> None:
    recorder = Recorder()
    coalescer: Coalescer[str, str] = Coalescer(recorder.dispatch)

    async def nested(key: str, depth: int) -> str:
        for _ in range(depth):
            await asyncio.sleep(0)
        return await coalescer.load(key)

    results = await asyncio.gather(nested("a", 0), nested("b", 2), nested("c", 4))
    assert list(results) == ["A", "B", "C"]
    assert recorder.batches == [["a", "b", "c"]]


async def test_identical_keys_are_fetched_once_per_coalescer() -> None:
    recorder = Recorder()
    coalescer: Coalescer[str, str] = Coalescer(recorder.dispatch)
    first = await asyncio.gather(coalescer.load("x"), coalescer.load("x"))
    again = await coalescer.load("x")
    assert list(first) == ["X", "X"]
    assert again == "X"
    assert recorder.batches == [["x"]]


async def test_a_later_level_is_a_second_dispatch() -> None:
    recorder = Recorder()
    coalescer: Coalescer[str, str] = Coalescer(recorder.dispatch)
    await coalescer.load("a")
    await asyncio.gather(coalescer.load("b"), coalescer.load("c"))
    assert recorder.batches == [["a"], ["b", "c"]]


async def test_one_failing_key_fails_only_its_waiters() -> None:
    recorder = Recorder()
    coalescer: Coalescer[str, str] = Coalescer(recorder.dispatch)
    good, bad = await asyncio.gather(
        coalescer.load("ok"), coalescer.load("bad1"), return_exceptions=True
    )
    assert good == "OK"
    assert isinstance(bad, ValueError)


async def test_a_failing_dispatch_fails_every_waiter() -> None:
    async def broken(keys: Sequence[str]) -> list[str]:
        raise RuntimeError("upstream down")

    coalescer: Coalescer[str, str] = Coalescer(broken)
    results = await asyncio.gather(coalescer.load("a"), coalescer.load("b"), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_dispatch_returning_too_few_values_is_an_error() -> None:
    async def short(keys: Sequence[str]) -> list[str]:
        return []

    coalescer: Coalescer[str, str] = Coalescer(short)
    with pytest.raises(RuntimeError, match="different number"):
        await coalescer.load("a")


async def test_batching_off_dispatches_every_load_alone_without_sharing() -> None:
    recorder = Recorder()
    with batching(False):
        coalescer: Coalescer[str, str] = Coalescer(recorder.dispatch)
        options = loader_options()
    results = await asyncio.gather(
        coalescer.load("a"), coalescer.load("b"), coalescer.load("a"), return_exceptions=True
    )
    assert list(results) == ["A", "B", "A"]
    assert sorted(recorder.batches) == [["a"], ["a"], ["b"]]
    assert coalescer.dispatches == 3
    bad = await asyncio.gather(coalescer.load("bad"), return_exceptions=True)
    assert isinstance(bad[0], ValueError)
    assert options == {"batch": False, "cache": False}


async def test_batching_switch_is_scoped_to_what_is_built_inside() -> None:
    with batching(False):
        inside: Coalescer[str, str] = Coalescer(Recorder().dispatch)
    recorder = Recorder()
    after: Coalescer[str, str] = Coalescer(recorder.dispatch)
    await asyncio.gather(after.load("a"), after.load("b"), after.load("a"))
    assert not inside.batching
    assert recorder.batches == [["a", "b"]]
    assert loader_options() == {}
