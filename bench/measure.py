"""What the benchmarks share: a child's CPU and memory and the machine's CPU, consumer groups'
progress, orders mixed into one stream, the provider settings and peers, what reached the
providers, a service's batches, percentiles, a table, a dated JSON file of runs under
bench/results/, a database for a run, and the pass-through baseline through a backlog."""

import asyncio
import contextlib
import json
import os
import platform
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from orderpulse_devkit.peers import ReceivedEmail
from orderpulse_devkit.postgres import postgres_url
from orderpulse_devkit.processes import log_tail
from orderpulse_devkit.records import RecordWatch

RESULTS = Path(__file__).resolve().parent / "results"
CPUS = os.cpu_count() or 1
TWILIO_MAX_SEND_RATE = 10000
"""The notifier's Twilio send rate in the benchmarks (10/s by default), so that it caps nothing."""

Column = tuple[str, str, str]  # title, key, format
MEMORY = "/dev/shm" if os.path.isdir("/dev/shm") else None
"""Where the outbox goes: it stands in for a provider, so its files are written in memory, not
measuring this machine's disk. On the 2-core VM of 2026-12-04 a file cost 220-330 µs of CPU on its
ext4 disk and 45-90 µs in /dev/shm, and the disk got slower run after run: the notifier's CPU for
the same `bench/pipeline.py --scenarios outbox` went 7.1, 10.2, 13.0 s on the disk while it stayed
at 5.2-5.9 s in memory (side by side). Elsewhere, the temporary directory."""
PASSTHROUGH_TIMEOUT = 900.0
"""Seconds the pass-through may take through a backlog before it is given up."""


def work_directory(stack: contextlib.ExitStack, keep: Path | None) -> Path:
    """A dated directory under `keep` that stays, else a temporary one that goes with `stack`."""
    if keep:
        return keep.resolve() / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="op-bench-")))


def kafka_source() -> str:
    """Where the broker came from, for the results file."""
    return "KAFKA_BOOTSTRAP_SERVERS" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "local"


def child_pid(marker: str, wait: float = 5.0) -> int:
    """The pid of our child process whose command line holds `marker`: waits up to `wait`
    seconds, as a child just forked still has our command line until it execs."""
    deadline = time.monotonic() + wait
    while (pid := _child_pid(marker)) is None:
        if time.monotonic() > deadline:
            raise LookupError(f"no child process running {marker}")
        time.sleep(0.01)
    return pid


def _child_pid(marker: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and marker.encode() in cmdline:
            return int(entry.name)
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (its threads included) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """How long the threads of `pid` have waited, runnable, for a core so far
    (/proc/<pid>/task/*/schedstat; a thread that has ended no longer counts). A process short of
    CPU shows it here, where its own CPU time only says how little it got."""
    waited = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            waited += int(stat.read_text().split()[1])
        except (OSError, IndexError, ValueError):  # the thread ended meanwhile
            continue
    return waited / 1e9


def peak_rss_mib(pid: int) -> float:
    """The high-water mark of the resident set of `pid` (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def interleaved(journeys: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every event once, orders mixed at random (seeded), each order's own events in their order."""
    rng = random.Random(20261123)
    queues = [deque(journey) for journey in journeys]
    stream = []
    while queues:
        index = rng.randrange(len(queues))
        stream.append(queues[index].popleft())
        if not queues[index]:
            queues[index] = queues[-1]
            queues.pop()
    return stream


async def committed(
    admin: AIOKafkaAdminClient, group: str, partitions: Iterable[TopicPartition]
) -> int:
    """How many records of `partitions` the group has committed (0 before it exists)."""
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except KafkaError:  # the group or its coordinator is not there yet
        return 0
    return sum(meta.offset for partition in partitions if (meta := offsets.get(partition)))


async def end_offsets(
    bootstrap: str, topics: list[str], partitions: int
) -> dict[TopicPartition, int]:
    """The end offset of every partition of `topics`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        wanted = [TopicPartition(topic, p) for topic in topics for p in range(partitions)]
        return dict(await consumer.end_offsets(wanted))
    finally:
        await consumer.stop()


PEERS_START_TIMEOUT = 30.0
"""Seconds the peers' process may take to start."""


class Peers:
    """devkit's SMTP server and Twilio fake (`python -m orderpulse_devkit.peers --control`) in a
    child process of their own, so that answering the notifier costs this process nothing: as
    threads of it they shared its GIL, and a busy benchmark process held the notifier up. (One
    process for both was measured as fast as one each.) What they accepted is asked for over the
    pipe; `stop()` keeps the last answer."""

    def __init__(self, latency: float, only: str = "smtp,twilio") -> None:
        """`only`: which peers, as the peers' `--only` takes them."""
        command = [sys.executable, "-m", "orderpulse_devkit.peers", "--control"]
        command += ["--latency", repr(latency), "--only", only]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )
        self.pid = self.process.pid
        self._last: dict[str, Any] = {}
        try:
            self.addresses: dict[str, dict[str, Any]] = self._read(PEERS_START_TIMEOUT)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def received(self) -> dict[str, Any]:
        """What the peers accepted so far (their last answer once stopped), by peer."""
        if self.process.poll() is None:
            self._last = self.command("messages")
        return self._last

    def command(self, line: str) -> dict[str, Any]:
        """One command of the peers' `--control` protocol (`counts`, `fail twilio 429 30`, …),
        and its answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._read(None)

    def stop(self) -> None:
        """Keep what the peers accepted, then end their process (its stdin closed)."""
        if self.process.poll() is not None:
            return
        try:
            self.received()
        finally:
            assert self.process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _read(self, timeout: float | None) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        if timeout is not None and not select.select([stdout], [], [], timeout)[0]:
            raise TimeoutError(f"the peers did not answer within {timeout:g} s")
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the peers' process exited with {self.process.wait()}")
        found: dict[str, Any] = json.loads(line)
        return found


class PeerSmtp:
    """The SMTP peer in the child process, as the benchmarks use an SmtpCatcher."""

    def __init__(self, peers: Peers) -> None:
        self._peers = peers
        address = peers.addresses["smtp"]
        self.host: str = address["host"]
        self.port: int = address["port"]
        self.url: str = address["url"]
        self.pid = peers.pid

    @property
    def messages(self) -> list[ReceivedEmail]:
        """The accepted messages so far, oldest first."""
        return [
            ReceivedEmail(
                mail_from=found["mail_from"],
                rcpt_tos=tuple(found["rcpt_tos"]),
                message=message_from_bytes(_raw_bytes(found), policy=policy.default),
            )
            for found in self._peers.received()["smtp"]
        ]

    def subjects(self) -> list[str]:
        """The accepted messages' subjects, oldest first (only their headers parsed: quicker)."""
        parser = BytesHeaderParser(policy=policy.default)
        return [
            str(parser.parsebytes(_raw_bytes(found))["Subject"])
            for found in self._peers.received()["smtp"]
        ]


