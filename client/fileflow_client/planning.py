"""Which bytes go in which part, and, on resume, which parts the storage already holds correctly.

Plain logic: no I/O beyond what the caller's `local_checksum` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from fileflow_client.api import HeldPart
from fileflow_client.errors import ProtocolError
from fileflow_client.localfile import SHA256


@dataclass(frozen=True, slots=True)
class PartSpec:
    """Part `number` (1-based) is the file's bytes [offset, offset + size)."""

    number: int
    offset: int
    size: int


def plan_parts(file_size: int, *, part_size: int, part_count: int) -> tuple[PartSpec, ...]:
    """The parts the API planned, checked against the local file's size."""
    if part_size <= 0 or part_count <= 0:
        raise ProtocolError(f"the API planned {part_count} parts of {part_size} bytes")
    expected_count = max(1, -(-file_size // part_size))
    if part_count != expected_count:
        raise ProtocolError(
            f"the API planned {part_count} parts of {part_size} bytes for {file_size} bytes "
            f"(expected {expected_count})"
        )
    return tuple(
        PartSpec(
            number=index + 1, offset=index * part_size, size=min(part_size, file_size - index * part_size)
        )
        for index in range(part_count)
    )


@dataclass(frozen=True, slots=True)
class ResumeDecision:
    """`reusable`: held parts that match the local data; `to_send`: every other planned part."""

    reusable: Mapping[int, HeldPart]
    to_send: tuple[PartSpec, ...]
    # held parts that did not match (size or checksum) and will be sent again
    replaced: tuple[int, ...]


def decide_resume(
    plan: Sequence[PartSpec],
    held: Iterable[HeldPart],
    *,
    local_checksum: Callable[[PartSpec], str],
    algorithm: str = SHA256,
) -> ResumeDecision:
    """Keep a held part only if its size matches the plan and, when the storage lists a
    checksum, that checksum is the local data's; send every other part (again)."""
    held_by_number = {part.part_number: part for part in held}
    reusable: dict[int, HeldPart] = {}
    to_send: list[PartSpec] = []
    replaced: list[int] = []
    for spec in plan:
        part = held_by_number.get(spec.number)
        if part is None:
            to_send.append(spec)
        elif part.size != spec.size or (
            (listed := part.checksum(algorithm)) is not None and listed != local_checksum(spec)
        ):
            to_send.append(spec)
            replaced.append(spec.number)
        else:
            reusable[spec.number] = part
    return ResumeDecision(reusable=reusable, to_send=tuple(to_send), replaced=tuple(replaced))
