"""Email HTML templates with their CSS inlined once, when they load, not into every email.

Mail clients ignore `<style>`, so every element needs its CSS in a `style` attribute. css_inline
does that to rendered HTML for tens of µs an email; here it runs once per email template, on a
probe: the template with all it extends and includes composed in, every start tag marked, each
expression a placeholder and every branch of each `if` and `for` kept. The `style` css_inline gives
each marked element is written into the template's own text, and the `<style>` elements go.

That equals inlining each rendered email only where an element's CSS is fixed by the template, so
a template gets it only when its probe shows that (else `needs_inliner()`, and each email is
inlined):
- selectors of element names, classes and ids with descendant or child combinators, in static
  `<style>` elements; no `<link>`, no pseudo-class, attribute or sibling selector, no at-rule;
- no expression in a tag but inside quoted values, none in `class` or `id`; no `style` attribute;
- every `if` and `for` body closes what it opens and no more, so whatever runs, each element has
  the ancestors it has in the probe; and the HTML5 parser nests the probe's tags as they are
  written (it moved nothing, e.g. out of a table), and styles no element it adds (`<tbody>`);
- no output that could be markup: autoescaping on, no `|safe`, `super()`, `caller()` or macros
  that write tags.

Each email template (a root) gets its own copy of what it extends and includes, as a layout may
take other styles under another root; roots whose copies come out alike share them (named by a
digest of their text): the 76 packaged emails need 20 copies of the layout, not 76 (3.4 of the
8.2 MiB their compiled code took, a quarter of the CPU of compiling). The copies stay loaded
(`cache_size=-1`: bounded by the template files), and a template is read once
(`auto_reload=False`).
"""

import hashlib
import html
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from html.parser import HTMLParser
from types import CodeType
from typing import Any

import css_inline
from jinja2 import BaseLoader, Environment, Template, TemplateError, nodes

# Per email, for a root the probe cannot vouch for (and the tests' reference).
INLINER = css_inline.CSSInliner(keep_style_tags=False)

_SEP = "\x1f"  # between a root's name and the name of a template it is made of
_VALUE = "\ue000"  # an expression's output, in the probe
_MARK = "data-inlining-mark"
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "meta", "param"}
    | {"source", "track", "wbr"}
)
_RAW = frozenset({"style", "script"})  # their text is no HTML
_RCDATA = frozenset({"title", "textarea"})  # text, expressions welcome, but no tags
# Stylesheets, and elements the HTML5 parser reads by other rules.
_REFUSED = frozenset(
    {"link", "svg", "math", "template", "xmp", "iframe", "noembed", "noframes", "noscript"}
    | {"plaintext"}
)
_START = re.compile(r"<([A-Za-z][^\s/>]*)")
_END = re.compile(r"</([A-Za-z][^\s/>]*)[^>]*>")
_TAG_STOP = re.compile(r"[\"'>]")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
_CSS_RULE = re.compile(r"\s*[\w\s.#*>,-]+\{[^{}]*\}\s*")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


class InliningEnvironment(Environment):
    """A Jinja environment whose `.html` templates come with their CSS inlined where provable."""

    def __init__(self, loader: BaseLoader, **options: Any) -> None:
        self._inlining = _Loader(loader)
        super().__init__(loader=self._inlining, auto_reload=False, cache_size=-1, **options)

    def join_path(self, template: str, parent: str) -> str:
        """The HTML an email template extends, includes or imports is its root's copy of it."""
        prefix, copied, _ = parent.partition(_SEP)
        if not _is_html(template) or not (copied or _is_html(parent)):
            return template
        return f"{prefix if copied else self._inlining.copies_of(parent)}{_SEP}{template}"

    def needs_inliner(self, template: Template) -> bool:
        """Whether `template`'s output needs `INLINER`: HTML the probe could not vouch for."""
        name = template.name or ""
        return _is_html(name) and self._inlining.roots.get(name) is None


class _Unprovable(Exception):
    """The probe cannot show that inlining the template equals inlining each email."""


