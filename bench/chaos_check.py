"""What the chaos run checks once it is quiet: each journey's messages at the providers (lost,
duplicated, and whether a notifier kill explains each copy), every hostile record in the right
dead-letter topic, every consumer group at the end of what it reads; and the report."""

import asyncio
import itertools
import re
import statistics
import sys
import time
import urllib.request
from asyncio.subprocess import PIPE
from collections import Counter, defaultdict
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import measure
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from chaos_fleet import PARTITIONS, READS, Fleet, Kill
from hostile import Hostile
from workload import Journey

from orderpulse_devkit.services import MODULES
from orderpulse_notifier.settings import Settings as NotifierSettings

READY_TIMEOUT = 180.0
SETTLE_SECONDS = 10.0
"""Nothing new at the providers or in the dead-letter topics for this long, and no lag: quiet."""
OWNER_TIMEOUT = 30.0
"""The notifier's `owner_timeout_seconds`: a killed notifier's claims wait this long."""
MAX_IN_FLIGHT: int = NotifierSettings.model_fields["max_in_flight"].default
"""The notifier's `max_in_flight`: sends under way at once, so the most a kill can repeat."""
ODD = {0: "content-type: text/plain", 5: "non-UTF-8 traceparent"}
"""Journey number mod 10 → the odd header its events carried (see chaos.ODD_HEADERS)."""
_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))


async def ready(fleet: Fleet) -> None:
    """Wait until every service answers `/readyz` with 200."""
    deadline = time.monotonic() + READY_TIMEOUT
    for name, process in fleet.processes.items():
        port = process.env[f"{MODULES[name][1]}HTTP_PORT"]
        while not await asyncio.to_thread(_answers, f"http://127.0.0.1:{port}/readyz"):
            if not process.running or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready:\n{process.log()}")
            await asyncio.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with _local.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def readers(topic: str) -> int:
    """How many consumer groups read run topic `topic` (each dead-letters what it cannot read)."""
    return sum(topic in reads for reads in READS.values()) + (topic == "erasure")


async def lags(fleet: Fleet, admin: AIOKafkaAdminClient) -> dict[str, int]:
    """Per group: records of what it reads that it has not committed yet."""
    found = {}
    groups = [(name, fleet.groups[name], fleet.partitions(name)) for name in READS]
    count = fleet.partition_count
    erasure = [TopicPartition(fleet.topics["erasure"], p) for p in range(count)]
    groups.append(("notifier erasure", f"{fleet.groups['notifier']}-erasure", erasure))
    for name, group, partitions in groups:
        ends = await measure.end_offsets(
            fleet.bootstrap, sorted({p.topic for p in partitions}), count
        )
        found[name] = sum(ends.values()) - await measure.committed(admin, group, partitions)
    return found


async def quiet(
    fleet: Fleet,
    peers: measure.Peers,
    admin: AIOKafkaAdminClient,
    bootstrap: str,
    topics: dict[str, str],
    patience: float,
    last_notifier_kill: float,
) -> dict[str, Any]:
    """Wait until no group lags, nothing new reaches the providers or the dead-letter topics for
    SETTLE_SECONDS, and a killed notifier's claims are free; how it ended."""
    started = time.time()
    dead = [f"{topic}.dlq" for topic in topics.values()]
    last, still_since, lag = None, time.time(), {}
    while time.time() - started < patience:
        fleet.revive()
        lag = await lags(fleet, admin)
        counts = await asyncio.to_thread(peers.command, "counts")
        ends = await measure.end_offsets(bootstrap, dead, fleet.partition_count)
        dlq = sum(ends.values())
        now = (counts, dlq)
        if now != last or any(lag.values()):
            last, still_since = now, time.time()
        settled = time.time() - still_since >= SETTLE_SECONDS
        if settled and time.time() >= last_notifier_kill + OWNER_TIMEOUT + 5:
            return {"quiet": True, "drain_seconds": round(time.time() - started, 1), "lag": lag}
        await asyncio.sleep(1.0)
    return {"quiet": False, "drain_seconds": round(time.time() - started, 1), "lag": lag}


