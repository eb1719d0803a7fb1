"""The shops file as the notifier reads it: a typo stops it rather than switch quiet hours off."""

from pathlib import Path

import pytest
import yaml

from orderpulse_kit.shops_file import ShopsFileError
from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings

from ..conftest import SHOPS_FILE


def test_a_misspelt_messaging_section_stops_the_notifier_at_start_up(tmp_path: Path) -> None:
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shop = shops["shops"]["kvetinac-cz"]
    shop["mesaging"] = shop.pop("messaging")  # once: default channels and no quiet hours
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    settings = Settings(
        shops_file=path, database_url="sqlite+aiosqlite://", outbox_dir=tmp_path / "outbox"
    )
    with pytest.raises(ShopsFileError) as raised:
        build_app(settings)
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: unknown key 'mesaging' (did you mean 'messaging'?)"
    )
