"""Local protocol peers: real servers speaking Twilio's, SMTP's, SES's and Packeta's protocols on
127.0.0.1.

Each runs in a background thread of the process that starts it, so sync code, async tests and
benchmarks use them alike, and the notifier in another process reaches them by URL:

    with TwilioFake() as twilio, SmtpCatcher() as smtp, MotoSes() as ses:
        ...  # twilio.url, smtp.host/smtp.port, ses.endpoint_url
        twilio.messages, smtp.messages, ses.sent()  # what they received

``python -m orderpulse_devkit.peers`` starts the first three until interrupted; `PacketaFake` (its
`api_url`, `add_status`, `requests`) fakes Packeta's tracking API for the couriers service.
"""

from orderpulse_devkit.peers.packeta import TEST_API_PASSWORD, PacketaFake
from orderpulse_devkit.peers.ses import MotoSes, SentEmail
from orderpulse_devkit.peers.smtp import ReceivedEmail, SmtpCatcher
from orderpulse_devkit.peers.twilio import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TwilioFake

__all__ = [
    "TEST_ACCOUNT_SID",
    "TEST_API_PASSWORD",
    "TEST_AUTH_TOKEN",
    "MotoSes",
    "PacketaFake",
    "ReceivedEmail",
    "SentEmail",
    "SmtpCatcher",
    "TwilioFake",
]
