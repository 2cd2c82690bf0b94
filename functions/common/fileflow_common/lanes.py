"""A file's priority, and the standard lane's semaphore item as the workflow writes it.

The workflow (infra/constructs/pipeline/lanes.py) takes and gives back the slots; the reclaimer
(fileflow_intake.slots) gives back the ones whose executions ended without. Both read this layout; an
infra test pins the two copies together.
"""

from __future__ import annotations

from typing import Final

from fileflow_common.table import PARTITION_KEY, SORT_KEY

MIN_PRIORITY: Final = 1
MAX_PRIORITY: Final = 9
DEFAULT_PRIORITY: Final = 5
URGENT_PRIORITY: Final = 7

LANE_PARTITION: Final = "LANE#standard"
SLOTS_SORT_KEY: Final = "SLOTS"
# The count of slots taken; every other attribute but the keys is a holder (execution name = taken at).
HELD_ATTRIBUTE: Final = "held"
RELEASE_UPDATE: Final = "ADD #held :minus_one REMOVE #holder"
RELEASE_CONDITION: Final = "attribute_exists(#holder)"
NOT_HOLDERS: Final = frozenset({PARTITION_KEY, SORT_KEY, HELD_ATTRIBUTE})


def lane_item_key() -> dict[str, str]:
    return {PARTITION_KEY: LANE_PARTITION, SORT_KEY: SLOTS_SORT_KEY}


def priority_of(value: object) -> int:
    """The priority a stored value stands for: an integer 1-9, else the default."""
    try:
        priority = int(str(value))
    except ValueError:
        return DEFAULT_PRIORITY
    return priority if MIN_PRIORITY <= priority <= MAX_PRIORITY else DEFAULT_PRIORITY
