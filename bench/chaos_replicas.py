"""The chaos run's replicas scenario: two replicas of each service on PostgreSQL over six
partitions; mid-stream one replica of each is killed (SIGKILL) and not restarted, and the
survivors must take over its partitions with nothing lost and nothing sent twice but the sends
in flight at the notifier's kill. Takeover time: the kill → the survivor assigned the group's
partitions anew (its log says so).

Email goes through SES here (the main run's goes through SMTP), and SES storms: throttled (429),
then unavailable (503). What the notifier gave up on is replayed once quiet, as in the main run."""

import asyncio
import contextlib
import json
import re
import time
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import boto3
import chaos_check
import measure
import workload
from aiokafka.admin import AIOKafkaAdminClient
from chaos_fleet import LANDING_SECONDS, TOPICS, Fleet, Kill, recovery_figures, storms
from sqlalchemy.engine import make_url

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.peers.ses import CREDENTIALS
from orderpulse_devkit.postgres import postgres_url
from orderpulse_devkit.services import MODULES, announce_everything

PARTITIONS = 6
KILL_AT = 1 / 3
"""Share of the publishing time after which one replica of each service is killed."""
SES_STORMS = ((0.2, "ses", 429), (0.6, "ses", 503))
"""When (share of the publishing time), whom, and with what status the providers storm."""


def ses_settings(peers: measure.Peers, shops: Path) -> dict[str, str]:
    """The notifier's settings to send email through the SES peer, every sender domain of
    `shops` verified there first (moto refuses mail from an unverified one)."""
    address = peers.addresses["ses"]
    client = boto3.client(
        "sesv2",
        endpoint_url=address["endpoint_url"],
        region_name=address["region"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        for domain in set(re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", shops.read_text())):
            client.create_email_identity(EmailIdentity=domain)
    finally:
        client.close()
    return {
        **CREDENTIALS,
        "NOTIFIER_EMAIL_BACKEND": "ses",
        "NOTIFIER_SES_REGION": address["region"],
        "NOTIFIER_SES_ENDPOINT_URL": address["endpoint_url"],
        "NOTIFIER_SES_MAX_SEND_RATE": str(measure.TWILIO_MAX_SEND_RATE),
    }


async def databases(url: str, suffix: str) -> dict[str, str]:
    """A new database per service on the server of `url` (the replicas of one share it)."""
    server = make_url(url)
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database,
    )
    found = {}
    try:
        for name in MODULES:
            database = f"chaos_{name.replace('-', '_')}_{suffix}"
            await connection.execute(f'CREATE DATABASE "{database}"')
            found[name] = server.set(database=database).render_as_string(hide_password=False)
    finally:
        await connection.close()
    return found


def takeover(log: Path, group: str, kill: Kill) -> None:
    """Set `kill.recovered_seconds` to when the survivor's `log` says it was assigned the
    group's partitions anew after the kill (the dead replica's with its own)."""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message, at = record.get("message", ""), datetime.fromisoformat(record["time"])
        assigned = message.startswith("Setting newly assigned partitions")
        if assigned and message.endswith(f"for group {group}") and at.timestamp() > kill.at:
            kill.recovered_seconds = round(at.timestamp() - kill.at, 2)
            return


async def run_replicas(
    bootstrap: str,
    workdir: Path,
    journeys: int,
    seconds: float,
    first_order: int,
    patience: float,
    provider_latency: float,
    storm: int,
) -> dict[str, Any]:
    """The scenario on the run's broker; its figures and checks (`ok`)."""
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"chaos-replicas-{name}-{suffix}" for name in TOPICS}
    dead = [f"{topic}.dlq" for topic in topics.values()]
    await create_topics(bootstrap, [*topics.values(), *dead], partitions=PARTITIONS)
    planned = workload.journeys(journeys, first_order)
    events = measure.interleaved([journey.events for journey in planned])
    shops = announce_everything(workdir)
    async with postgres_url(workdir / "postgres") as url:
        urls = await databases(url, suffix)
        with contextlib.ExitStack() as stack:
            peers = measure.Peers(provider_latency, only="ses,twilio")
            stack.callback(peers.stop)
            settings = ses_settings(peers, shops) | measure.twilio_settings(
                measure.PeerTwilio(peers)
            )
            doomed, survivor = (
                Fleet(
                    bootstrap,
                    topics,
                    workdir / replica,
                    shops,
                    settings,
                    partitions=PARTITIONS,
                    databases=urls,
                )
                for replica in ("a", "b")
            )
            for fleet in (doomed, survivor):
                fleet.start()
                stack.callback(fleet.stop)
            await chaos_check.ready(doomed)
            await chaos_check.ready(survivor)
            print(f"[replicas] 2 × 3 services up; {len(events)} events over {seconds:.0f} s …")
            kills = []
            stormed = asyncio.create_task(storms(peers, SES_STORMS, storm, seconds))
            publishing = asyncio.create_task(
                workload.publish(
                    bootstrap,
                    events,
                    [i * seconds / len(events) for i in range(len(events))],
                    topics,
                )
            )
            await asyncio.sleep(KILL_AT * seconds)
            for process in doomed.processes.values():
                kill = Kill(process.name, "SIGKILL", time.time(), process.kill())
                if process.name == "notifier":  # marked once what it had under way landed
                    await asyncio.sleep(LANDING_SECONDS)
                    kill.peers_counts = peers.command("counts")
                kills.append(kill)
            await publishing
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            try:
                quiet = (survivor, peers, admin, bootstrap, topics, patience)
                ends = await chaos_check.quiet(*quiet, kills[-1].at)
                replayed = await chaos_check.replay(
                    bootstrap, f"{topics['notifications']}.dlq", workdir / "replay.log"
                )
                ends_after_replay = await chaos_check.quiet(*quiet, 0.0)
                ends["quiet"] = ends["quiet"] and ends_after_replay["quiet"]
                ends["lag"] = ends_after_replay["lag"]
            finally:
                await admin.close()
            codes = survivor.stop()
            for kill in kills:
                process = survivor.processes[kill.service]
                takeover(process.log_path, survivor.groups[kill.service], kill)
            delivered = peers.received()
    checks = await chaos_check.verify(
        bootstrap, topics, planned, [], delivered, kills, first_order, PARTITIONS
    )
    found = {
        "replicas": 2,
        "partitions": PARTITIONS,
        "journeys": journeys,
        "events": len(events),
        "killed": [k.service for k in kills],
        "crashes": [{"service": s, "at": at, "log": log} for s, at, log in survivor.crashes],
        "exit_codes": codes,
        "kill_log": [asdict(k) for k in kills],
        "takeover": recovery_figures(kills),
        "storms": await stormed,
        "replay": replayed,
        **ends,
        **checks,
    }
    found["ok"] = chaos_check.passed(found)
    return found
