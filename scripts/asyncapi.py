"""Write (or with `--check`, verify) the AsyncAPI document of each service's FastStream app.

Run from the repository root: `uv run python scripts/asyncapi.py [--check]`. The documents live
in `schemas/asyncapi/` beside the contract they describe.
"""

import json
import sys
from pathlib import Path

from orderpulse_couriers.app import build_app as couriers
from orderpulse_couriers.settings import Settings as CouriersSettings
from orderpulse_notifier.app import build_app as notifier
from orderpulse_notifier.settings import Settings as NotifierSettings
from orderpulse_returns.app import build_app as returns
from orderpulse_returns.settings import Settings as ReturnsSettings
from orderpulse_status_tracker.app import build_app as status_tracker
from orderpulse_status_tracker.settings import Settings as TrackerSettings

OUT = Path(__file__).resolve().parents[1] / "schemas" / "asyncapi"


def documents() -> dict[str, str]:
    """Each service's AsyncAPI 3.0 document as JSON text, built with default settings."""
    apps = {
        "status-tracker": status_tracker(TrackerSettings(database_url="sqlite+aiosqlite://")),
        "notifier": notifier(
            NotifierSettings(
                database_url="sqlite+aiosqlite://",
                shops_file=OUT.parents[1] / "deploy" / "shops.yaml",
            )
        ),
        "returns": returns(
            ReturnsSettings(
                database_url="sqlite+aiosqlite://",
                shops_file=OUT.parents[1] / "deploy" / "shops.yaml",
            )
        ),
        "couriers": couriers(CouriersSettings(database_url="sqlite+aiosqlite://")),
    }
    return {
        name: json.dumps(app.schema.to_specification().to_jsonable(), indent=2, sort_keys=True)
        + "\n"
        for name, app in apps.items()
    }


def main(check: bool) -> int:
    """Write the documents, or report which differ from what is committed."""
    drifted = []
    for name, text in documents().items():
        path = OUT / f"{name}.json"
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                drifted.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
    if drifted:
        print("AsyncAPI documents out of date:", *drifted, sep="\n  ", file=sys.stderr)
        print("Regenerate: uv run python scripts/asyncapi.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv[1:]))
