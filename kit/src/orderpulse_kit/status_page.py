"""A shop's order status page: a URL template in the shops file, filled in for each order.

`https://shop.cz/objednavka/{order_number}` takes two placeholders: `{order_number}` (as the
customer sees it) and `{order_id}` (the events' `subject`). Each value is URL-quoted as it is
filled in, so an order number like `2026/10045` stays one path segment and `#` or `?` in it
cannot cut the URL short. A template is checked as the services start: an unknown placeholder is
a typo, and a typo would send every customer to a page that does not exist.
"""

import difflib
from string import Formatter
from typing import Annotated
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, HttpUrl, TypeAdapter, ValidationError

PLACEHOLDERS = ("order_number", "order_id")
_KNOWN = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
_EXAMPLE = "e.g. https://shop.cz/objednavka/{order_number}"
_URL = TypeAdapter(HttpUrl)


def fill(template: str, *, order_number: str, order_id: str) -> str:
    """The page of one order: the template with each placeholder's value URL-quoted."""
    return template.format(
        order_number=quote(order_number, safe=""), order_id=quote(order_id, safe="")
    )


def _checked(template: str) -> str:
    try:
        fields = [field[1:] for field in Formatter().parse(template) if field[1] is not None]
    except ValueError as error:  # a lone `{` or `}`
        raise ValueError(f"not a URL template: {error} ({_EXAMPLE})") from None
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name or "", PLACEHOLDERS, n=1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            raise ValueError(f"unknown placeholder {{{name}}}{hint}; known: {_KNOWN}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} takes no format ({_EXAMPLE})")
    parts = urlsplit(template)
    if parts.scheme != "https" or "{" in parts.netloc:
        raise ValueError(f"must be an https URL with its host written out ({_EXAMPLE})")
    try:
        _URL.validate_python(fill(template, order_number="10045", order_id="ord-10045"))
    except ValidationError as error:
        raise ValueError(f"not a URL: {error.errors()[0]['msg']} ({_EXAMPLE})") from None
    return template


StatusPage = Annotated[str, AfterValidator(_checked)]
"""A status page's URL template, checked: known placeholders only, https, the host written out."""
