"""Every email's HTML is built as Outlook desktop (Word's renderer) needs it (issue 16).

Word ignores max-width, and padding or backgrounds on divs and links: the layout must be tables
for presentation, with widths, a fixed 600 px column for Outlook only, and buttons whose box is a
table cell.
"""

from html.parser import HTMLParser

import pytest

from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_schemas import notice_models
from orderpulse_schemas.values import Locale

from ..conftest import notification

LOCALES = tuple(locale.value for locale in Locale)
KINDS = sorted(notice_models())
OUTLOOK_COLUMN = (
    '<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0"'
    ' cellspacing="0" border="0"><tr><td><![endif]-->'
)


class Element:
    """A start tag as parsed: its name, attributes, inline style and the open ancestors' names."""

    def __init__(self, name: str, attributes: dict[str, str], ancestors: list["Element"]) -> None:
        self.name, self.attributes, self.ancestors = name, attributes, ancestors
        self.style = {
            key.strip(): value.strip()
            for key, _, value in (
                declaration.partition(":")
                for declaration in attributes.get("style", "").split(";")
                if declaration.strip()
            )
        }


class Elements(HTMLParser):
    """Every element of an email, in document order."""

    VOID = frozenset({"br", "img", "meta", "hr"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.all: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, list(self._open))
        self.all.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop().name != tag:
            pass


def elements(kind: str, locale: str, shop: Shop) -> tuple[str, list[Element]]:
    html = Renderer().email(notification(kind, locale=locale), shop).html
    return html, Elements(html).all


@pytest.mark.parametrize("locale", LOCALES)
def test_every_email_is_laid_out_in_presentation_tables(
    locale: str, shops: dict[str, Shop]
) -> None:
    for kind in KINDS:
        html, found = elements(kind, locale, shops["kvetinac-cz"])
        divs = [e for e in found if e.name == "div"]
        assert [d.attributes.get("class") for d in divs] == ["preheader"], kind
        tables = [e for e in found if e.name == "table"]
        assert tables and all(t.attributes.get("role") == "presentation" for t in tables), kind
        for table in tables:
            if table.attributes["class"] != "button-box":  # as wide as its label
                assert table.attributes.get("width") == "100%", (kind, table.attributes)
            assert table.attributes.get("cellpadding") == "0", (kind, table.attributes)
        [container] = [t for t in tables if t.attributes["class"] == "container"]
        assert container.style["max-width"] == "600px" and container.style["width"] == "100%"
        assert html.count(OUTLOOK_COLUMN) == 1, f"{kind}: Outlook's fixed column"
        assert html.count("<![endif]-->") == 3, "the 96 dpi setting, the column's start and end"


@pytest.mark.parametrize("locale", LOCALES)
def test_boxes_are_table_cells_as_word_pads_and_colours_no_other_block(
    locale: str, shops: dict[str, Shop]
) -> None:
    for kind in KINDS:
        _, found = elements(kind, locale, shops["kvetinac-cz"])
        for element in found:
            padded = any(k.startswith("padding") and v != "0" for k, v in element.style.items())
            if padded and element.name != "td":
                assert element.attributes.get("class") == "button", (kind, element.name)
            if "background" in element.style and element.name in {"td", "table"}:
                assert element.attributes.get("bgcolor") == element.style["background"], kind
            coloured = {"body", "td", "table", "a"}  # the body for clients that keep its style
            assert "background" not in element.style or element.name in coloured, kind


def test_a_button_is_a_coloured_cell_outlook_pads_with_the_whole_link_inside(
    shops: dict[str, Shop],
) -> None:
    buttons = 0
    for locale in LOCALES:
        for kind in KINDS:
            _, found = elements(kind, locale, shops["kvetinac-cz"])
            for link in (e for e in found if e.attributes.get("class") == "button"):
                cell, table = link.ancestors[-1], link.ancestors[-3]
                assert (link.name, cell.name, table.name) == ("a", "td", "table")
                assert cell.attributes["bgcolor"] == link.style["background"]
                assert cell.style["mso-padding-alt"] == link.style["padding"]
                assert link.style["display"] == "inline-block" and link.attributes["href"]
                buttons += 1
    # Tracking, the label, the portal in the instructions and the window closing, the delivery
    # to arrange, the review to write: in each locale.
    assert buttons == 6 * len(LOCALES)
