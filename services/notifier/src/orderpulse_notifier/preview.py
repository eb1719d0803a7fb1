"""`python -m orderpulse_notifier.preview`: a shop's messages, rendered into an HTML gallery.

Each kind's example request, in each locale, goes through the notifier's own rendering and SMS
pipeline, and so does its worst case (the example with long names, point names, codes and URLs);
a pickup notice also without its code, as InPost's and Packeta's tracking feeds leave it (issue 17).
Writes `<out>/<case>/<locale>/<kind>.html` (the email's HTML as sent, its inline images such as
QR codes embedded as data: URIs so a browser shows them) and `<out>/index.html`.
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from babel import Locale as BabelLocale
from jinja2 import Environment, StrictUndefined

from orderpulse_notifier.errors import RenderError
from orderpulse_notifier.messages import InlineImage, embed_images
from orderpulse_notifier.rendering import RETURN_POLICY_KINDS, Renderer
from orderpulse_notifier.service import render_sms
from orderpulse_notifier.shops import Shop, load_shops
from orderpulse_notifier.sms import SmsText
from orderpulse_notifier.stop_links import StopLinks
from orderpulse_schemas import examples, notice_models
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.values import Locale

LOCALES = tuple(locale.value for locale in Locale)
CASES = ("example", "worst")
"""The cases every kind is rendered in."""
NO_CODE = "no_code"
"""The case of a pickup notice without its code: the carrier sends the code to the customer."""
PICKUP_KINDS = ("at_pickup_point", "pickup_reminder")
_PACKAGE = files("orderpulse_notifier")
# The worst case's values, by field name (or parent and name) wherever the request has it: long,
# but what a customer, a carrier or a shop could send (the codes at the contract's 40 characters).
_LONG_TEXT = {
    "first_name": "Marie-Antoinette Alžběta Maximiliána",
    "last_name": "Nováková-Dvořáková-Wiśniewska",
    "name": "Z-BOX Praha 10 – Strašnice, Obchodní centrum Europark, parkoviště P2 u vchodu z"
    " ulice Přetlucká (vedle bankomatu), Nákupní-a-zábavní-centrum-Europark-Štěrboholy",
    "items.name": "Samozavlažovací květináč s ukazatelem hladiny vody, antracitový matný, Ø 40 cm"
    " (sada 2 ks s podmiskami), EAN 8595123456789-SADA-XXL-ANTRACIT-MATNY-2KS-PODMISKY",
    "street": "Nábřeží Kapitána Jaroše 1000/7a, vchod z ulice Jana Zajíce",
    "city": "Frenštát pod Radhoštěm-Trojanovice",
    "pickup_code": "ZB-7KQ4-22X9-PL3M-8HQ2-77AA-DF41-C0DE-99",
    "return_code": "RT-7KQ4-22X9-PL3M-8HQ2-77AA-DF41-C0DE-99",
    "tracking_number": "Z30457188554Z30457188554Z30457188554Z30457188554Z3045718855",
    "reason_text": "Zásilka byla uložena na depu Praha-Zličín, protože adresát nebyl zastižen a na"
    " uvedeném telefonním čísle +420601123456 se nepodařilo nikoho zastihnout.",
}
_LONG_QUERY = (
    "?utm_source=orderpulse-notifications&utm_medium=email&utm_campaign=zasilka-na-ceste-2026-11"
    "&session=7f3c9a1e5b2d4c6a8e0f1a3b5c7d9e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f"
)

PREVIEW_STOP_LINKS = StopLinks("https://notify.example.com", b"preview, not a secret", b"salt")
"""Stop links for the gallery's review requests, so each shows its stop link where it stands."""


@dataclass(frozen=True)
class Preview:
    """One kind in one locale: the email and the SMS as the customer gets them."""

    kind: str
    locale: str
    subject: str
    html: str
    text: str
    sms: SmsText
    images: tuple[InlineImage, ...] = ()
    case: str = "example"

    @property
    def path(self) -> str:
        """The email's file, relative to the gallery."""
        return f"{self.case}/{self.locale}/{self.kind}.html"

    @property
    def language(self) -> str:
        """The locale's name in its own language: `čeština`."""
        return str(BabelLocale.parse(self.locale).display_name)

    @property
    def sms_cost(self) -> str:
        """`GSM-7 · 1 segment`, `UCS-2 · 2 segments`."""
        plural = "" if self.sms.segments == 1 else "s"
        return f"{self.sms.encoding} · {self.sms.segments} segment{plural}"