def _raw_bytes(found: dict[str, Any]) -> bytes:
    """An email's bytes as the peers' process sent them (UTF-8, other bytes as surrogates)."""
    raw: str = found["raw"]
    return raw.encode("utf-8", "surrogateescape")


class PeerTwilio:
    """The Twilio fake in the child process, as the benchmarks use a TwilioFake."""

    def __init__(self, peers: Peers) -> None:
        self._peers = peers
        address = peers.addresses["twilio"]
        self.url: str = address["url"]
        self.account_sid: str = address["account_sid"]
        self.auth_token: str = address["auth_token"]
        self.pid = peers.pid

    @property
    def messages(self) -> list[dict[str, str]]:
        """The accepted messages so far (form fields plus "Sid"), oldest first."""
        messages: list[dict[str, str]] = self._peers.received()["twilio"]
        return messages


def providers(
    stack: contextlib.ExitStack, latency: float | None
) -> tuple[dict[str, str], PeerSmtp | None, PeerTwilio | None]:
    """The notifier's provider settings and the peers: the local outbox in memory (`MEMORY`) when
    `latency` is None (no peers), else an SMTP server and a Twilio fake that answer after `latency`
    s, in a child process of their own (`Peers`, stopped with `stack`), not competing for this
    one's GIL."""
    if latency is None:
        outbox = stack.enter_context(tempfile.TemporaryDirectory(prefix="op-outbox-", dir=MEMORY))
        backends = {"NOTIFIER_EMAIL_BACKEND": "outbox", "NOTIFIER_SMS_BACKEND": "outbox"}
        return backends | {"NOTIFIER_OUTBOX_DIR": outbox}, None, None
    peers = Peers(latency)
    stack.callback(peers.stop)
    smtp, twilio = PeerSmtp(peers), PeerTwilio(peers)
    return peer_settings(smtp, twilio), smtp, twilio


def peer_settings(smtp: PeerSmtp, twilio: PeerTwilio) -> dict[str, str]:
    """The notifier's settings to send through the SMTP and Twilio peers."""
    return {
        "NOTIFIER_EMAIL_BACKEND": "smtp",
        "NOTIFIER_SMTP_HOST": smtp.host,
        "NOTIFIER_SMTP_PORT": str(smtp.port),
        "NOTIFIER_SMTP_STARTTLS": "false",
    } | twilio_settings(twilio)


