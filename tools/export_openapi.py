"""Write the API's OpenAPI document (what GET /openapi.json serves) to docs/openapi.json.

    python -m tools.export_openapi           # regenerate (make openapi)
    python -m tools.export_openapi --check   # exit 1 if the committed copy is stale

A unit test (tests/unit/test_openapi.py) fails while the committed copy differs from the routes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
# The API function's code and the common layer, as the function sees them.
for source in ("functions/common", "functions/api"):
    if str(ROOT / source) not in sys.path:
        sys.path.insert(0, str(ROOT / source))


def openapi_document() -> dict[str, Any]:
    # Imported here, after the path set-up above.
    from fileflow_api.app import openapi_document as routes_document

    return routes_document()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is stale")
    args = parser.parse_args()
    rendered = render(openapi_document())
    if args.check:
        if not OPENAPI_FILE.exists() or OPENAPI_FILE.read_text(encoding="utf-8") != rendered:
            print(f"{OPENAPI_FILE.relative_to(ROOT)} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OPENAPI_FILE.write_text(rendered, encoding="utf-8")
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
