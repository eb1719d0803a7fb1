"""Dead letters as the integrator's catalogue describes them."""

from orderpulse_kit import dead_letters
from orderpulse_schemas import export


def test_readme_dead_letter_headers_are_the_ones_the_consumers_write() -> None:
    readme = (export.PROJECT / "README.md").read_text(encoding="utf-8")
    headers = (
        dead_letters.REASON,
        dead_letters.SOURCE_TOPIC,
        dead_letters.SOURCE_PARTITION,
        dead_letters.SOURCE_OFFSET,
        dead_letters.CONSUMER_GROUP,
    )

    assert all(f"| `{header}` |" in readme for header in headers)
