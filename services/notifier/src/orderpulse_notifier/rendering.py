"""Templates per locale, kind and channel, with the shop's overrides first.

A missing template or variable is an error, never a silent fallback to another language.
Layout: `templates/<locale>/<kind>/{email_subject.txt, email.html, email.txt, sms.txt}`;
a shop overrides any of them at `<overrides>/<shop id>/<same path>`.
"""

from pathlib import Path
from typing import Any

import css_inline
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from orderpulse_notifier.errors import RenderError
from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_notifier.shops import Shop
from orderpulse_schemas.notifications import NotificationRequested

_INLINER = css_inline.CSSInliner(keep_style_tags=False)


class Renderer:
    """Renders a notification request for a shop into subject, HTML, text and SMS."""

    def __init__(self, overrides: Path | None = None) -> None:
        loaders: list[BaseLoader] = [PackageLoader("orderpulse_notifier", "templates")]
        if overrides is not None:
            loaders.insert(0, PrefixLoader({"shops": FileSystemLoader(overrides)}))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def email(self, request: NotificationRequested, shop: Shop) -> tuple[str, str, str]:
        """Subject, HTML (CSS inlined) and plain text."""
        subject = " ".join(self._render(request, shop, "email_subject.txt").split())
        html = _INLINER.inline(self._render(request, shop, "email.html"))
        return subject, html, self._render(request, shop, "email.txt").strip() + "\n"

    def sms(self, request: NotificationRequested, shop: Shop) -> str:
        """The SMS body on one line per paragraph, trimmed."""
        return self._render(request, shop, "sms.txt").strip()

    def _render(self, request: NotificationRequested, shop: Shop, part: str) -> str:
        data = request.data
        path = f"{data.customer.locale.value}/{data.notice.kind}/{part}"
        try:
            template = self._env.select_template([f"shops/{request.shopid}/{path}", path])
            return template.render(_context(request, shop))
        except TemplateError as error:
            raise RenderError(f"{path}: {error.message or type(error).__name__}") from error


def _context(request: NotificationRequested, shop: Shop) -> dict[str, Any]:
    data = request.data
    fmt = LocaleFormat(data.customer.locale.value, shop.time_zone)
    return {
        "shop": shop,
        "customer": data.customer,
        "greeting_name": fmt.greeting_name(data.customer.first_name),
        "order_number": data.order_number,
        "notice": data.notice,
        "fmt": fmt,
    }
