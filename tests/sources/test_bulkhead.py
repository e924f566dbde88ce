"""The bulkhead: a bounded number of calls open to an upstream, a bounded queue behind."""

from __future__ import annotations

import asyncio

import pytest

from sources.bulkhead import Bulkhead, BulkheadFull


async def hold(bulkhead: Bulkhead, release: asyncio.Event, order: list[int], n: int) -> None:
    async with bulkhead:
        order.append(n)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_calls_beyond_the_slots_wait_in_order_and_beyond_the_queue_are_refused() -> None:
    bulkhead = Bulkhead(limit=2, queue=2)
    release = asyncio.Event()
    order: list[int] = []
    tasks = [asyncio.create_task(hold(bulkhead, release, order, n)) for n in range(4)]
    await settle()
    assert (bulkhead.open, bulkhead.waiting, order) == (2, 2, [0, 1])
    with pytest.raises(BulkheadFull):
        await bulkhead.__aenter__()  # a fifth call is refused at once, not queued
    assert (bulkhead.open, bulkhead.waiting) == (2, 2)
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]  # first come, first served
    assert (bulkhead.open, bulkhead.waiting) == (0, 0)


async def test_no_queue_means_a_busy_upstream_is_refused_at_once() -> None:
    bulkhead = Bulkhead(limit=1, queue=0)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(bulkhead, release, [], 0))
    await settle()
    with pytest.raises(BulkheadFull):
        async with bulkhead:
            pass
    release.set()
    await holder
    async with bulkhead:
        assert bulkhead.open == 1


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    bulkhead = Bulkhead(limit=1, queue=1)
    release = asyncio.Event()
    order: list[int] = []
    holder = asyncio.create_task(hold(bulkhead, release, order, 0))
    waiter = asyncio.create_task(hold(bulkhead, release, order, 1))
    await settle()
    assert bulkhead.waiting == 1
    waiter.cancel()
    await settle()
    assert bulkhead.waiting == 0
    late = asyncio.create_task(hold(bulkhead, release, order, 2))  # the queue has room again
    await settle()
    release.set()
    await asyncio.gather(holder, late)
    assert order == [0, 2]
    assert (bulkhead.open, bulkhead.waiting) == (0, 0)


async def test_a_slot_handed_to_a_waiter_cancelled_meanwhile_passes_on() -> None:
    bulkhead = Bulkhead(limit=1, queue=2)
    await bulkhead.__aenter__()
    release = asyncio.Event()
    order: list[int] = []
    first = asyncio.create_task(hold(bulkhead, release, order, 1))
    second = asyncio.create_task(hold(bulkhead, release, order, 2))
    await settle()
    await bulkhead.__aexit__(None, None, None)  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    await settle()
    assert order == [2]  # the slot went on to the next waiter
    release.set()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert (bulkhead.open, bulkhead.waiting) == (0, 0)


def test_a_bulkhead_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="slot"):
        Bulkhead(limit=0, queue=1)
    with pytest.raises(ValueError, match="queue"):
        Bulkhead(limit=1, queue=-1)


async def test_a_holder_and_a_waiter_ending_in_the_same_turn_leave_it_clean() -> None:
    """Calls that share a deadline end together: the holder's slot passes over the
    waiter it finds already cancelled, and the waiter must still leave quietly."""
    bulkhead = Bulkhead(limit=1, queue=2)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(bulkhead, release, [], 0))
    await settle()
    waiter = asyncio.create_task(hold(bulkhead, release, [], 1))
    await settle()
    holder.cancel()
    waiter.cancel()  # the same turn, as two calls timing out at one deadline
    results = await asyncio.gather(holder, waiter, return_exceptions=True)
    assert [type(r) for r in results] == [asyncio.CancelledError, asyncio.CancelledError]
    assert (bulkhead.open, bulkhead.waiting) == (0, 0)
