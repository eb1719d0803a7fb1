"""orderpulse couriers: each carrier's tracking statuses, read from its own payloads, become the
`shipments.v1` facts the status-tracker understands."""
