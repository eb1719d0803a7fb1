"""The baseline: a bare aiokafka consume → produce loop, the ceiling for Python on this machine.

    python bench/passthrough.py BOOTSTRAP GROUP TARGET SOURCE [SOURCE …]

Takes up to 500 records at a time from the source topics, sends each unchanged (same key, same
value) to TARGET, waits for the broker's acknowledgements (acks=all, idempotent, like the
services' producers), then commits: the at-least-once loop every service runs, with no work in
between. Stops on SIGTERM.
"""

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def forward(bootstrap: str, group: str, target: str, sources: list[str]) -> None:
    """Forward every record until SIGTERM."""
    consumer = AIOKafkaConsumer(
        *sources,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    await consumer.start()
    await producer.start()
    try:
        while not stopping.is_set():
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            records = [record for part in batch.values() for record in part]
            sending = [await producer.send(target, r.value, key=r.key) for r in records]
            await asyncio.gather(*sending)
            if records:
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    bootstrap, group, target, *sources = sys.argv[1:]
    asyncio.run(forward(bootstrap, group, target, sources))