class _Loader(BaseLoader):
    """Loads an email template, and the copies of the HTML it extends and includes."""

    def __init__(self, loader: BaseLoader) -> None:
        self._loader = loader
        self.roots: dict[str, CodeType | None] = {}  # each root's code; None: not inlined
        self._prefixes: dict[str, str] = {}  # each root's copies' prefix: shared, or its name
        self._copies: dict[str, CodeType] = {}  # by `prefix<_SEP>name`

    def copies_of(self, root: str) -> str:
        """The prefix of the names of `root`'s copies."""
        return self._prefixes.get(root, root)

    def get_source(self, environment: Environment, name: str) -> tuple[str, str | None, Any]:
        return self._loader.get_source(environment, name.rpartition(_SEP)[2])

    def load(
        self,
        environment: Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        prefix, _, template = name.rpartition(_SEP)
        if not _is_html(template):
            return super().load(environment, name, globals)
        _, _, uptodate = self.get_source(environment, name)  # a missing one: TemplateNotFound
        if not prefix and name not in self.roots:
            self._inline(environment, name)
        code = self._copies.get(name) if prefix else self.roots[name]
        if code is None:
            return super().load(environment, name, globals)
        return environment.template_class.from_code(environment, code, globals or {}, uptodate)

    def _inline(self, environment: Environment, root: str) -> None:
        try:
            self.roots[root], self._prefixes[root] = _Inlining(
                environment, self._loader, root
            ).compile(self._copies)
        except (_Unprovable, TemplateError, css_inline.InlineError):
            # Inlined per email instead; an error shows as the template renders.
            self.roots[root] = None


class _Inlining:
    """One root's probe, and the root's templates with what it tells written into them."""

    def __init__(self, environment: Environment, loader: BaseLoader, root: str) -> None:
        self._environment, self._loader, self._root = environment, loader, root
        self._trees: dict[str, tuple[nodes.Template, str | None, str]] = {}  # tree, file, source
        self._probe = _Probe()
        self._probing: set[str] = set()  # the templates being probed, for one including itself

    def compile(self, copies: dict[str, CodeType]) -> tuple[CodeType, str]:
        """The root's code, and the prefix of its copies' names, compiled into `copies` unless
        another root's are alike."""
        self._template(self._root, {})
        edits: dict[int, dict[int, tuple[int, str]]] = {}  # id(data) → start → (end, new text)
        data_nodes: dict[int, nodes.TemplateData] = {}

        def edit(data: nodes.TemplateData, start: int, end: int, text: str) -> None:
            # A template included twice must take the same change both times.
            data_nodes[id(data)] = data
            if edits.setdefault(id(data), {}).setdefault(start, (end, text)) != (end, text):
                raise _Unprovable("a template included where it takes other styles")

        for tag, style in zip(self._probe.tags, self._probe.inline(), strict=True):
            data, end = tag.end
            edit(data, end, end, f' style="{html.escape(style)}"' if style else "")
        for data, start, end in self._probe.style_elements:
            edit(data, start, end, "")
        for key, changes in edits.items():
            data = data_nodes[key]
            for start, (end, text) in sorted(changes.items(), reverse=True):
                data.data = data.data[:start] + text + data.data[end:]
        # No copies of the rest (nothing is inlined into it); the copies' sources and their
        # text as inlined name them.
        parts = sorted(name for name in self._trees if _is_html(name) and name != self._root)
        digest = hashlib.sha256()
        for name in parts:
            tree, _, source = self._trees[name]
            for text in (name, source, *(data.data for data in tree.find_all(nodes.TemplateData))):
                digest.update(text.encode() + b"\0")
        prefix = f"inlined-{digest.hexdigest()[:16]}"
        for name in parts:
            if (copy := f"{prefix}{_SEP}{name}") not in copies:
                copies[copy] = self._compile(name, copy)
        return self._compile(self._root, self._root), prefix

    def _compile(self, template: str, name: str) -> CodeType:
        tree, filename, _ = self._trees[template]
        return self._environment.compile(tree, name, filename)

    def _tree(self, name: str) -> nodes.Template:
        if name not in self._trees:
            source, filename, _ = self._loader.get_source(self._environment, name)
            self._trees[name] = (self._environment.parse(source, name, filename), filename, source)
        return self._trees[name][0]

    def _template(self, name: str, blocks: Mapping[str, nodes.Block]) -> None:
        """Probe what `name` outputs, with `blocks` for its own blocks of those names."""
        if name in self._probing:
            raise _Unprovable(f"{name} includes itself")
        autoescape = self._environment.autoescape
        if not (autoescape(name) if callable(autoescape) else autoescape):
            raise _Unprovable(f"{name} does not escape what it writes into the HTML")
        self._probing.add(name)
        tree = self._tree(name)
        extends = list(tree.find_all(nodes.Extends))
        if extends:
            self._child(name, tree, extends, blocks)
        else:
            self._nodes(tree.body, blocks)
        self._probing.remove(name)

    def _child(
        self,
        name: str,
        tree: nodes.Template,
        extends: list[nodes.Extends],
        blocks: Mapping[str, nodes.Block],
    ) -> None:
        # A child outputs nothing but its blocks, where its parent places them.
        if len(extends) > 1 or tree.body[0] is not extends[0]:
            raise _Unprovable(f"{name}: extends other than first")
        for node in tree.body[1:]:
            if isinstance(node, nodes.Import | nodes.FromImport):
                self._imported(node.template)
            elif not isinstance(node, nodes.Block | nodes.Assign | nodes.Output):
                raise _Unprovable(f"{name}: {type(node).__name__} in a child template")
        own = {block.name: block for block in tree.find_all(nodes.Block)}
        self._template(_constant(extends[0].template), own | dict(blocks))

    def _nodes(self, body: Iterable[nodes.Node], blocks: Mapping[str, nodes.Block]) -> None:
        for node in body:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if isinstance(child, nodes.TemplateData):
                        self._probe.feed(child)
                    else:
                        _check_value(child)
                        self._probe.value()
            elif isinstance(node, nodes.If):
                for branch in (node.body, *(elif_.body for elif_ in node.elif_), node.else_):
                    self._branch(branch, blocks)
            elif isinstance(node, nodes.For) and not node.recursive:
                self._branch(node.body, blocks)
                self._branch(node.else_, blocks)
            elif isinstance(node, nodes.With):
                self._nodes(node.body, blocks)
            elif isinstance(node, nodes.Block):
                self._nodes(blocks.get(node.name, node).body, blocks)
            elif isinstance(node, nodes.Include) and not node.ignore_missing:
                self._template(_constant(node.template), {})
            elif isinstance(node, nodes.Import | nodes.FromImport):
                self._imported(node.template)
            elif not isinstance(node, nodes.Assign):
                raise _Unprovable(f"{type(node).__name__} in an email's HTML")

    def _branch(self, body: list[nodes.Node], blocks: Mapping[str, nodes.Block]) -> None:
        """A body that may run any number of times must leave the open elements as they were."""
        before = self._probe.open_elements()
        self._probe.branches += 1
        self._nodes(body, blocks)
        self._probe.branches -= 1
        if self._probe.open_elements() != before:
            raise _Unprovable("an if or for body leaves elements open, or closes others")

    def _imported(self, template: nodes.Expr) -> None:
        """Macros imported into an email's HTML must write no tags: the probe does not see them."""
        tree = self._tree(_constant(template))
        if any("<" in data.data for data in tree.find_all(nodes.TemplateData)) or any(
            True
            for _ in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport))
        ):
            raise _Unprovable("an imported template that may write markup")