def notice_kinds(shop: Shop) -> list[str]:
    """The kinds the contract defines that `shop` can send (how to return needs its policy).

    From the contract, not the template directories: a kind without templates fails the gallery.
    """
    return sorted(k for k in notice_models() if shop.returns or k not in RETURN_POLICY_KINDS)


def cases_of(kind: str) -> tuple[str, ...]:
    """The cases `kind` is rendered in: every kind's, and a pickup notice's without its code."""
    return (*CASES, NO_CODE) if kind in PICKUP_KINDS else CASES


def example_request(
    kind: str, locale: str, shop_id: str, case: str = "example"
) -> NotificationRequested:
    """The example request of `kind`, for `shop_id`, to a customer who reads `locale`; in the
    worst case, with the long values of `_LONG_TEXT` and every URL long; without a code, with
    no `pickup_code`."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["shopid"] = shop_id
    message["data"]["customer"]["locale"] = locale
    if case == "worst":
        message["data"] = _lengthened(message["data"])
    elif case == NO_CODE:
        del message["data"]["notice"]["pickup_code"]
    return NotificationRequested.model_validate(message)


def _lengthened(value: Any, path: str = "") -> Any:
    """`value` with the worst case's texts; `path` is its parent's field and its own."""
    field = path.rpartition(".")[2]
    if isinstance(value, dict):
        return {key: _lengthened(item, f"{field}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_lengthened(item, path) for item in value]
    if not isinstance(value, str):
        return value
    if field.endswith("url"):
        return value + _LONG_QUERY
    return _LONG_TEXT.get(path, _LONG_TEXT.get(field, value))


def render(
    renderer: Renderer, shop_id: str, shop: Shop, kind: str, locale: str, case: str = "example"
) -> Preview:
    """Render one kind in one locale exactly as the notifier would send it."""
    request = example_request(kind, locale, shop_id, case)
    email = renderer.email(request, shop)
    sms = render_sms(renderer, request, shop)
    return Preview(kind, locale, email.subject, email.html, email.text, sms, email.images, case)


def write_gallery(out: Path, shop_id: str, shop: Shop, previews: Sequence[Preview]) -> Path:
    """Write each email's HTML and the gallery page; return the page's path."""
    sections: dict[str, dict[str, list[Preview]]] = {}  # kind → case → a card per locale
    for preview in previews:
        file = out / preview.path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(embed_images(preview.html, preview.images).encode())
        sections.setdefault(preview.kind, {}).setdefault(preview.case, []).append(preview)
    page = Environment(autoescape=True, undefined=StrictUndefined).from_string(
        (_PACKAGE / "preview.html").read_text(encoding="utf-8")
    )
    index = out / "index.html"
    index.write_text(page.render(shop_id=shop_id, shop=shop, sections=sections), encoding="utf-8")
    return index


def main(argv: Sequence[str] | None = None) -> None:
    """Render every requested kind × locale for one shop and print the gallery's path."""
    parser = argparse.ArgumentParser(
        prog="python -m orderpulse_notifier.preview", description=__doc__
    )
    parser.add_argument("--shops", type=Path, default=Path("deploy/shops.yaml"), help="shops file")
    parser.add_argument("--shop", help="shop id (default: the first in the shops file)")
    parser.add_argument("--out", type=Path, default=Path("var/preview"), help="output directory")
    parser.add_argument("--overrides", type=Path, help="per-shop template overrides directory")
    parser.add_argument("--kind", nargs="+", action="extend", help="kinds (default: all)")
    parser.add_argument("--locale", nargs="+", action="extend", choices=LOCALES)
    args = parser.parse_args(argv)
    try:
        shops = load_shops(args.shops)
        shop_id = args.shop or next(iter(shops), "")
        if shop_id not in shops:
            raise ValueError(f"no shop {shop_id!r} in {args.shops} (there are: {', '.join(shops)})")
        renderer = Renderer(args.overrides, PREVIEW_STOP_LINKS)
        previews = [
            render(renderer, shop_id, shops[shop_id], kind, locale, case)
            for kind in args.kind or notice_kinds(shops[shop_id])
            for case in cases_of(kind)
            for locale in args.locale or LOCALES
        ]
        index = write_gallery(args.out, shop_id, shops[shop_id], previews)
    except (OSError, ValueError, RenderError) as error:
        sys.exit(f"preview: {error}")
    print(index)


if __name__ == "__main__":
    main()
