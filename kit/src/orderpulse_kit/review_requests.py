"""A shop's review requests, from the shops file: off unless the shop turns them on.

The returns service sets the timer as an order arrives (it also hears of returns, which cancel
it); the notifier words the request and its stop link.
"""

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator


class ReviewRequests(BaseModel):
    """Whether, when and where the shop asks its customers for a review."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=False, description="Off by default.")
    days_after: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days after the order was delivered or picked up; the request goes at "
        "10:00 in the shop's time zone on that day.",
    )
    link: AnyHttpUrl | None = Field(
        default=None,
        description="Where the customer writes the review: e.g. the shop's Heureka "
        "(Ověřeno zákazníky), Ceneo or Google page.",
    )

    @model_validator(mode="after")
    def _link_when_enabled(self) -> "ReviewRequests":
        if self.enabled and self.link is None:
            raise ValueError("review requests need `link`: the page where customers review")
        return self
