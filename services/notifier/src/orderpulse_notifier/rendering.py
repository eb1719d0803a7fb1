"""Templates per locale, kind and channel, with the shop's overrides first.

A missing template or variable is an error, never a silent fallback to another language.
Layout: `templates/<locale>/<kind>/{email_subject.txt, email.html, email.txt, sms.txt}`;
a shop overrides any of them at `<overrides>/<shop id>/<same path>`.

An email's HTML may show a QR code: `<img src="{{ qr(notice.return_code) }}">` makes a PNG and
gives back its `cid:` URL; the picture travels with the email as an inline image.

Every template is read and compiled once, with its CSS inlined then (see `inlining`), and which
template serves a shop's part is looked up once too: all of them as the notifier starts
(`prepare`), so the first messages after a start do not wait for it. So a changed template, or a
shop's override added or changed, takes effect when the notifier restarts.
"""

import hashlib
import io
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import segno
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateRuntimeError,
    meta,
    select_autoescape,
)

from orderpulse_notifier.errors import RenderError
from orderpulse_notifier.formatting import locale_format
from orderpulse_notifier.inlining import INLINER, InliningEnvironment
from orderpulse_notifier.messages import InlineImage
from orderpulse_notifier.shops import Shop
from orderpulse_notifier.stop_links import StopLinks
from orderpulse_schemas.notifications import NotificationRequested

log = logging.getLogger(__name__)

# Kinds whose messages explain how to return, so they need the shop's `returns` policy; the
# later return messages (label, received, refunded, rejected) say nothing the policy decides.
RETURN_POLICY_KINDS = frozenset(
    {"return_instructions", "return_window_closing", "return_requested"}
)
QR_SCALE = 10  # pixels a module: a short code is 290 px, sharp at the 160 px the emails show it
QR_BORDER = 4  # modules of quiet zone, as the QR standard asks, so scanners find the code


class RenderedEmail(NamedTuple):
    """An email's parts; its HTML shows each of `images` as `cid:<cid>`."""

    subject: str
    html: str
    text: str
    images: tuple[InlineImage, ...] = ()


class QrCodes:
    """The templates' `qr(text)`: one email's QR codes, as PNGs the HTML links as `cid:` URLs.

    The id derives from the text, so a retried email carries the same ids and a code shown twice
    travels once.
    """

    def __init__(self) -> None:
        self._images: dict[str, InlineImage] = {}

    def __call__(self, text: object) -> str:
        """The `cid:` URL of the QR code of `text`, for an `<img src>`."""
        if not isinstance(text, str) or not text:
            raise TemplateRuntimeError(f"qr() needs text to encode, not {text!r}")
        image = _qr_code(text)
        self._images[image.cid] = image
        return f"cid:{image.cid}"

    def shown_in(self, html: str) -> tuple[InlineImage, ...]:
        """The images `html` links to (a template may have made one it then did not show)."""
        return tuple(image for cid, image in self._images.items() if f"cid:{cid}" in html)


@lru_cache(maxsize=1024)
def _qr_code(text: str) -> InlineImage:
    """The QR code of `text` as a PNG: drawing one takes ms, and reminders repeat a code."""
    png = io.BytesIO()
    try:
        # Never a Micro QR (segno.make's choice for short text): few scanners read those.
        # Error correction at least M; segno raises it when that costs no extra size.
        code = segno.make_qr(text, error="m")
    except segno.DataOverflowError as error:
        raise TemplateRuntimeError(f"qr(): {error}") from error
    code.save(png, kind="png", scale=QR_SCALE, border=QR_BORDER)
    cid = f"qr-{hashlib.sha256(text.encode()).hexdigest()[:16]}@orderpulse"
    return InlineImage(cid, png.getvalue())


