"""One module per carrier, each table-driven: `CODES` maps every status code of the carrier's
public documentation to a `Milestone` (`IGNORED` when it means nothing to a customer), and `read`
turns the carrier's own payload into `Report`s."""
