"""Errors of the Pluggy connector. Each names the endpoint and, where known, the item and record; none carries
the client secret or an API key."""


class PluggyError(RuntimeError):
    """Base class: something Pluggy answered (or did not) stopped the pull."""


class PluggyConfigError(PluggyError):
    """The environment does not describe a usable Pluggy connection (missing client id/secret, bad item list)."""


class PluggyAuthError(PluggyError):
    """`POST /auth` refused the client credentials, or a fresh API key was refused too."""


class PluggyHTTPError(PluggyError):
    """A final HTTP error (after the bounded retries), or no answer at all."""

    def __init__(
        self, endpoint: str, status: int | None, detail: str, *, item_id: str | None = None, attempts: int = 1
    ):
        self.endpoint, self.status, self.detail, self.item_id, self.attempts = (
            endpoint,
            status,
            detail,
            item_id,
            attempts,
        )
        where = f"Pluggy {endpoint}" + (f" (item {item_id})" if item_id else "")
        answer = f"HTTP {status}" if status is not None else "no HTTP response"
        tries = f" after {attempts} attempt" + ("" if attempts == 1 else "s")
        super().__init__(f"{where} failed{tries}: {answer}: {detail}")


class PluggyPayloadError(PluggyError):
    """Pluggy answered 200 with a body that is not the documented shape (not JSON, no `results`, bad cursor)."""
