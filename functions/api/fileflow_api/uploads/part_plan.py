"""How a file is cut into multipart parts, within S3's limits. Pure arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

# S3's multipart limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
S3_MIN_PART_SIZE = 5 * MiB  # every part but the last
S3_MAX_PART_SIZE = 5 * GiB
S3_MAX_PARTS = 10_000
S3_MAX_OBJECT_SIZE = 5 * TiB
S3_MAX_SINGLE_PUT_SIZE = 5 * GiB
# Part sizes are whole MiB: easy to reason about, and aligned for any reader.
PART_SIZE_ALIGNMENT = MiB


@dataclass(frozen=True, slots=True)
class PartPlan:
    size: int
    part_size: int
    part_count: int

    def part_length(self, part_number: int) -> int:
        if not 1 <= part_number <= self.part_count:
            raise ValueError(f"part {part_number} is outside 1..{self.part_count}")
        if part_number < self.part_count:
            return self.part_size
        return self.size - (self.part_count - 1) * self.part_size


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def plan_parts(size: int, *, preferred_part_size: int) -> PartPlan:
    """The smallest whole-MiB part size >= `preferred_part_size` that fits `size` in 10,000 parts.

    Raises ValueError for a size S3 cannot hold as one multipart object (0 or above 5 TiB).
    """
    if not S3_MIN_PART_SIZE <= preferred_part_size <= S3_MAX_PART_SIZE:
        raise ValueError("the preferred part size must be between 5 MiB and 5 GiB")
    if not 0 < size <= S3_MAX_OBJECT_SIZE:
        raise ValueError(f"a multipart upload holds 1 byte to 5 TiB, not {size}")
    needed = -(-size // S3_MAX_PARTS)  # the smallest part size that keeps to 10,000 parts
    part_size = _round_up(max(preferred_part_size, needed), PART_SIZE_ALIGNMENT)
    part_count = -(-size // part_size)
    # 5 TiB / 10,000 rounded up to a MiB is 525 MiB: far below the 5 GiB part limit, within 10,000 parts.
    assert part_size <= S3_MAX_PART_SIZE
    assert part_count <= S3_MAX_PARTS
    return PartPlan(size=size, part_size=part_size, part_count=part_count)
