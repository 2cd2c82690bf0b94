"""The SDK's retry policy: capped exponential backoff with full jitter."""

import pytest

from fileflow_client.errors import ServerError
from fileflow_client.retry import Retryable, RetryPolicy, call_with_retries


def test_delays_grow_exponentially_up_to_the_cap():
    # Given the largest jitter draw / Then each wait doubles until the cap
    policy = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_spreads_the_wait_below_the_ceiling():
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    assert policy.delay(3, rng=lambda: 0.25) == 1.0  # a quarter of 4 s


def test_a_retryable_failure_is_tried_again_until_it_succeeds():
    attempts: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise Retryable(ServerError(503, "ServiceUnavailable", "busy"))
        return "ok"

    result = call_with_retries(flaky, RetryPolicy(base_delay=1.0), sleep=waits.append, rng=lambda: 1.0)
    assert result == "ok"
    assert waits == [1.0, 2.0]


def test_after_the_last_attempt_the_typed_error_is_raised():
    error = ServerError(500, "InternalError", "broken")
    calls: list[int] = []

    def always_failing() -> None:
        calls.append(1)
        raise Retryable(error)

    with pytest.raises(ServerError) as raised:
        call_with_retries(always_failing, RetryPolicy(max_attempts=4), sleep=lambda _: None)
    assert raised.value is error
    assert len(calls) == 4


def test_a_non_retryable_error_is_raised_at_once():
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        call_with_retries(refused, RetryPolicy(), sleep=lambda _: None)
    assert len(calls) == 1


def test_retry_after_is_waited_out_up_to_its_own_ceiling():
    waits: list[float] = []
    attempts: list[int] = []

    def throttled() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise Retryable(ServerError(503, "SlowDown", "slow down"), retry_after=3.0)
        if len(attempts) == 2:
            raise Retryable(ServerError(503, "SlowDown", "slow down"), retry_after=60.0)
        return "ok"

    policy = RetryPolicy(base_delay=0.1, max_delay=1.0, max_retry_after=30.0)
    call_with_retries(throttled, policy, sleep=waits.append, rng=lambda: 0.0)
    # the server's wait beyond our backoff ceiling, but not beyond max_retry_after
    assert waits == [3.0, 30.0]


def test_a_policy_needs_one_attempt_at_least():
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
