"""Email through Amazon SES v2, as raw MIME so SES sends exactly what the other adapters would."""

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import EmailMessage

if TYPE_CHECKING:
    from mypy_boto3_sesv2.type_defs import SendEmailRequestTypeDef

# Error codes SES may accept later: throttling, the daily quota (a rolling 24 h window) and a
# paused account or configuration set (an operator resumes it; failing every mail meanwhile
# would lose them all). The notifier's bounded backoff still ends in a failure eventually.
RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "LimitExceededException",
        "SendingPausedException",
        "ServiceUnavailable",
        "InternalFailure",
        "RequestTimeout",
    }
)


class SesSender:
    """Sends each email with `SendEmail` (Raw content), optionally in a configuration set.

    boto3 blocks, so calls run on a small dedicated thread pool: it bounds concurrent calls to
    what the HTTP connection pool holds and leaves the loop's default executor to others.
    botocore's own retries are off: the notifier's retry policy owns backoff, and retrying in
    two places multiplies the load on a throttled account.
    """

    name = "ses"
    reads_html = False

    def __init__(
        self,
        region: str,
        *,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
        max_concurrency: int = 10,
        timeout: float = 10.0,
    ) -> None:
        session = boto3.session.Session(region_name=region)
        if session.get_credentials() is None:
            raise ValueError(
                "SES needs AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, or run with a role"
            )
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=max_concurrency,
        )
        self._client = session.client("sesv2", endpoint_url=endpoint_url, config=config)
        self._configuration_set = configuration_set
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="ses")

    async def send_email(self, message: EmailMessage) -> str:
        """Send the email; the provider id is SES's MessageId (SES replaces our Message-ID)."""
        request: SendEmailRequestTypeDef = {"Content": {"Raw": {"Data": message.raw.data}}}
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        call = functools.partial(self._client.send_email, **request)
        try:
            response = await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except (ClientError, BotoCoreError) as error:
            # SES's messages may quote addresses; only the error code goes on.
            raise ses_error(error) from None
        return response["MessageId"]

    async def aclose(self) -> None:
        """Wait for calls in flight, then close the pool's threads and connections."""
        await asyncio.to_thread(self._executor.shutdown)
        self._client.close()


def ses_error(error: ClientError | BotoCoreError) -> DeliveryError:
    """Map a boto error to retryable or permanent, with a reason free of personal data."""
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return RetryableDeliveryError("ses timed out")
    if isinstance(error, HTTPClientError | BotoConnectionError):
        return RetryableDeliveryError(f"ses connection failed ({type(error).__name__})")
    if isinstance(error, BotoCoreError):
        return PermanentDeliveryError(f"ses {type(error).__name__}")
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    reason = f"ses {code or status}"
    if code in RETRYABLE_CODES or status == 429 or status >= 500:
        return RetryableDeliveryError(reason)
    return PermanentDeliveryError(reason)
