"""Which channels a notification goes out on. Pure."""

from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.values import Customer


def channels_for(customer: Customer) -> list[Channel]:
    """Email when there is an address the customer lets us use; SMS only with consent."""
    chosen = []
    if customer.email and customer.consent.email:
        chosen.append(Channel.EMAIL)
    if customer.phone and customer.consent.sms:
        chosen.append(Channel.SMS)
    return chosen
