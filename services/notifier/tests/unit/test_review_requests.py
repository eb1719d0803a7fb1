"""Review requests in the notifier: only with consent, only by email, with RFC 8058 one-click
stop headers and a signed stop link whose page stops them (a forged one changes nothing)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from faststream import TestApp
from faststream.asgi import AsgiFastStream
from faststream.kafka import TestKafkaBroker

from orderpulse_kit.producer import BrokerProducer
from orderpulse_notifier.app import build_app
from orderpulse_notifier.policy import channels_for
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.shops import Messaging, Shop
from orderpulse_notifier.stop_links import STOP_PATH, ForgedStopLink, StopLinks
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.values import Locale

from ..conftest import SHOPS_FILE, about, notification

NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
SECRET = "s" * 40
SALT = "pepper-and-salt-0123"
PUBLIC = "https://notify.kvetinac.example.cz"
LINKS = StopLinks(PUBLIC, SECRET.encode(), SALT.encode())
EMAIL = "jana.kovacova@example.com"
"""The customer of the example review request (Slovak, of the Czech example shop)."""


def review(**customer: object) -> NotificationRequested:
    return notification("review_request", **customer)


def asking_shops(tmp_path: Path) -> Path:
    """The example shops file, the example shop asking for reviews."""
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-cz"]["reviews"] = {
        "enabled": True,
        "days_after": 7,
        "link": "https://obchody.heureka.cz/kvetinac-cz/recenze/",
    }
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


# --- the links ---------------------------------------------------------------------------


def test_a_stop_link_names_the_shop_and_a_salted_hash_never_the_address() -> None:
    url = LINKS.url("kvetinac-cz", "Jana.Kovacova@Example.com", Locale.SK)
    assert url.startswith(f"{PUBLIC}{STOP_PATH}?t=")
    assert "kovacova" not in url.lower()
    stop = LINKS.read(token_of(url))
    assert stop.shop_id == "kvetinac-cz" and stop.locale is Locale.SK
    assert stop.customer_key == LINKS.customer_key("kvetinac-cz", EMAIL)  # any case: one person
    assert stop.customer_key != LINKS.customer_key("other-shop", EMAIL)
    salted = StopLinks(PUBLIC, SECRET.encode(), b"another-salt-here")
    assert stop.customer_key != salted.customer_key("kvetinac-cz", EMAIL)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        lambda token: "eyJzIjoib3RoZXIifQ" + token[token.index(".") :],  # another payload
        lambda token: token.partition(".")[0],  # no signature
        lambda token: "",
    ],
    ids=["signature-altered", "payload-swapped", "unsigned", "empty"],
)
def test_a_forged_stop_link_is_refused(forge: Any) -> None:
    token = token_of(LINKS.url("kvetinac-cz", EMAIL, Locale.CS))
    with pytest.raises(ForgedStopLink):
        LINKS.read(forge(token))
    other_secret = StopLinks(PUBLIC, b"x" * 40, SALT.encode())
    with pytest.raises(ForgedStopLink):
        other_secret.read(token)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


# --- who is asked, and how ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "expected"), [(True, [Channel.EMAIL]), (False, [])], ids=["consented", "not"]
)
def test_a_review_request_goes_by_email_only_and_only_with_consent(
    consent: bool, expected: list[Channel]
) -> None:
    customer = review().data.customer
    customer = customer.model_copy(
        update={"consent": customer.consent.model_copy(update={"reviews": consent})}
    )
    assert customer.consent.sms and customer.phone  # a text could reach them: still none
    assert channels_for(customer, "review_request", Messaging()) == expected
    assert channels_for(customer, "delivered", Messaging()) == [Channel.EMAIL, Channel.SMS]


def test_the_email_thanks_links_the_review_and_the_stop_link(shops: dict[str, Shop]) -> None:
    request = review()
    email = Renderer(stop_links=LINKS).email(request, shops["kvetinac-cz"])
    stop = Renderer(stop_links=LINKS).stop_url(request)
    assert stop is not None and stop.startswith(PUBLIC)
    assert "Ďakujeme" in email.html or "ďakujeme" in email.html
    for part in (email.html, email.text):
        assert "https://obchody.heureka.cz/kvetinac-cz/recenze/" in part
        assert stop.replace("&", "&amp;") in part or stop in part
    assert Renderer().stop_url(request) is None  # without stop links: none (and never sent)


# --- the whole notifier: headers, the page, the stop list ----------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        outbox_dir=tmp_path / "outbox",
        poll_overlap=1,  # the in-memory broker's publish returns when the poll is handled
        shops_file=asking_shops(tmp_path),
        public_url=PUBLIC,  # type: ignore[arg-type]
        stop_link_secret=SECRET,  # type: ignore[arg-type]
        stop_list_salt=SALT,  # type: ignore[arg-type]
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[AsgiFastStream]:
    app = build_app(settings, now=lambda: NOON, producer=BrokerProducer)
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield app


async def publish(app: AsgiFastStream, settings: Settings, request: NotificationRequested) -> None:
    message = request.model_dump(mode="json")
    await app.broker.publish(message, topic=settings.notifications_topic)  # type: ignore[union-attr]


def emails(settings: Settings) -> list[EmailMessage]:
    found = []
    for path in sorted(settings.outbox_dir.rglob("*.eml")):
        email = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(email, EmailMessage)
        found.append(email)
    return found


async def call(app: AsgiFastStream, method: str, url: str, body: bytes = b"") -> tuple[int, str]:
    """Status and body of an HTTP request to the app, made in-process as uvicorn makes it."""
    parts = urlsplit(url)
    scope = {
        "type": "http",
        "method": method,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(b"content-length", str(len(body)).encode())],
    }
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content.decode()


async def test_the_email_has_one_click_headers_and_its_link_stops_the_next_requests(
    app: AsgiFastStream, settings: Settings
) -> None:
    await publish(app, settings, review())
    [email] = emails(settings)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = email["List-Unsubscribe"]
    assert header.startswith(f"<{PUBLIC}{STOP_PATH}?t=") and header.endswith(">")
    link = header[1:-1]
    assert EMAIL not in header

    status, page = await call(app, "GET", link)  # a mail client's prefetch, or the customer
    assert status == 200 and 'method="post"' in page and 'lang="sk"' in page
    await publish(app, settings, about(review(), "10047"))
    assert len(emails(settings)) == 2, "a GET alone stops nothing"

    status, page = await call(app, "POST", link, b"List-Unsubscribe=One-Click")
    assert status == 200 and "Hotovo" in page
    assert (await call(app, "POST", link, b"List-Unsubscribe=One-Click"))[0] == 200  # again

    await publish(app, settings, about(review(), "10048"))
    await publish(app, settings, about(review(email="Jana.Kovacova@EXAMPLE.com"), "10049"))
    assert len(emails(settings)) == 2, "stopped, whatever the address's case"
    await publish(app, settings, about(notification("delivered", email=EMAIL), "10051"))
    assert len(emails(settings)) == 3, "other kinds still go"


async def test_a_forged_stop_link_is_forbidden_and_stops_nothing(
    app: AsgiFastStream, settings: Settings
) -> None:
    link = LINKS.url("kvetinac-cz", EMAIL, Locale.SK)
    forged = StopLinks(PUBLIC, b"f" * 40, SALT.encode()).url("kvetinac-cz", EMAIL, Locale.SK)
    assert (await call(app, "POST", forged))[0] == 403
    assert (await call(app, "GET", forged))[0] == 403
    assert (await call(app, "POST", link.split("?")[0]))[0] == 403  # no token at all
    await publish(app, settings, review())
    assert len(emails(settings)) == 1


async def test_without_consent_no_review_request_is_sent(
    app: AsgiFastStream, settings: Settings
) -> None:
    request = review()
    consent = request.data.customer.consent.model_copy(update={"reviews": False})
    request = request.model_copy(
        update={
            "data": request.data.model_copy(
                update={"customer": request.data.customer.model_copy(update={"consent": consent})}
            )
        }
    )
    await publish(app, settings, request)
    assert emails(settings) == []


def test_a_shop_asking_for_reviews_needs_the_stop_link_settings(
    settings: Settings,
) -> None:
    missing = settings.model_copy(update={"stop_link_secret": None})
    with pytest.raises(ValueError, match="NOTIFIER_STOP_LINK_SECRET"):
        build_app(missing, producer=BrokerProducer)


async def test_without_stop_links_a_review_request_is_never_sent(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        outbox_dir=tmp_path / "outbox",
        poll_overlap=1,  # the in-memory broker's publish returns when the poll is handled
        shops_file=SHOPS_FILE,  # no shop asks: the notifier starts without stop links
    )
    app = build_app(settings, now=lambda: NOON, producer=BrokerProducer)
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        await publish(app, settings, review())
        await publish(app, settings, notification("delivered"))
    [delivered] = emails(settings)
    assert delivered["Subject"] == "Vaše objednávka č. 10045 byla doručena"
