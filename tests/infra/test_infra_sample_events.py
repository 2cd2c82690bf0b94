"""Every Lambda function of the template has sample events in events/<short name>/, and the README's
`sam local invoke` table names each function by its template logical id and its short name."""

from __future__ import annotations

import re

from tests.events import EVENTS_DIR
from tests.infra.conftest import STACK_NAME
from tests.infra.synth import REPO_ROOT, Synthesized


def _short_names(synthesized: Synthesized) -> dict[str, str]:
    """logical id -> short name (the function's name without `<stack>-`: what `make invoke FN=` takes)."""
    return {
        logical_id: str(function["Properties"]["FunctionName"]).removeprefix(f"{STACK_NAME}-")
        for logical_id, function in synthesized.of_type("AWS::Lambda::Function").items()
    }


def test_every_function_has_at_least_one_sample_event(synthesized: Synthesized) -> None:
    # Given every function of the synthesized template
    short_names = _short_names(synthesized)
    assert len(short_names) >= 17
    # Then events/<its short name>/ holds at least one JSON sample
    missing = sorted(
        f"{logical_id} (events/{short}/)"
        for logical_id, short in short_names.items()
        if not list((EVENTS_DIR / short).glob("*.json"))
    )
    assert missing == [], f"functions without a sample event: {', '.join(missing)}"
    # And no directory of events/ is for a function the stack does not have
    assert {path.name for path in EVENTS_DIR.iterdir() if path.is_dir()} <= set(short_names.values())


def test_the_readme_names_each_functions_logical_id_short_name_and_samples(synthesized: Synthesized) -> None:
    # Given the README's `sam local invoke` table: | function | `LogicalId` | `short` | samples |
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| [^|]+ \| `(\w+Function)` \| `([\w-]+)` \| ([^|]+) \|$", readme, flags=re.MULTILINE
    )
    documented = {logical_id: (short, samples) for logical_id, short, samples in rows}
    # Then every function of the template is there with its short name
    assert {logical_id: short for logical_id, (short, _) in documented.items()} == _short_names(synthesized)
    # And each row points at its own events directory
    for short, samples in documented.values():
        assert f"`events/{short}/`" in samples, short