async def read_all(
    bootstrap: str, topics: list[str], partitions: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topics` (`partitions` each) up to their current ends."""
    ends = await measure.end_offsets(bootstrap, topics, partitions)
    if not any(ends.values()):
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        wanted = [tp for tp, end in ends.items() if end]
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        behind = set(wanted)
        while behind:
            batch = await consumer.getmany(timeout_ms=500)
            records += [record for part in batch.values() for record in part]
            behind = {tp for tp in behind if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return records


EMAIL_PEERS = {"smtp", "ses"}
ORDER_NUMBER = re.compile(r"(?<!\d)(7\d{6})(?!\d)")
GAVE_UP = re.compile(r"retries exhausted: (twilio|smtp|ses) ")
"""A notification request the notifier dead-lettered after a provider failed it every time."""


def by_order(delivered: dict[str, Any]) -> dict[str, dict[str, list[tuple[int, str]]]]:
    """Each provider's messages by the order number they mention: (position, identity), the
    identity an email's Message-ID or a text's body. Messages naming no order go under "".
    Email is SMTP's or SES's, whichever peer ran."""
    parser = BytesHeaderParser(policy=default_policy)
    found: dict[str, dict[str, list[tuple[int, str]]]] = {"twilio": {}}
    for peer in EMAIL_PEERS & delivered.keys():
        found[peer] = {}
        for index, email in enumerate(delivered[peer]):
            headers = parser.parsebytes(email["raw"].encode("utf-8", "surrogateescape"))
            match = ORDER_NUMBER.search(str(headers["Subject"]))
            order = match.group(1) if match else ""
            found[peer].setdefault(order, []).append((index, str(headers["Message-ID"])))
    for index, text in enumerate(delivered["twilio"]):
        match = ORDER_NUMBER.search(text["Body"])
        order = match.group(1) if match else ""
        found["twilio"].setdefault(order, []).append((index, text["Body"]))
    return found


def messages_check(
    journeys: list[Journey],
    delivered: dict[str, Any],
    kills: list[Kill],
    first: int,
) -> dict[str, Any]:
    """Lost, unexpected and duplicated messages per provider; which copies a notifier kill
    explains (the first copy accepted before the kill, the second after), and how many at most
    one kill explains (no more than the sends it can have under way)."""
    seen = by_order(delivered)
    marks = {
        peer: [k.peers_counts[peer] for k in kills if k.service == "notifier" and k.peers_counts]
        for peer in seen
    }
    figures: dict[str, Any] = {"lost": 0, "unexpected": 0}
    figures |= {"duplicated": 0, "explained": 0}
    per_kill: Counter[int] = Counter()
    strays: list[dict[str, Any]] = []
    """Copies no notifier kill explains: where in the provider's list, and the nearest mark."""
    """Copies by the notifier kill (its index) that came between them, both providers."""
    lost_orders: dict[str, int] = {}
    odd_lost: Counter[str] = Counter()
    for n, journey in enumerate(journeys):
        order = str(first + n)
        expected = sum(journey.requests.values())
        for peer, orders in seen.items():
            copies: defaultdict[str, list[int]] = defaultdict(list)
            for index, identity in orders.get(order, []):
                copies[identity].append(index)
            missing = max(0, expected - len(copies))
            figures["lost"] += missing
            figures["unexpected"] += max(0, len(copies) - expected)
            if missing:
                lost_orders[f"{peer} ord-{order}"] = missing
                if n % 10 in ODD:
                    odd_lost[ODD[n % 10]] += missing
            for where in copies.values():
                for earlier, later in itertools.pairwise(where):
                    figures["duplicated"] += 1
                    kill = [n for n, m in enumerate(marks[peer]) if earlier < m <= later]
                    figures["explained"] += bool(kill)
                    per_kill[kill[-1] if kill else -1] += 1
                    if not kill:
                        nearest = min(marks[peer], key=lambda m: abs(m - earlier), default=None)
                        strays.append({"provider": peer, "order": order, "at": [earlier, later]})
                        strays[-1]["nearest_kill_mark"] = nearest
    figures["unexplained_duplicates"] = figures["duplicated"] - figures["explained"]
    figures["unexplained_duplicate_copies"] = strays[:20]
    figures["most_duplicates_at_one_kill"] = max(
        (count for kill, count in per_kill.items() if kill >= 0), default=0
    )
    figures["naming_no_order"] = sum(len(orders.get("", [])) for orders in seen.values())
    figures["expected_per_provider"] = sum(sum(j.requests.values()) for j in journeys)
    figures["received"] = {peer: len(delivered[peer]) for peer in seen}
    figures["lost_orders"] = dict(list(lost_orders.items())[:30])
    figures["lost_in_odd_header_journeys"] = dict(odd_lost)
    return figures


def dead_letter_check(
    records: list[ConsumerRecord[bytes, bytes]], topics: dict[str, str], hostiles: list[Hostile]
) -> dict[str, Any]:
    """Every hostile record in `<its topic>.dlq` once per group reading that topic; and what
    else was dead-lettered (valid events must not be)."""
    copies: defaultdict[bytes, set[tuple[str, str]]] = defaultdict(set)
    valid: Counter[str] = Counter()
    given_up = 0
    for record in records:
        headers = {name: value for name, value in record.headers}
        group = headers.get("dlq-group", b"?").decode(errors="replace")
        reason = headers.get("dlq-reason", b"").decode(errors="replace")
        if record.key and record.key.startswith(b"chaos-"):
            copies[record.key].add((record.topic, group))
        elif record.topic == f"{topics['notifications']}.dlq" and GAVE_UP.match(reason):
            given_up += 1
        else:
            valid[f"{record.topic.rsplit('-', 2)[0]}: {reason[:80]}"] += 1
    missing: Counter[str] = Counter()
    misplaced: Counter[str] = Counter()
    for record in hostiles:
        right = f"{topics[record.topic]}.dlq"
        found = copies.get(record.key, set())
        if len({group for topic, group in found if topic == right}) < readers(record.topic):
            missing[f"{record.topic} {record.kind}"] += 1
        if any(topic != right for topic, _ in found):
            misplaced[f"{record.topic} {record.kind}"] += 1
    return {
        "dead_letters": len(records),
        "hostile_dead_letter_copies_expected": sum(readers(h.topic) for h in hostiles),
        "hostile_missing": sum(missing.values()),
        "hostile_missing_by_kind": dict(missing),
        "hostile_misplaced": sum(misplaced.values()),
        "given_up_after_retries": given_up,
        "valid_dead_lettered": sum(valid.values()),
        "valid_dead_lettered_reasons": dict(valid.most_common(10)),
    }


async def verify(
    bootstrap: str,
    topics: dict[str, str],
    journeys: list[Journey],
    hostiles: list[Hostile],
    delivered: dict[str, Any],
    kills: list[Kill],
    first: int,
    partitions: int = PARTITIONS,
) -> dict[str, Any]:
    """The messages' and the dead letters' checks."""
    dead_topics = [f"{topic}.dlq" for topic in topics.values()]
    records = await read_all(bootstrap, dead_topics, partitions)
    dead = dead_letter_check(records, topics, hostiles)
    return {
        "messages": messages_check(journeys, delivered, kills, first),
        "dead_lettering": dead,
    }


async def replay(bootstrap: str, dead_letters: str, log: Path) -> str:
    """Replay a dead-letter topic with the kit's tool, as an operator would once a provider is
    back; its summary line."""
    command = [sys.executable, "-m", "orderpulse_kit.replay", dead_letters]
    command += ["--bootstrap", bootstrap, "--group", f"replay-{dead_letters}"]
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(*command, stdout=out, stderr=PIPE)
        _, said = await process.communicate()
    out_text = said.decode(errors="replace").strip()
    if process.returncode:
        raise RuntimeError(f"replay of {dead_letters} failed: {out_text}")
    return out_text.splitlines()[0] if out_text else ""


def failures(found: dict[str, Any]) -> list[str]:
    """Each check that failed, in words: nothing lost, unexpected or unexplained, every hostile
    record dead-lettered where it belongs and nothing valid, no group behind, no crash, every
    exit clean."""
    messages, dead = found["messages"], found["dead_lettering"]
    kills = found["kill_log"]
    stopped = [(k["service"], k["exit_code"]) for k in kills if k["signal"] == "SIGTERM"]
    checks = {
        "not quiet": not found["quiet"],
        f"groups behind: {found['lag']}": any(found["lag"].values()),
        "messages lost, unexpected or duplicated without a kill to explain it": any(
            messages[key] for key in ("lost", "unexpected", "unexplained_duplicates")
        ),
        f"more than {MAX_IN_FLIGHT} copies at one kill": messages["most_duplicates_at_one_kill"]
        > MAX_IN_FLIGHT,
        f"{messages['naming_no_order']} messages name no order": messages["naming_no_order"] > 0,
        "hostile records missing or misplaced, or valid events dead-lettered": any(
            dead[key] for key in ("hostile_missing", "hostile_misplaced", "valid_dead_lettered")
        ),
        "a service exited unasked": bool(found["crashes"]),
        f"exit codes at the end: {found['exit_codes']}": any(found["exit_codes"].values()),
        f"exit codes after SIGTERM: {stopped}": any(code for _, code in stopped),
    }
    return [what for what, failed in checks.items() if failed]


def passed(found: dict[str, Any]) -> bool:
    """Whether every check holds (see `failures`)."""
    return not failures(found)


def report(found: dict[str, Any]) -> str:
    """The figures as text."""
    messages, dead = found["messages"], found["dead_lettering"]
    times = [k["recovered_seconds"] for k in found["kill_log"] if k["recovered_seconds"]]
    lines = [
        f"seed {found['seed']}, wall time {found['wall_seconds']:.0f} s"
        f" (load average before {found['load_average_before']})",
        f"kills: {found['kills']}, restarts {found['restarts']}, crashes {len(found['crashes'])}",
        f"records published: {found['records']}",
        f"messages: {messages['expected_per_provider']} expected per provider, received "
        f"{messages['received']}; lost {messages['lost']}, duplicated {messages['duplicated']} "
        f"({messages['explained']} in flight at a notifier kill, at most "
        f"{messages['most_duplicates_at_one_kill']} at one), unexpected "
        f"{messages['unexpected']}",
        f"dead-lettered: {dead['dead_letters']} records; hostile missing "
        f"{dead['hostile_missing']}, misplaced {dead['hostile_misplaced']}; valid events "
        f"{dead['valid_dead_lettered']}; notification requests given up after the provider "
        f"failed every retry {dead['given_up_after_retries']} (replayed: {found['replay']})",
        f"recovery after a signal: median {statistics.median(times) if times else 0:.1f} s, "
        f"max {max(times, default=0):.1f} s",
    ]
    lines += [f"  {name}: {figures}" for name, figures in found["recovery"].items()]
    lines += [
        f"broker restart: {found['broker_restart'] or 'not done (external broker)'}",
        f"storms: {[(s.get('failing'), s.get('status'), s.get('count')) for s in found['storms']]}",
        f"quiet: {found['quiet']} after {found['drain_seconds']} s; lag {found['lag']}",
        f"lost by order: {messages['lost_orders']}" if messages["lost"] else "",
        f"copies no notifier kill explains: {messages['unexplained_duplicate_copies']}"
        if messages["unexplained_duplicates"]
        else "",
        f"valid dead-lettered: {dead['valid_dead_lettered_reasons']}"
        if dead["valid_dead_lettered"]
        else "",
        f"hostile missing: {dead['hostile_missing_by_kind']}" if dead["hostile_missing"] else "",
        f"crashes: {[(c['service'], c['log'][-800:]) for c in found['crashes']]}"
        if found["crashes"]
        else "",
        replicas_line(found["replicas"]),
        "OK" if found["ok"] else f"CHECK FAILED: {'; '.join(failures(found)) or 'the replicas'}",
    ]
    return "\n".join(line for line in lines if line)


def replicas_line(found: dict[str, Any]) -> str:
    """The replicas scenario in a few lines."""
    messages = found["messages"]
    takeover = {name.split()[0]: f["max_s"] for name, f in found["takeover"].items() if f["count"]}
    return (
        f"replicas: {found['replicas']} × 3 services over {found['partitions']} partitions, "
        f"{found['events']} events; killed one of each; takeover (s): {takeover}; lost "
        f"{messages['lost']}, duplicated {messages['duplicated']} ({messages['explained']} in "
        f"flight at the kill); dead-lettered {found['dead_lettering']['dead_letters']}; storms "
        f"{[(s.get('failing'), s.get('status'), s.get('count')) for s in found['storms']]}, "
        f"gave up on {found['dead_lettering']['given_up_after_retries']} (replayed: "
        f"{found['replay']}); "
        f"{'ok' if found['ok'] else 'FAILED: ' + '; '.join(failures(found))}"
    )
