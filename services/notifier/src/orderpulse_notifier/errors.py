"""What can go wrong while delivering, and what to do about it.

DeliveryError
├── PermanentDeliveryError   the message can never go out this way: record a failed outcome
│   └── RenderError          no template, or a template needs a fact the request lacks
└── RetryableDeliveryError   the provider may accept it later: retry with backoff
"""


class DeliveryError(Exception):
    """Base of delivery errors; the subclass decides what happens next."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help; the reason goes into the failed outcome (no personal data)."""


class RenderError(PermanentDeliveryError):
    """A template is missing or cannot render this request."""


class RetryableDeliveryError(DeliveryError):
    """Throttling, a timeout or a provider outage."""