class _Tag:
    """A start tag in the probe: where it starts and where its `>` is; its open ancestors."""

    def __init__(
        self, data: nodes.TemplateData, start: int, name: str, ancestors: tuple[int, ...]
    ) -> None:
        self.data, self.start, self.name, self.ancestors = data, start, name, ancestors
        self.end: tuple[nodes.TemplateData, int] = (data, -1)
        self.attributes: list[str] = []


class _Probe:
    """The HTML a root's templates make, every branch taken once, read by a plain tag scanner.

    The scanner nests elements as the tags say; `inline` checks the HTML5 parser agrees.
    """

    def __init__(self) -> None:
        self.tags: list[_Tag] = []
        self.style_elements: list[tuple[nodes.TemplateData, int, int]] = []  # where, to remove
        self.branches = 0  # the if and for bodies the probe is in
        self._html: list[str] = []
        self._css: list[str] = []
        self._open: list[tuple[str, int]] = []  # element, mark
        self._tag: _Tag | None = None  # the start tag being read
        self._quote = '"'  # that ends the attribute value being read
        self._raw: _Tag | None = None  # the element whose raw text is being read
        self._state: Callable[[nodes.TemplateData, int], int] = self._text

    def open_elements(self) -> tuple[tuple[str, int], ...]:
        if self._state != self._text:
            raise _Unprovable("a statement inside a tag, comment or raw text")
        return tuple(self._open)

    def value(self) -> None:
        if self._state == self._quoted and self._tag:
            self._tag.attributes.append(_VALUE)
        elif self._state != self._text and not (
            self._state == self._raw_text and self._raw and self._raw.name in _RCDATA
        ):
            raise _Unprovable("an expression outside text and quoted attribute values")
        self._html.append(_VALUE)

    def feed(self, data: nodes.TemplateData) -> None:
        at = 0
        while at < len(data.data):
            at = self._state(data, at)

    def _text(self, data: nodes.TemplateData, at: int) -> int:
        text = data.data
        lt = text.find("<", at)
        if lt < 0:
            self._html.append(text[at:])
            return len(text)
        self._html.append(text[at:lt])
        if start := _START.match(text, lt):
            if start.end() == len(text):
                raise _Unprovable("a tag name cut by a statement or an expression")
            name = start[1].lower()
            if name in _REFUSED:
                raise _Unprovable(f"<{name}>")
            self._tag = _Tag(data, lt, name, tuple(mark for _, mark in self._open))
            self._state = self._in_tag
            self._html.append(start[0])
            return start.end()
        if end := _END.match(text, lt):
            self._close(end[1].lower())
            self._html.append(end[0])
            return end.end()
        if text.startswith("<!--", lt):
            self._state = self._comment
        elif text.startswith(("<!", "<?", "</"), lt):
            self._state = self._bogus
        self._html.append("<")
        return lt + 1

    def _in_tag(self, data: nodes.TemplateData, at: int) -> int:
        assert self._tag is not None
        text = data.data
        stop = _TAG_STOP.search(text, at)
        end = stop.start() if stop else len(text)
        self._tag.attributes.append(text[at:end])
        self._html.append(text[at:end])
        if not stop:
            return end
        if stop[0] == ">":
            self._start_tag(data, end)
        else:
            self._quote = stop[0]
            self._state = self._quoted
            self._tag.attributes.append(stop[0])
            self._html.append(stop[0])
        return end + 1

    def _quoted(self, data: nodes.TemplateData, at: int) -> int:
        assert self._tag is not None
        close = data.data.find(self._quote, at)
        end = len(data.data) if close < 0 else close + 1
        if close >= 0:
            self._state = self._in_tag
        self._tag.attributes.append(data.data[at:end])
        self._html.append(data.data[at:end])
        return end

    def _comment(self, data: nodes.TemplateData, at: int) -> int:
        return self._until(data, at, "-->")

    def _bogus(self, data: nodes.TemplateData, at: int) -> int:
        return self._until(data, at, ">")

    def _until(self, data: nodes.TemplateData, at: int, end: str) -> int:
        found = data.data.find(end, at)
        stop = len(data.data) if found < 0 else found + len(end)
        if found >= 0:
            self._state = self._text
        self._html.append(data.data[at:stop])
        return stop

    def _raw_text(self, data: nodes.TemplateData, at: int) -> int:
        raw = self._raw
        assert raw is not None
        end = re.compile(rf"</{raw.name}[\s/>]", re.IGNORECASE).search(data.data, at)
        stop = end.start() if end else len(data.data)
        self._html.append(data.data[at:stop])
        if raw.name == "style" and (raw.data is not data or not end):
            raise _Unprovable("a <style> with a statement or an expression in it")
        if end:
            self._state = self._text
            if raw.name == "style":
                closing = _END.match(data.data, stop)
                assert closing is not None
                self._css.append(data.data[raw.end[1] + 1 : stop])
                self.style_elements.append((data, raw.start, closing.end()))
        return stop

    def _start_tag(self, data: nodes.TemplateData, end: int) -> None:
        tag = self._tag
        assert tag is not None
        tag.end = (data, end)
        attributes = {
            name.lower(): value for name, value in _ATTRIBUTE.findall("".join(tag.attributes))
        }
        if "style" in attributes or any(_VALUE in attributes.get(a, "") for a in ("class", "id")):
            raise _Unprovable(f"<{tag.name}> with a style of its own, or a class or id from data")
        self._state = self._text
        if tag.name in _RAW | _RCDATA:
            self._raw, self._state = tag, self._raw_text
        if tag.name == "style":  # removed, so neither marked nor nested
            if tag.data is not data or self.branches:
                raise _Unprovable("a <style> that depends on data")
            self._html.append(">")
            return
        self._html.append(f' {_MARK}="{len(self.tags)}">')
        if tag.name not in _VOID:
            self._open.append((tag.name, len(self.tags)))
        self.tags.append(tag)

    def _close(self, name: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == name:
                del self._open[index:]
                return

    def inline(self) -> list[str]:
        """Each tag's inlined style, once the HTML5 parser has nested them as the scanner did."""
        if self._state != self._text:
            raise _Unprovable("the HTML ends inside a tag, comment or raw text")
        for css in self._css:
            css, at = _CSS_COMMENT.sub("", css), 0
            while at < len(css):
                rule = _CSS_RULE.match(css, at)
                if not rule:
                    raise _Unprovable(f"CSS other than plain selectors: {css[at : at + 40]!r}")
                at = rule.end()
        parsed = _Parsed()
        parsed.feed(INLINER.inline("".join(self._html)))
        parsed.close()
        if parsed.nesting != [(tag.name, tag.ancestors) for tag in self.tags]:
            raise _Unprovable("the HTML5 parser nests the tags otherwise")
        return parsed.styles


class _Parsed(HTMLParser):
    """css_inline's output: each marked element's name, marked ancestors and style, by mark."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nesting: list[tuple[str, tuple[int, ...]]] = []
        self.styles: list[str] = []
        self._open: list[tuple[str, int | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        mark = values.get(_MARK)
        if mark is None and values.get("style"):
            raise _Unprovable(f"a style for <{tag}>, an element the templates do not write")
        if mark is not None:
            if mark != str(len(self.nesting)):
                raise _Unprovable("the HTML5 parser moved or dropped a tag")
            self.nesting.append((tag, tuple(m for _, m in self._open if m is not None)))
            self.styles.append(values.get("style") or "")
        if tag not in _VOID:
            self._open.append((tag, None if mark is None else int(mark)))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass


def _is_html(name: str) -> bool:
    return name.endswith(".html")


def _constant(name: nodes.Expr) -> str:
    if not isinstance(name, nodes.Const) or not isinstance(name.value, str):
        raise _Unprovable("a template named by an expression")
    return name.value


def _check_value(expression: nodes.Node) -> None:
    """An expression's output must be escaped text, never markup."""
    for node in (expression, *expression.find_all(nodes.Node)):
        if isinstance(node, nodes.Filter) and node.name in {"safe", "urlize", "xmlattr"}:
            raise _Unprovable(f"output that may be markup: |{node.name}")
        if isinstance(node, nodes.Name) and node.name == "self":
            raise _Unprovable("output that may be markup: self")
        callee = node.node if isinstance(node, nodes.Call) else None
        if isinstance(callee, nodes.Name) and callee.name in {"super", "caller", "loop"}:
            raise _Unprovable(f"output that may be markup: {callee.name}()")
