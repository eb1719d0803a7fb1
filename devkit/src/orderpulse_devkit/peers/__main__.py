"""Run the three peers until interrupted, for a notifier (or a benchmark) in another process."""

import contextlib
import threading

from orderpulse_devkit.peers import MotoSes, SmtpCatcher, TwilioFake


def main() -> None:
    with TwilioFake() as twilio, SmtpCatcher() as smtp, MotoSes() as ses:
        print(f"twilio  {twilio.url}  sid={twilio.account_sid} token={twilio.auth_token}")
        print(f"smtp    {smtp.host}:{smtp.port}")
        print(f"ses     {ses.endpoint_url}  region={ses.region} (verify senders with boto3)")
        print(f"        received: {twilio.url}/_fake/messages, {ses.url}/moto-api/data.json")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
