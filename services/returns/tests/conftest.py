from pathlib import Path
from zoneinfo import ZoneInfo

from orderpulse_returns.shops import ReturnsPolicy

SHOPS_FILE = Path(__file__).resolve().parents[3] / "deploy" / "shops.yaml"
PRAGUE = ZoneInfo("Europe/Prague")


def policy(**changes: object) -> ReturnsPolicy:
    """A Czech shop's policy: 14 days, drop-off at any carrier's point, no reminder."""
    values: dict[str, object] = {"country": "CZ", "time_zone": PRAGUE, **changes}
    return ReturnsPolicy(**values)  # type: ignore[arg-type]
