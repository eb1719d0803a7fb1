"""What the notifier's `/metrics` tells beyond FastStream's message counters: what became of each
send, how often providers were retried, and how long a customer waited for the news.

On the process's default registry, so `/metrics` also carries CPU, memory and file descriptors.
"""

import collections
from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import Counter, Histogram

from orderpulse_schemas.outcomes import NotificationDelivered, NotificationFailed, NotificationSent

OUTCOMES = Counter(
    "orderpulse_notifier_outcomes",
    "Outcomes told, by provider, channel and outcome (sent, failed, delivered).",
    ["provider", "channel", "outcome"],
)
RETRIES = Counter(
    "orderpulse_notifier_retries",
    "Send attempts that failed transiently and were tried again, by channel.",
    ["channel"],
)
EVENT_TO_SEND = Histogram(
    "orderpulse_notifier_event_to_send_seconds",
    "From the time of the event that caused a notification to the provider's acceptance.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)


Outcome = NotificationSent | NotificationFailed | NotificationDelivered


def observe(outcomes: Iterable[Outcome], caused_at: Mapping[str, datetime]) -> None:
    """Count outcomes; time each send from its cause (`caused_at`: by notification id).

    A poll's outcomes are counted per label first: a metric's `labels()` costs more than the
    count itself.
    """
    told: collections.Counter[tuple[str, str, str]] = collections.Counter()
    waited: dict[str, list[float]] = {}
    for outcome in outcomes:
        data = outcome.data
        told[data.provider, data.channel.value, outcome.type.removeprefix("notification.")] += 1
        cause = caused_at.get(data.notification_id)
        if isinstance(outcome, NotificationSent) and cause is not None:
            seconds = (outcome.time - cause).total_seconds()
            waited.setdefault(data.channel.value, []).append(max(seconds, 0.0))
    for labels, count in told.items():
        OUTCOMES.labels(*labels).inc(count)
    for channel, all_seconds in waited.items():
        histogram = EVENT_TO_SEND.labels(channel)
        for seconds in all_seconds:
            histogram.observe(seconds)
