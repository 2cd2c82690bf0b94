"""The circuit breaker's rules, shared by every execution environment through one DynamoDB item.

closed: calls go; each failure that says Claude is unwell adds one, a success resets the count; at
`failures` in a row the circuit opens. open: no call goes until `cooldown` has passed; then one
environment wins a conditional write and becomes the probe (half_open). The probe's success closes the
circuit; its failure opens it again for another cool-down. A probe that never reported (its environment
died) is taken over after a cool-down. No boto3 here: store.py holds the item and its conditional writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Circuit:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    # Epoch seconds: when it opened (open), or when the probe started (half_open).
    since: float = 0.0
    # Bumped by every change of state: the conditional writes' guard.
    version: int = 0


class Admission(StrEnum):
    CALL = "call"
    PROBE = "probe"  # the one call that may close an open circuit (won with a conditional write)
    DENY = "deny"


def admission(circuit: Circuit, now: float, cooldown: float) -> Admission:
    if circuit.state is CircuitState.CLOSED:
        return Admission.CALL
    if now - circuit.since >= cooldown:
        return Admission.PROBE
    return Admission.DENY


class CircuitStore(Protocol):
    def read(self) -> Circuit: ...

    def try_probe(self, seen: Circuit, now: float) -> bool:
        """Move `seen` (open, or a stale half_open) to half_open with this environment as its probe;
        False when another environment changed it first."""
        ...

    def record_failure(self, now: float, threshold: int) -> None:
        """One more failure: opens the circuit at `threshold` in a row, or again after a failed probe."""
        ...

    def record_success(self) -> None:
        """Closes the circuit and resets its count."""
        ...

    def reset(self) -> None: ...


class CircuitBreaker:
    def __init__(self, store: CircuitStore, *, threshold: int, cooldown: float) -> None:
        self._store = store
        self._threshold = threshold
        self._cooldown = cooldown

    def allow(self, now: float) -> bool:
        circuit = self._store.read()
        decided = admission(circuit, now, self._cooldown)
        if decided is Admission.PROBE:
            return self._store.try_probe(circuit, now)
        return decided is Admission.CALL

    def failed(self, now: float) -> None:
        self._store.record_failure(now, self._threshold)

    def succeeded(self) -> None:
        self._store.record_success()
