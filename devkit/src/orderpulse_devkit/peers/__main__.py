"""Run the peers until interrupted, for a notifier (or a benchmark) in another process.

    python -m orderpulse_devkit.peers [--latency S] [--only twilio,smtp,ses] [--control]

`--latency` delays every answer of the Twilio fake and the SMTP server (not SES's). `--control`
is for a parent process that runs the peers in a process of their own (so they have a GIL of
their own): the addresses are printed as one JSON line, then each line read from stdin is a
command answered with one JSON line, and the end of stdin stops the peers:
- `messages`: what the Twilio fake, the SMTP server and SES have accepted so far;
- `counts`: only how many each has accepted (cheap, to mark a moment in their lists);
- `fail twilio|smtp|ses STATUS COUNT`: a storm, the next COUNT requests (Twilio, SES) or DATA
  commands (SMTP) answered STATUS (e.g. 429 or 503; 421 or 451), as `fail_next` scripts them.
"""

import argparse
import contextlib
import json
import logging
import sys
import threading
from typing import Any, TextIO

from orderpulse_devkit.peers import MotoSes, SmtpCatcher, TwilioFake

PEERS = ("twilio", "smtp", "ses")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m orderpulse_devkit.peers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds Twilio and SMTP take to answer"
    )
    parser.add_argument(
        "--only", default=",".join(PEERS), help=f"comma-separated, of {', '.join(PEERS)}"
    )
    parser.add_argument(
        "--control", action="store_true", help="JSON on stdout, commands on stdin (see above)"
    )
    args = parser.parse_args(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    if unknown := wanted - set(PEERS):
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    with contextlib.ExitStack() as stack:
        twilio = (
            stack.enter_context(TwilioFake(latency=args.latency)) if "twilio" in wanted else None
        )
        smtp = stack.enter_context(SmtpCatcher(latency=args.latency)) if "smtp" in wanted else None
        ses = stack.enter_context(MotoSes()) if "ses" in wanted else None
        if args.control:
            # moto's server logs every request to stderr, the parent's: a chaos run polls SES's
            # mail each second. What the parent needs it asks for over the pipe.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            serve_commands(sys.stdin, sys.stdout, twilio, smtp, ses)
            return
        if twilio:
            print(f"twilio  {twilio.url}  sid={twilio.account_sid} token={twilio.auth_token}")
        if smtp:
            print(f"smtp    {smtp.host}:{smtp.port}")
        if ses:
            print(f"ses     {ses.endpoint_url}  region={ses.region} (verify senders with boto3)")
        seen = [f"{twilio.url}/_fake/messages"] if twilio else []
        seen += [f"{ses.url}/moto-api/data.json"] if ses else []
        if seen:
            print(f"        received: {', '.join(seen)}")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


def serve_commands(
    commands: TextIO,
    answers: TextIO,
    twilio: TwilioFake | None,
    smtp: SmtpCatcher | None,
    ses: MotoSes | None,
) -> None:
    """The addresses as a JSON line, then a JSON line per command line, until `commands` ends."""
    addresses: dict[str, Any] = {}
    if twilio:
        addresses["twilio"] = {
            "url": twilio.url,
            "account_sid": twilio.account_sid,
            "auth_token": twilio.auth_token,
        }
    if smtp:
        addresses["smtp"] = {"host": smtp.host, "port": smtp.port, "url": smtp.url}
    if ses:
        addresses["ses"] = {"endpoint_url": ses.endpoint_url, "region": ses.region}
    _answer(answers, addresses)
    with contextlib.suppress(KeyboardInterrupt):
        for line in commands:
            command = line.strip()
            if command == "messages":
                _answer(answers, received(twilio, smtp, ses))
            elif command == "counts":
                _answer(answers, counts(twilio, smtp, ses))
            elif command.startswith("fail "):
                _answer(answers, storm(command.split()[1:], twilio, smtp, ses))
            elif command:
                _answer(answers, {"error": f"unknown command {command!r}"})


def received(
    twilio: TwilioFake | None, smtp: SmtpCatcher | None, ses: MotoSes | None = None
) -> dict[str, Any]:
    """What the Twilio fake (its messages' form fields and "Sid"), the SMTP server (envelope and
    the message's bytes as UTF-8, any other byte escaped as a lone surrogate) and SES (its
    MessageId and the message as text) have accepted so far, oldest first."""
    found: dict[str, Any] = {}
    if twilio:
        found["twilio"] = twilio.messages
    if smtp:
        found["smtp"] = [
            {
                "mail_from": mail_from,
                "rcpt_tos": list(rcpt_tos),
                "raw": raw.decode("utf-8", "surrogateescape"),
            }
            for mail_from, rcpt_tos, raw in smtp.raw_messages
        ]
    if ses:
        found["ses"] = [
            {"message_id": sent.message_id, "raw": sent.message.as_string()} for sent in ses.sent()
        ]
    return found


def counts(
    twilio: TwilioFake | None, smtp: SmtpCatcher | None, ses: MotoSes | None = None
) -> dict[str, int]:
    """How many messages each peer has accepted so far, without copying them out (SES's: moto
    copies them)."""
    found = {"twilio": len(twilio.messages)} if twilio else {}
    found |= {"smtp": len(smtp.raw_messages)} if smtp else {}
    return found | ({"ses": len(ses.sent())} if ses else {})


def storm(
    words: list[str], twilio: TwilioFake | None, smtp: SmtpCatcher | None, ses: MotoSes | None
) -> dict[str, Any]:
    """Script failures from `fail PEER STATUS COUNT`'s words; what was scripted, or why not."""
    try:
        peer, status, count = words[0], int(words[1]), int(words[2])
    except (IndexError, ValueError):
        return {"error": "usage: fail twilio|smtp|ses STATUS COUNT"}
    if peer == "twilio" and twilio:
        twilio.fail_next(status, count)
    elif peer == "smtp" and smtp:
        smtp.fail_next(status, count)
    elif peer == "ses" and ses:
        try:
            ses.fail_next(status, count)
        except ValueError as error:
            return {"error": str(error)}
    else:
        return {"error": f"no peer {peer!r} running"}
    return {"failing": peer, "status": status, "count": count}


def _answer(answers: TextIO, value: Any) -> None:
    answers.write(json.dumps(value) + "\n")  # ASCII: lone surrogates too
    answers.flush()


if __name__ == "__main__":
    main()
