"""The local executor's host capacity (tools/localstack_host capacity.py): at most N invocations of a
function at once, the rest waiting their turn."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from fileflow_localstack_host.capacity import ENV_VAR, HostCapacity, host_concurrency

WAIT = 10.0  # seconds a test waits for a condition before it fails


def test_the_limit_is_four_per_core_unless_set():
    assert host_concurrency({}, cpus=2) == 8
    assert host_concurrency({}, cpus=1) == 4
    assert host_concurrency({ENV_VAR: "3"}, cpus=2) == 3
    assert host_concurrency({ENV_VAR: " "}, cpus=16) == 64


@pytest.mark.parametrize("raw", ["0", "-2", "many", "2.5"])
def test_a_limit_that_is_not_a_positive_integer_is_refused(raw: str):
    with pytest.raises(ValueError, match=f"{ENV_VAR} must be a positive integer, not '{raw}'"):
        host_concurrency({ENV_VAR: raw}, cpus=2)


def _run_holding(
    capacity: HostCapacity, function: str, release: threading.Event, inside: list[str]
) -> Callable[[], None]:
    def run() -> None:
        with capacity.slot(function):
            inside.append(function)
            release.wait(WAIT)
            inside.remove(function)

    return run


def test_no_more_than_the_limit_run_at_once_and_the_next_goes_when_one_ends():
    # Given a limit of 2 and three invocations of one function, each holding its slot until released
    capacity = HostCapacity(2)
    release, inside = threading.Event(), list[str]()
    threads = [threading.Thread(target=_run_holding(capacity, "fn", release, inside)) for _ in range(3)]
    for thread in threads:
        thread.start()
    # Then two are inside and the third waits
    assert _eventually(lambda: len(inside) == 2)
    assert not _eventually(lambda: len(inside) == 3, timeout=0.3)
    # When they are released, all three get through
    release.set()
    for thread in threads:
        thread.join(WAIT)
    assert inside == []
    assert all(not thread.is_alive() for thread in threads)


def test_each_function_has_its_own_slots():
    # Given one function holding every slot
    capacity = HostCapacity(1)
    release, inside = threading.Event(), list[str]()
    holder = threading.Thread(target=_run_holding(capacity, "busy", release, inside))
    holder.start()
    assert _eventually(lambda: inside == ["busy"])
    # Then another function's invocation does not wait for it
    with capacity.slot("other") as waited:
        assert waited < WAIT
    release.set()
    holder.join(WAIT)


def test_the_wait_is_reported():
    # Given the only slot taken
    capacity = HostCapacity(1)
    taken, got = threading.Event(), []
    release = threading.Event()

    def hold() -> None:
        with capacity.slot("fn"):
            taken.set()
            release.wait(WAIT)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(WAIT)

    def wait_for_slot() -> None:
        with capacity.slot("fn") as waited:
            got.append(waited)

    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    # When the holder lets go only after the waiter has been waiting
    assert not _eventually(lambda: bool(got), timeout=0.2)
    release.set()
    waiter.join(WAIT)
    holder.join(WAIT)
    # Then the waiter says it waited at least that long
    assert len(got) == 1
    assert got[0] >= 0.2


def _eventually(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not done.is_set():
            if condition():
                return True
            done.wait(0.01)
        return condition()
    finally:
        deadline.cancel()
