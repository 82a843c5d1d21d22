"""The exceptions ftbridge raises.

Every error is an ``FtbridgeError``; catch that to catch them all::

    FtbridgeError
    ├── DatasetError
    │   ├── DatasetValidationError      .report: every finding (in ftbridge.validation._errors)
    │   └── DatasetReadError            the file cannot be opened or read at all
    ├── ConfigError
    │   ├── ProviderNotInstalledError   .hint: the pip command that installs it
    │   ├── UnknownProviderError
    │   ├── UnsupportedHyperparameterError   names the provider's equivalent
    │   ├── OptionsError                a provider's options model refused ``options``
    │   └── MissingCredentialsError     says which variable or setting to set
    ├── ProviderError                   .provider, .code, .status_code
    │   ├── TransientProviderError      retried by the core: .retry_after (seconds or None)
    │   │   ├── RateLimitError
    │   │   └── ProviderUnreachableError  cannot connect at all: .url (retried briefly)
    │   ├── AuthenticationError
    │   ├── PermissionDeniedError
    │   │   └── ProviderClosedError     no new jobs any more: see ``ftbridge retrain``
    │   ├── ProviderNotFoundError
    │   ├── RequestRejectedError        any other 4xx: the server's own message
    │   ├── PreflightError              the provider refuses this job before anything is sent
    │   └── NotSupportedError           the provider has no such operation (pause, say)
    ├── JobError                        .job_id
    │   ├── JobNotFoundError
    │   ├── JobFailedError              .code, .message from the provider
    │   ├── JobCancelledError
    │   ├── JobTimeoutError             the job goes on; only the wait ended
    │   └── JobNotSucceededError        asked for a model of a job that did not succeed
    ├── InferenceError                  chatting with a model handle failed
    │   └── ModelShutDownError          the model was retired by its provider
    └── StoreError                      the job store cannot be opened, read or written
                                        (.path: the file; the message says what to do)

Provider packages map their SDK's exceptions onto this tree by exception *type*, and chain the
original (``raise TransientProviderError(...) from exc``). Messages never contain secrets.
"""

from __future__ import annotations

from typing import Any

from ._secrets import scrub


class FtbridgeError(Exception):
    """Base class of every error ftbridge raises.

    Its message and text attributes never hold a secret: each configured secret's value is
    scrubbed from them (``ftbridge._secrets``), a key echoed in a server's error text included.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, scrub(value) if isinstance(value, str) else value)

    def __str__(self) -> str:
        return scrub(super().__str__())

    def __repr__(self) -> str:
        return scrub(super().__repr__())


# -- datasets -----------------------------------------------------------------------------------


class DatasetError(FtbridgeError):
    """A dataset could not be used."""


class DatasetReadError(DatasetError):
    """The dataset file cannot be opened or read (missing, a directory, no permission)."""


# -- configuration ------------------------------------------------------------------------------


class ConfigError(FtbridgeError):
    """Configuration, arguments or options are wrong; the message says what to change."""


class UnknownProviderError(ConfigError):
    """No provider of that name is installed or known."""


class ProviderNotInstalledError(ConfigError):
    """A known provider whose package is not installed; ``.hint`` is the install command."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"provider {name!r} is not installed; install it with: {hint}")
        self.name = name
        self.hint = hint


class UnsupportedHyperparameterError(ConfigError):
    """A hyperparameter the provider cannot honour (never silently dropped)."""


class OptionsError(ConfigError):
    """The provider's options model refused the ``options`` given."""


class MissingCredentialsError(ConfigError):
    """No credentials were found; the message names the variable or setting to set."""


# -- providers ----------------------------------------------------------------------------------


class ProviderError(FtbridgeError):
    """A provider call failed."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.code = code
        self.status_code = status_code


class TransientProviderError(ProviderError):
    """A failure worth retrying: rate limit, 5xx, dropped connection, timeout."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimitError(TransientProviderError):
    """The provider asked us to slow down (HTTP 429); ``.retry_after`` when it said how long."""


class ProviderUnreachableError(TransientProviderError):
    """No connection could be made (refused, unresolvable host, connect timeout): the request
    never left this machine. ``.url``: where it tried to connect. Retried only briefly."""

    def __init__(self, message: str, *, url: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.url = url


class AuthenticationError(ProviderError):
    """The credentials were refused (HTTP 401)."""


class PermissionDeniedError(ProviderError):
    """The credentials lack permission for this (HTTP 403)."""


class ProviderNotFoundError(ProviderError):
    """The provider has no such object (HTTP 404)."""


class RequestRejectedError(ProviderError):
    """The provider refused the request (other 4xx); the message is the server's."""


class PreflightError(ProviderError):
    """The provider's preflight found the job cannot run; nothing was sent or started."""


class NotSupportedError(ProviderError):
    """The provider does not offer this operation."""


class ProviderClosedError(PermissionDeniedError):
    """The provider no longer accepts new fine-tuning jobs; the message names the date and
    ``ftbridge retrain``, which moves a job's data to another provider."""


# -- jobs ---------------------------------------------------------------------------------------


class JobError(FtbridgeError):
    """Something about a particular job."""

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobNotFoundError(JobError):
    """No job with that id is in the job store."""


class JobFailedError(JobError):
    """The job failed; ``.code`` and ``.message`` are the provider's."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str | None = None,
        code: str | None = None,
        provider_message: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, job_id=job_id)
        self.code = code
        self.provider_message = provider_message
        self.param = param


class JobCancelledError(JobError):
    """The job was cancelled."""


class JobTimeoutError(JobError):
    """``wait()`` reached its timeout; the job itself goes on."""


class JobNotSucceededError(JobError):
    """The operation needs a succeeded job (a model handle, say)."""


# -- inference ----------------------------------------------------------------------------------


class InferenceError(FtbridgeError):
    """Chatting with a fine-tuned model failed."""


# -- state --------------------------------------------------------------------------------------


class StoreError(FtbridgeError):
    """The job store (``$FTBRIDGE_HOME/jobs.db``) is damaged, read-only or unreachable."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ModelShutDownError(InferenceError):
    """The model was shut down by its provider; the message names the date when known and
    what is still possible."""
