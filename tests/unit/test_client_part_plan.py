"""The client's part layout pinned to the server's: the client ships apart, so its copy must not drift."""

import random

import pytest

from fileflow_api.uploads.part_plan import (
    S3_MAX_OBJECT_SIZE,
    S3_MAX_PART_SIZE,
    S3_MAX_PARTS,
    S3_MIN_PART_SIZE,
    GiB,
    MiB,
    TiB,
)
from fileflow_api.uploads.part_plan import plan_parts as server_plan
from fileflow_client.errors import ProtocolError
from fileflow_client.planning import plan_parts as client_plan

PREFERRED_PART_SIZES = [S3_MIN_PART_SIZE, 8 * MiB, 64 * MiB, S3_MAX_PART_SIZE]
EDGE_SIZES = [
    1,
    S3_MIN_PART_SIZE - 1,
    S3_MIN_PART_SIZE,
    S3_MIN_PART_SIZE + 1,
    8 * MiB - 1,
    8 * MiB,
    8 * MiB + 1,
    GiB,
    S3_MAX_PARTS * S3_MIN_PART_SIZE - 1,
    S3_MAX_PARTS * S3_MIN_PART_SIZE,
    S3_MAX_PARTS * S3_MIN_PART_SIZE + 1,
    S3_MAX_PARTS * 8 * MiB,
    S3_MAX_PARTS * 8 * MiB + 1,
    TiB,
    S3_MAX_OBJECT_SIZE - 1,
    S3_MAX_OBJECT_SIZE,
]
RANDOM_SIZES = random.Random(20261201).sample(range(1, S3_MAX_OBJECT_SIZE + 1), 200)


def assert_client_lays_out_the_server_plan(size: int, preferred: int) -> None:
    # Given the plan the server hands out for this size
    plan = server_plan(size, preferred_part_size=preferred)
    # When the client lays the file out from it
    parts = client_plan(size, part_size=plan.part_size, part_count=plan.part_count)
    # Then every part is the server's: same number, offset and length, the file covered exactly once
    assert [part.number for part in parts] == list(range(1, plan.part_count + 1))
    assert [part.offset for part in parts] == [index * plan.part_size for index in range(plan.part_count)]
    assert [part.size for part in parts] == [plan.part_length(n) for n in range(1, plan.part_count + 1)]
    assert sum(part.size for part in parts) == size
    # And a part count the server would never plan for this size is refused, not silently used
    for wrong_count in (plan.part_count - 1, plan.part_count + 1):
        if wrong_count >= 1:
            with pytest.raises(ProtocolError):
                client_plan(size, part_size=plan.part_size, part_count=wrong_count)


@pytest.mark.parametrize("preferred", PREFERRED_PART_SIZES, ids=lambda value: f"{value // MiB}MiB-parts")
@pytest.mark.parametrize("size", EDGE_SIZES, ids=str)
def test_client_agrees_with_the_server_at_the_edges(size: int, preferred: int) -> None:
    assert_client_lays_out_the_server_plan(size, preferred)


@pytest.mark.parametrize("size", RANDOM_SIZES, ids=str)
def test_client_agrees_with_the_server_across_the_range(size: int) -> None:
    assert_client_lays_out_the_server_plan(size, 8 * MiB)


def test_an_empty_file_is_never_planned_in_parts() -> None:
    # Given an empty file / Then the server plans no multipart upload (it is one presigned PUT)
    with pytest.raises(ValueError, match="1 byte to 5 TiB"):
        server_plan(0, preferred_part_size=8 * MiB)
    # And the client, given one part for it, sends one empty part
    [part] = client_plan(0, part_size=8 * MiB, part_count=1)
    assert (part.number, part.offset, part.size) == (1, 0, 0)


def test_the_largest_object_takes_the_most_parts_both_sides_allow() -> None:
    plan = server_plan(S3_MAX_OBJECT_SIZE, preferred_part_size=S3_MIN_PART_SIZE)
    assert plan.part_count <= S3_MAX_PARTS
    assert len(client_plan(S3_MAX_OBJECT_SIZE, part_size=plan.part_size, part_count=plan.part_count)) == (
        plan.part_count
    )
