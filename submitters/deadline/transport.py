"""The transport under :class:`~submitters.deadline.client.DeadlineClient`: one HTTP call to the Web Service.

Kept apart from the endpoint calls so the rules every call shares live in one place and can be read on their own.

Retries: connection failures and 5xx answers are retried a bounded number of times with exponential backoff; a 4xx
is the caller's mistake and is never retried. A POST (a submission) whose connection broke after it was sent is not
resent either, since the service may have created the job: the error says so (:class:`DeadlineUncertain`), and the
submitter looks for such a job by its rotofarm id before rolling back.

Every failure is a :class:`DeadlineError` that names the URL and what to check. The password is only ever handed to
``requests`` for basic auth: it is not logged, not in ``repr`` and not in any error text; credentials written into
the URL itself (``http://user:secret@host``) are redacted from every message and log line (see
:mod:`submitters.deadline.errors`).

Answers are checked, not trusted: the Web Service answers JSON (or a plain ``Success``), never HTML and never a
redirect, so a login page, an SSO redirect or text that does not parse where JSON is due is a
:class:`DeadlineBadReply`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from submitters.deadline.errors import (
    DeadlineAuthError,
    DeadlineBadReply,
    DeadlineRequestError,
    DeadlineServerError,
    DeadlineUncertain,
    DeadlineUnreachable,
    checked_url,
    checked_verify,
    excerpt,
    redact_url,
)

log = logging.getLogger(__name__)


def _never_sent(exc: Exception) -> bool:
    """True when no byte of the request can have reached the service (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):
            return True
        stack.extend(
            a
            for a in (*getattr(item, "args", ()), getattr(item, "reason", None), item.__cause__, item.__context__)
            if isinstance(a, BaseException)
        )
    return False


class WebServiceConnection:
    """One Web Service's address, credentials, TLS and retry settings, and the checked request every call makes.

    ``verify`` is True (system CAs), False (only for a lab; logged as a warning) or a CA bundle path.
    ``timeout`` is (connect, read) seconds. ``retries`` counts extra attempts after the first one.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        verify: bool | str = True,
        timeout: tuple[float, float] = (5.0, 60.0),
        retries: int = 3,
        backoff_s: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self._base = checked_url(url)
        self.url = redact_url(self._base)
        self.user = user
        self._auth = (user, password or "") if user else None
        self.verify = checked_verify(verify)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._session = session or requests.Session()
        if verify is False:
            log.warning("TLS verification is off for %s", self.url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, user={self.user!r})"

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None) -> Any:
        """One call with retries; returns the decoded JSON (or the text when the answer is not JSON)."""
        url = f"{self._base}{path}"
        shown = f"{self.url}{path}"
        if params:
            shown += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        attempt = 0
        while True:
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    auth=self._auth,
                    verify=self.verify,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise DeadlineUnreachable(
                    f"TLS handshake failed: {type(exc).__name__}",
                    url=shown,
                    hint="check the certificate, or point deadline.ca_bundle at the studio CA bundle",
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if method == "POST" and not _never_sent(exc):
                    raise DeadlineUncertain(
                        f"the connection broke after the request was sent ({type(exc).__name__}); not resent, "
                        "since the service may have acted on it",
                        url=shown,
                        hint="check Monitor for the job before submitting again",
                    ) from None
                if attempt < self.retries:
                    self._sleep(attempt, method, shown, type(exc).__name__)
                    attempt += 1
                    continue
                raise DeadlineUnreachable(
                    f"the Web Service does not answer ({type(exc).__name__} after {attempt + 1} attempts)",
                    url=shown,
                    hint="check deadline.url (host and port) and that the Deadline Web Service is running",
                ) from None
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                raise DeadlineRequestError(
                    f"the request could not be made ({type(exc).__name__})",
                    url=shown,
                    hint="check deadline.url and deadline.ca_bundle in farm.yaml",
                ) from None
            if resp.status_code >= 500 and attempt < self.retries:
                self._sleep(attempt, method, shown, f"HTTP {resp.status_code}")
                attempt += 1
                continue
            return self._decode(resp, method, shown)

    def _sleep(self, attempt: int, method: str, shown: str, why: str) -> None:
        delay = self.backoff_s * (2**attempt)
        log.info("%s %s failed (%s); retry %d/%d in %.2fs", method, shown, why, attempt + 1, self.retries, delay)
        time.sleep(delay)

    def _decode(self, resp: requests.Response, method: str, shown: str) -> Any:
        text = resp.text.strip()
        detail = excerpt(text.splitlines()[0]) if text else resp.reason
        status = resp.status_code
        if 300 <= status < 400:
            raise DeadlineBadReply(
                f"HTTP {status}: the Web Service redirected to {excerpt(resp.headers.get('Location', '?'))}",
                url=shown,
                status=status,
                hint="a login or SSO page stands in front of the Web Service; point deadline.url at the service itself",
            )
        if status in (401, 403):
            raise DeadlineAuthError(
                f"HTTP {status}: credentials refused",
                url=shown,
                status=status,
                hint="check deadline.user and the password variable named by deadline.password_env",
            )
        if 400 <= status < 500:
            raise DeadlineRequestError(f"{method} refused, HTTP {status}: {detail}", url=shown, status=status)
        if status >= 500:
            raise DeadlineServerError(
                f"HTTP {status} after {self.retries + 1} attempts: {detail}",
                url=shown,
                status=status,
                hint="see the Web Service log on the Deadline server",
            )
        if not text:
            return None
        if text.startswith("<"):
            raise DeadlineBadReply(
                f"HTTP {status}: the answer is an HTML page, not the Web Service's ({excerpt(text)})",
                url=shown,
                status=status,
                hint="a login or proxy page answers at deadline.url; point it at the Deadline Web Service itself",
            )
        try:
            return resp.json()
        except ValueError:
            return text

    def _list(self, answer: Any, path: str, item: type | tuple[type, ...]) -> list[Any]:
        """``answer`` as the list the Web Service sends for ``path`` (``null`` is an empty one), or a bad reply."""
        if answer is None:
            return []
        if not isinstance(answer, list) or not all(isinstance(x, item) for x in answer):
            raise DeadlineBadReply(
                f"expected a JSON list, the service answered {excerpt(answer)!r}", url=f"{self.url}{path}"
            )
        return answer
