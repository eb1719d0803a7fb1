"""Every email, checked against caniemail.com's data by doiuse-email (issue 16).

tools/email-check/check.mjs fails on a feature Outlook (desktop, Mac, phones), Gmail or Apple Mail
lacks, unless it says why that is harmless. It needs node and `npm ci` in tools/email-check
(`scripts/setup.sh --with-postgres`); without them these tests fail rather than skip.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from orderpulse_notifier.preview import (
    CASES,
    LOCALES,
    PICKUP_KINDS,
    cases_of,
    example_request,
    notice_kinds,
)
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_schemas import notice_models

CHECK = Path(__file__).resolve().parents[4] / "tools" / "email-check" / "check.mjs"
SHOP = "kvetinac-cz"


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None or not (CHECK.parent / "node_modules" / "doiuse-email").is_dir():
        pytest.fail("the check needs node and npm ci in tools/email-check: scripts/setup.sh")
    return path


def check(node: str, *emails: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(CHECK), *map(str, emails)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_email_of_every_kind_locale_and_case_passes(
    node: str, shops: dict[str, Shop], tmp_path: Path
) -> None:
    shop, renderer, emails = shops[SHOP], Renderer(), []
    for kind in notice_kinds(shop):
        for locale in LOCALES:
            for case in cases_of(kind):
                email = renderer.email(example_request(kind, locale, SHOP, case), shop)
                emails.append(tmp_path / f"{case}-{locale}-{kind}.html")
                emails[-1].write_text(email.html, encoding="utf-8")
    no_code = len(PICKUP_KINDS) * len(LOCALES)
    assert len(emails) == len(notice_models()) * len(LOCALES) * len(CASES) + no_code
    done = check(node, *emails)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_feature_outlook_lacks_fails_the_check(
    node: str, shops: dict[str, Shop], tmp_path: Path
) -> None:
    html = Renderer().email(example_request("order_dispatched", "cs", SHOP), shops[SHOP]).html
    card = '<td class="card" bgcolor="#ffffff" style="'
    assert html.count(card) == 1
    flex = tmp_path / "flex.html"
    flex.write_text(html.replace(card, f"{card}display: flex;"), encoding="utf-8")
    done = check(node, flex)
    assert done.returncode == 1
    assert f"{flex}: `display:flex` is not supported by `outlook.windows`\n" in done.stderr
