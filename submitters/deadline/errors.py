"""What can go wrong between rotofarm and the Deadline Web Service, and the checks that catch it early.

Typed errors (one :class:`DeadlineError` family, each naming the URL), the redaction that keeps credentials written
into a URL (``http://user:secret@host``) out of every message, the form of a Deadline job id, and the checks of
the configured URL and CA bundle that turn what ``requests`` would raise later (``InvalidURL``, ``OSError``) into
one typed error now.

Job ids: the repository is a MongoDB database (``deadline10db``, collections ``Jobs``/``JobTasks``, as public farm
scripts read it) and a job's ``_id`` is its ObjectId: 24 hexadecimal digits whose first 8 are the creation time in
seconds (public ``deadlinecommand`` wrappers read ``JobID=([0-9a-fA-F]+)`` from its output).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from roto_core.errors import ConfigError, RotofarmError

JOB_ID = re.compile(r"[0-9a-f]{24}")
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?")
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s]*@")
SHOWN_CHARS = 120


def redact_url(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced: ``http://user:pw@host`` → ``http://***@host``."""
    return _CREDENTIALS.sub(r"\1***@", text)


def is_job_id(value: Any) -> bool:
    """True for a job id of Deadline's form (a MongoDB ObjectId: 24 lower-case hexadecimal digits)."""
    return isinstance(value, str) and JOB_ID.fullmatch(value) is not None


def job_id_time(job_id: str) -> int:
    """When a job was created, in Unix seconds, read from its ObjectId."""
    return int(job_id[:8], 16)


def excerpt(answer: Any) -> str:
    """The start of an answer, for an error message (one line, credentials redacted)."""
    text = " ".join(str(answer).split())
    return redact_url(text[:SHOWN_CHARS] + ("..." if len(text) > SHOWN_CHARS else ""))


class DeadlineError(RotofarmError):
    """Anything that went wrong talking to the Deadline Web Service."""

    def __init__(self, message: str, *, url: str, status: int | None = None, hint: str | None = None) -> None:
        self.url = redact_url(url)
        self.status = status
        super().__init__(redact_url(message), where=self.url, hint=hint)


class DeadlineUnreachable(DeadlineError):
    """No HTTP answer at all: wrong host/port, service down, TLS refused, or timeouts."""


class DeadlineUncertain(DeadlineUnreachable):
    """The connection broke after a non-idempotent request was sent: it may or may not have taken effect."""


class DeadlineAuthError(DeadlineError):
    """401/403: the service wants (other) credentials."""


class DeadlineRequestError(DeadlineError):
    """Another 4xx: the request itself was refused (missing Plugin, unknown id, bad command)."""


class DeadlineServerError(DeadlineError):
    """5xx still failing after the retries."""


class DeadlineBadReply(DeadlineError):
    """A 2xx/3xx answer that is not what the Web Service sends: not JSON where JSON is due, an HTML page (a login or
    proxy page in front of the service), a redirect (SSO), a job without an id of Deadline's form."""


def checked_url(url: str) -> str:
    """The Web Service URL, refused with a typed error when ``requests`` could not use it."""
    hint = "set deadline.url in farm.yaml, e.g. http://deadline:8082"
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what raises for a bad one
    except ValueError as exc:
        raise DeadlineRequestError(f"the Web Service URL is malformed ({exc})", url=shown, hint=hint) from None
    if parts.scheme not in ("http", "https"):
        raise DeadlineRequestError("the Web Service URL must start with http:// or https://", url=shown, hint=hint)
    host = parts.hostname or ""
    if not host:
        raise DeadlineRequestError("the Web Service URL has no host", url=shown, hint=hint)
    if not HOST_NAME.fullmatch(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise DeadlineRequestError(f"the Web Service URL has a bad host {host!r}", url=shown, hint=hint) from None
    return url.rstrip("/")


def checked_verify(verify: bool | str) -> bool | str:
    """A CA bundle path must exist now, not fail later inside ``requests`` with an OSError."""
    if isinstance(verify, str) and not Path(verify).exists():
        raise ConfigError(
            f"the CA bundle {verify} does not exist",
            where="deadline.ca_bundle",
            hint="point deadline.ca_bundle at the studio CA bundle (a PEM file), or remove it to use the system CAs",
        )
    return verify
