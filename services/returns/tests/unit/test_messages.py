"""Notification requests' ids: the same for the same cause, whatever the release."""

import uuid

from orderpulse_returns.messages import derived_id

NAMESPACE = uuid.UUID("5d1f3a7e-2b64-4c0e-9a51-7c3e8f2d4b96")
"""The namespace every release has derived ids in: a request published again after an upgrade
must keep its id, or the notifier sends it twice."""


def test_a_derived_id_is_the_uuid5_of_its_parts_in_the_namespace() -> None:
    causes = [
        ("shop-cz", "ord-10045", "return_instructions"),
        ("obchod-ř", "objednávka/1", "return_step/ret-1/return.requested"),
        ("",),
    ] + [("shop", f"ord-{n}", "return_window_closing/2026-12-04") for n in range(200)]
    for parts in causes:
        assert derived_id(*parts) == str(uuid.uuid5(NAMESPACE, "/".join(parts)))
