"""The process's caps: requests using the CPU, and every open request."""

from __future__ import annotations

from gateway.overload import InFlightLimit


def test_a_request_waiting_on_upstreams_does_not_count_against_the_cpu_cap() -> None:
    limit = InFlightLimit(2, open_limit=10)
    first, second = limit.enter(), limit.enter()
    assert first is not None
    assert second is not None
    assert limit.enter() is None  # two using the CPU: full
    first.park()
    first.park()  # two calls of one request in progress: still one waiting request
    assert limit.current == 1
    third = limit.enter()
    assert third is not None  # the waiting request made room
    first.unpark()
    assert limit.current == 2  # one of its calls still in progress
    first.unpark()
    assert limit.current == 3  # back at work: may run past the cap, never refused midway
    assert limit.enter() is None
    for seat in (first, second, third):
        limit.leave(seat)
    assert (limit.current, limit.open) == (0, 0)


def test_every_open_request_counts_against_the_open_cap() -> None:
    limit = InFlightLimit(2, open_limit=3)
    seats = []
    for _ in range(3):
        seat = limit.enter()
        assert seat is not None
        seat.park()  # each waits on an upstream as soon as it is admitted
        seats.append(seat)
    assert limit.current == 0
    assert limit.enter() is None  # waiting requests still hold their memory
    limit.leave(seats[0])
    assert limit.enter() is not None


def test_a_seat_left_while_waiting_stops_counting() -> None:
    limit = InFlightLimit(2, open_limit=4)
    seat = limit.enter()
    assert seat is not None
    seat.park()
    limit.leave(seat)  # the request answered while a call it started still runs
    assert (limit.current, limit.open) == (0, 0)
    seat.unpark()  # that call ends later
    seat.park()
    assert (limit.current, limit.open) == (0, 0)
    limit.leave(seat)  # twice is harmless
    assert (limit.current, limit.open) == (0, 0)


def test_the_open_cap_defaults_to_the_cpu_cap() -> None:
    limit = InFlightLimit(1)
    seat = limit.enter()
    assert seat is not None
    seat.park()
    assert limit.enter() is None


async def test_a_loop_running_late_throughout_refuses_at_the_door() -> None:
    """Requests whose upstreams have answered but that the loop has not resumed yet count
    as waiting: the CPU's backlog shows as the loop running late, and past `max_lag_s`
    (sustained over the last few ticks, not one slow moment) the door refuses."""
    import asyncio
    import time

    limit = InFlightLimit(32, open_limit=1024, max_lag_s=0.05, tick_s=0.01)
    first = limit.enter()  # starts the measuring
    assert first is not None
    limit.leave(first)
    await asyncio.sleep(0.03)
    for _ in range(6):  # a backlog: every tick runs ~0.1 s late
        time.sleep(0.1)  # noqa: ASYNC251 - the point: the loop is kept busy
        await asyncio.sleep(0)
    assert limit.enter() is None
    await asyncio.sleep(0.1)  # the backlog drained: the ticks run on time again
    assert limit.enter() is not None


async def test_one_slow_moment_is_not_a_backlog() -> None:
    import asyncio
    import time

    limit = InFlightLimit(32, open_limit=1024, max_lag_s=0.05, tick_s=0.01)
    seat = limit.enter()
    assert seat is not None
    await asyncio.sleep(0.03)
    time.sleep(0.2)  # noqa: ASYNC251 - one long synchronous step, then on time
    await asyncio.sleep(0)
    assert limit.enter() is not None