class Renderer:
    """Renders a notification request for a shop into subject, HTML, text and SMS."""

    def __init__(self, overrides: Path | None = None, stop_links: StopLinks | None = None) -> None:
        """`stop_links` make the stop link of review requests (without, the email has none:
        the app never sends one so, see `stop_list.withhold_stopped`)."""
        self._stop_links = stop_links
        packaged = PackageLoader("orderpulse_notifier", "templates")
        # Every part a message may use: `<locale>/<kind>/<part>` (the rest are their layouts).
        self._parts = [name for name in packaged.list_templates() if name.count("/") == 2]
        loaders: list[BaseLoader] = [packaged]
        if overrides is not None:
            loaders.insert(0, PrefixLoader({"shops": FileSystemLoader(overrides)}))
        self._env = InliningEnvironment(
            ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # The template of each (shop, part path), the shop's override or not: a shop without
        # one looks for it on disk once, not for every message.
        self._templates: dict[tuple[str, str], Template] = {}

    def prepare(self, shop_ids: Iterable[str]) -> None:
        """Compile every part each shop may use (about 1 s of CPU for the packaged ones, CSS
        inlining included), instead of in the first polls after a start. A part that does not
        compile is left to fail as a message uses it, as it would without this."""
        loaded: set[str] = set()
        for shop_id in shop_ids:
            for path in self._parts:
                try:
                    self._load_with_parents(self._template(shop_id, path).name or path, loaded)
                except TemplateError as error:
                    log.warning("shop %s, %s: %s", shop_id, path, error.message or error)

    def _load_with_parents(self, name: str, loaded: set[str]) -> None:
        """Load what template `name` extends, includes or imports, as its rendering would."""
        if name in loaded:
            return
        loaded.add(name)
        source, _, _ = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
        for parent in meta.find_referenced_templates(self._env.parse(source)):
            if parent is not None:
                self._load_with_parents(self._env.get_template(parent, name).name or parent, loaded)

    def email(self, request: NotificationRequested, shop: Shop) -> RenderedEmail:
        """Subject, HTML (CSS inlined), plain text and the images the HTML shows.

        Only the HTML gets `qr()`: plain text and SMS cannot show a picture, so they say the code.
        """
        context, qr = _context(request, shop), QrCodes()
        context["stop_url"] = self.stop_url(request)
        subject = " ".join(self._render(request, shop, context, "email_subject.txt").split())
        html = self._render(request, shop, context | {"qr": qr}, "email.html")
        text = self._render(request, shop, context, "email.txt").strip() + "\n"
        return RenderedEmail(subject, html, text, qr.shown_in(html))

    def stop_url(self, request: NotificationRequested) -> str | None:
        """The stop link of a review request (None for other kinds, or without stop links)."""
        customer = request.data.customer
        if request.data.notice.kind != "review_request" or self._stop_links is None:
            return None
        assert customer.email is not None  # an email is only rendered for an address
        return self._stop_links.url(request.shopid, customer.email, customer.locale)

    def sms(self, request: NotificationRequested, shop: Shop) -> str:
        """The SMS body on one line per paragraph, trimmed."""
        return self._render(request, shop, _context(request, shop), "sms.txt").strip()

    def _render(
        self, request: NotificationRequested, shop: Shop, context: dict[str, Any], part: str
    ) -> str:
        data = request.data
        path = f"{data.customer.locale.value}/{data.notice.kind}/{part}"
        if shop.returns is None and data.notice.kind in RETURN_POLICY_KINDS:
            raise RenderError(
                f"{path}: shop {request.shopid!r} has no returns policy (`returns` in the shops "
                f"file), which {data.notice.kind} needs to tell the customer how to return"
            )
        try:
            template = self._template(request.shopid, path)
            output = template.render(context)
            return INLINER.inline(output) if self._env.needs_inliner(template) else output
        except TemplateError as error:
            raise RenderError(f"{path}: {error.message or type(error).__name__}") from error

    def _template(self, shop_id: str, path: str) -> Template:
        key = (shop_id, path)
        if key not in self._templates:
            self._templates[key] = self._env.select_template([f"shops/{shop_id}/{path}", path])
        return self._templates[key]


def _context(request: NotificationRequested, shop: Shop) -> dict[str, Any]:
    """What the parts of a message render from (about 1 µs: the formatting is shared)."""
    data = request.data
    fmt = locale_format(data.customer.locale.value, shop.time_zone)
    return {
        "shop": shop,
        "customer": data.customer,
        "greeting_name": fmt.greeting_name(data.customer.first_name),
        "order_number": data.order_number,
        "status_page": shop.status_page_of(data.order_number, request.subject),
        "notice": data.notice,
        "fmt": fmt,
        "stop_url": None,  # a review request's email gets its stop link (`Renderer.email`)
    }