def twilio_settings(twilio: PeerTwilio) -> dict[str, str]:
    """The notifier's settings to send texts through the Twilio peer."""
    return {
        "NOTIFIER_SMS_BACKEND": "twilio",
        "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "NOTIFIER_TWILIO_API_URL": twilio.url,
        "NOTIFIER_TWILIO_MAX_SEND_RATE": str(TWILIO_MAX_SEND_RATE),
    }


def received(
    notifier_env: dict[str, str], smtp: PeerSmtp | None, twilio: PeerTwilio | None
) -> tuple[list[str], list[str]]:
    """What arrived: a key per email and per text (the outbox's file names, else order numbers)."""
    if smtp is None or twilio is None:
        outbox = Path(notifier_env["NOTIFIER_OUTBOX_DIR"])
        emails = [str(p.relative_to(outbox)) for p in outbox.rglob("email-*.eml")]
        texts = [str(p.relative_to(outbox)) for p in outbox.rglob("sms-*.txt")]
        return emails, texts
    emails = smtp.subjects()
    texts = [m["Body"] for m in twilio.messages]
    return emails, texts


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (/proc/stat: all but idle, iowait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def handling(log: str, topic: str) -> list[tuple[float, str]]:
    """FastStream's `Received` and `Processed` lines for each message (or batch) a service's
    subscriber to `topic` handled, from its JSON log: (epoch seconds, which)."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("topic") == topic and record.get("message") in ("Received", "Processed"):
            found.append((datetime.fromisoformat(record["time"]).timestamp(), record["message"]))
    return found


def batches(log: str, topic: str) -> list[tuple[float, float]]:
    """When (epoch seconds) the subscriber to `topic` took each batch and how long it took:
    Received → Processed (one subscriber's batches follow each other)."""
    found, taken = [], None
    for moment, what in handling(log, topic):
        if what == "Received":
            taken = moment
        elif taken is not None:
            found.append((taken, moment - taken))
            taken = None
    return found


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and the maximum of `values` (NaN when there are none), rounded."""
    if len(values) < 2:
        return {key: float("nan") for key in ("p50", "p95", "p99", "max")}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    found = {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values)}
    return {key: round(value, 1) for key, value in found.items()}


def table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    """Rows of values as a plain text table, one column per (title, key, format)."""
    cells = [[title for title, _, _ in columns]]
    cells += [[fmt.format(row[key]) for _, key, fmt in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def append_run(benchmark: str, run: dict[str, Any], results: Path = RESULTS) -> Path:
    """Add a run (with its time and machine) to today's results file of `benchmark`."""
    results.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = results / f"{benchmark}-{now.date().isoformat()}.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    runs.append({"at": now.isoformat(timespec="seconds"), **run, "machine": machine})
    path.write_text(json.dumps(runs, indent=2) + "\n")
    return path


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str | None]:
    """None for SQLite (the service's file in the run's directory), else a PostgreSQL URL."""
    if kind == "sqlite":
        yield None
    elif kind == "postgresql":
        async with postgres_url(workdir / "postgres") as url:
            yield url
    else:
        raise ValueError(f"unknown database {kind!r}")


def start_passthrough(
    bootstrap: str, sources: list[str], target: str, log_path: Path
) -> subprocess.Popen[bytes]:
    """bench/passthrough.py from `sources` to `target`, with a group of its own."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(Path(__file__).with_name("passthrough.py")), bootstrap]
    command += [f"passthrough-{target}", target, *sources]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


async def passthrough_through(
    bootstrap: str, sources: list[str], target: str, workdir: Path, events: int, label: str
) -> tuple[float, float]:
    """bench/passthrough.py through the same backlog: its events/s and CPU ms/event."""
    log_path = workdir / "passthrough.log"
    process = start_passthrough(bootstrap, sources, target, log_path)
    print(f"[{label}] pass-through pid {process.pid} started; waiting …", flush=True)
    try:
        async with RecordWatch(bootstrap, target) as passed:
            started = time.monotonic()
            cpu_first = None
            while len(passed.records) < events:
                if process.poll() is not None:
                    raise RuntimeError(f"the pass-through died:\n{log_tail(log_path)}")
                if time.monotonic() - started > PASSTHROUGH_TIMEOUT:
                    raise TimeoutError(f"pass-through: {len(passed.records)}/{events} forwarded")
                if cpu_first is None and passed.records:
                    cpu_first = cpu_seconds(process.pid)
                await asyncio.sleep(0.02)
            cpu = cpu_seconds(process.pid) - (cpu_first or 0.0)
            stamps = [record.timestamp / 1000 for record in passed.records]
    finally:
        process.terminate()
        code = process.wait(30)
    if code != 0:
        raise RuntimeError(f"the pass-through exited with {code}:\n{log_tail(log_path)}")
    return (len(stamps) - 1) / (max(stamps) - min(stamps)), 1000 * cpu / events
