from html.parser import HTMLParser
from typing import Any

import css_inline
import pytest
from jinja2 import (
    DictLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from orderpulse_notifier.inlining import INLINER, InliningEnvironment
from orderpulse_schemas import notice_models
from orderpulse_schemas.values import Locale

OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "autoescape": select_autoescape(enabled_extensions=("html",), default_for_string=False),
    "trim_blocks": True,
    "lstrip_blocks": True,
}
CSS = """<style>
/* as the shipped layout has them */
body { margin: 0; }
p { margin: 0 0 12px 0; }
.box p { color: #166534; }
.items td { padding: 6px 0; }
.qty { text-align: right; }
.footer > p, #lead { font-size: 13px; }
</style>"""
BASE = f"""<!DOCTYPE html>
<html><head><title>{{% block title %}}{{% endblock %}}</title>
{CSS}
</head>
<body>
{{% block body %}}{{% endblock %}}
<div class="footer">{{% block footer %}}{{% endblock %}}</div>
</body></html>
"""


class _Nodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.nodes.append(("<", tag, sorted(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.nodes.append(("</", tag))

    def handle_data(self, data: str) -> None:
        self.nodes.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.nodes.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.nodes.append(("decl", decl))


def parsed(html: str) -> list[tuple[object, ...]]:
    """`html` as an HTML5 parser builds it, the order of each tag's attributes aside.

    css_inline parses with html5ever, an HTML5 parser like browsers' and mail clients' (it adds
    the `<tbody>` a table implies, writes a no-break space as `&nbsp;`, ...), and writes the tree
    back out; with no `<style>` left it changes nothing else. It writes `class` first among the
    attributes, and their order means nothing in HTML, so they are compared sorted; the
    declarations in a `style` keep their order, which matters.
    """
    nodes = _Nodes()
    nodes.feed(css_inline.CSSInliner(keep_style_tags=False).inline(html))
    nodes.close()
    return nodes.nodes


def rendered(templates: dict[str, str], name: str, context: dict[str, Any]) -> tuple[str, bool]:
    """The HTML as the notifier makes it, and whether it had to inline this email's CSS."""
    environment = InliningEnvironment(DictLoader(templates), **OPTIONS)
    template = environment.get_template(name)
    html = template.render(context)
    per_email = environment.needs_inliner(template)
    return (INLINER.inline(html) if per_email else html), per_email


def inlined_after_rendering(templates: dict[str, str], name: str, context: dict[str, Any]) -> str:
    """The reference: the email rendered as it is written, then its CSS inlined."""
    html = Environment(loader=DictLoader(templates), **OPTIONS).get_template(name).render(context)
    return css_inline.CSSInliner(keep_style_tags=False).inline(html)


LAYOUT = {
    "_base.html": BASE,
    "_layout.html": '{% extends "_base.html" %}\n'
    '{% block footer %}\n<p>Call <a href="tel:{{ phone }}">{{ phone }}</a>.</p>\n{% endblock %}\n',
    "_box.html": '<div class="box">\n<p id="lead">{{ lead }}</p>\n</div>\n',
    "email.html": """{% extends "_layout.html" %}
{% block title %}Order {{ number }}{% endblock %}
{% block body %}
<p>Hello {{ name }},</p>
<table class="items">
{% for item in items %}
<tr><td>{{ item }}</td><td class="qty">1</td></tr>
{% endfor %}
</table>
{% if lead %}
{% include "_box.html" %}
{% else %}
<p class="box">No news.</p>
{% endif %}
{% endblock %}
""",
}


@pytest.mark.parametrize(
    "context",
    [
        {"number": "10045", "name": "<b>Eva</b>", "items": ["A & B", "C"], "lead": "x\xa0y"},
        {"number": "10046", "name": "O'Brien", "items": [], "lead": "", "phone": "+420 1"},
    ],
)
def test_css_inlined_into_the_templates_once_equals_css_inlined_into_each_email(
    context: dict[str, Any],
) -> None:
    context = {"phone": "+420 222 333 444"} | context
    html, per_email = rendered(LAYOUT, "email.html", context)
    assert not per_email, "the probe vouches for these templates"
    assert "<style" not in html and 'style="' in html
    assert parsed(html) == parsed(inlined_after_rendering(LAYOUT, "email.html", context))


SHARED_LEAD = {
    "_base.html": BASE,
    "_lead.html": '<p id="lead">{{ lead }}</p>\n',
    "boxed.html": '{% extends "_base.html" %}{% block body %}<div class="box">'
    '{% include "_lead.html" %}</div>{% endblock %}',
    "bare.html": '{% extends "_base.html" %}{% block body %}{% include "_lead.html" %}'
    "{% endblock %}",
}
"""Two emails including one template, which takes other styles in each."""


def test_a_template_shared_by_two_emails_takes_the_styles_of_each() -> None:
    templates = SHARED_LEAD
    for name in ("boxed.html", "bare.html"):
        html, per_email = rendered(templates, name, {"lead": "Hi"})
        assert not per_email
        assert parsed(html) == parsed(inlined_after_rendering(templates, name, {"lead": "Hi"}))
    assert "#166534" in rendered(templates, "boxed.html", {"lead": "Hi"})[0]
    assert "#166534" not in rendered(templates, "bare.html", {"lead": "Hi"})[0]


def test_emails_whose_copies_come_out_alike_share_them() -> None:
    """What an email extends and includes is compiled once for every email it is styled alike
    in, not once per email."""
    templates = SHARED_LEAD | {
        "titled.html": '{% extends "_base.html" %}{% block title %}Hi{% endblock %}'
        '{% block body %}{% include "_lead.html" %}{% endblock %}',
    }
    environment = InliningEnvironment(DictLoader(templates), **OPTIONS)
    leads = {}
    for name in ("boxed.html", "bare.html", "titled.html"):
        environment.get_template(name)
        leads[name] = environment.get_template("_lead.html", name)

    assert leads["bare.html"] is leads["titled.html"]
    assert leads["boxed.html"] is not leads["bare.html"]  # in a box, a paragraph is green
    html, per_email = rendered(templates, "titled.html", {"lead": "Hi"})
    assert not per_email
    assert parsed(html) == parsed(inlined_after_rendering(templates, "titled.html", {"lead": "Hi"}))


def body(html: str, css: str = CSS) -> dict[str, str]:
    """A document of `css` and `html`, as the template `email.html`."""
    return {"email.html": f"<html><head>{css}</head><body>\n{html}\n</body></html>"}


@pytest.mark.parametrize(
    ("templates", "context"),
    [
        pytest.param(
            body("<p>a</p><p>b</p>", "<style>p:first-child{color:red}</style>"), {}, id="pseudo"
        ),
        pytest.param(body("<p>a</p><p>b</p>", "<style>p + p{color:red}</style>"), {}, id="sibling"),
        pytest.param(body('<a href="x">a</a>', "<style>a[href]{color:red}</style>"), {}, id="[]"),
        pytest.param(body("<p>a</p>", "<style>@media (x){p{color:red}}</style>"), {}, id="@"),
        pytest.param(body('<p class="{{ kind }}">a</p>'), {"kind": "box"}, id="class from data"),
        pytest.param(body('<p style="color: blue">a</p>'), {}, id="a style of its own"),
        pytest.param(
            body(
                '{% if boxed %}<div class="box">{% endif %}<p>a</p>{% if boxed %}</div>{% endif %}'
            ),
            {"boxed": False},
            id="an if that opens what another closes",
        ),
        pytest.param(
            body('<table class="items">{% if x %}<p>a</p>{% endif %}<tr><td>b</td></tr></table>'),
            {"x": True},
            id="a tag the parser moves out of the table",
        ),
        pytest.param(body("<p>{{ name|safe }}</p>"), {"name": "<b>x</b>"}, id="safe"),
        pytest.param(
            body("{% macro box() %}<div class='box'><p>a</p></div>{% endmacro %}{{ box() }}"),
            {},
            id="a macro that writes tags",
        ),
        pytest.param(
            body("{% if x %}" + CSS + "{% endif %}<p>a</p>", ""), {"x": False}, id="style if"
        ),
        pytest.param(
            {"email.html": "<style>body{margin:0}</style><p>no body tag</p>"},
            {},
            id="a style for an element the parser adds",
        ),
        pytest.param(
            {"_p.html": "<p>a</p>"}
            | body('{% include "_p.html" %}<div class="box">{% include "_p.html" %}</div>'),
            {},
            id="a template included where it takes other styles",
        ),
        pytest.param(
            {"_t.txt": "<b>{{ x }}</b>"} | body('<p>{% include "_t.txt" %}</p>'),
            {"x": "<i>y</i>"},
            id="an unescaped template",
        ),
    ],
)
def test_what_the_probe_cannot_vouch_for_is_inlined_per_email(
    templates: dict[str, str], context: dict[str, Any]
) -> None:
    html, per_email = rendered(templates, "email.html", context)
    assert per_email
    assert html == inlined_after_rendering(templates, "email.html", context)


def test_every_shipped_email_template_is_inlined_when_it_loads() -> None:
    """No email the notifier ships needs its CSS inlined per email: that is what costs."""
    environment = InliningEnvironment(PackageLoader("orderpulse_notifier", "templates"), **OPTIONS)
    per_email = [
        path
        for locale in Locale
        for kind in sorted(notice_models())
        if environment.needs_inliner(
            environment.get_template(path := f"{locale.value}/{kind}/email.html")
        )
    ]
    assert per_email == []


def test_missing_templates_are_not_found_as_without_inlining() -> None:
    environment = InliningEnvironment(
        DictLoader({"email.html": '<p>{% include "gone.html" %}</p>'}), **OPTIONS
    )
    with pytest.raises(TemplateNotFound, match=r"nothing\.html"):
        environment.get_template("nothing.html")
    template = environment.get_template("email.html")
    with pytest.raises(TemplateNotFound, match=r"gone\.html"):
        template.render()
