"""What can go wrong, in the domain's words: each error says what happened and carries what it is about, but
no HTTP status and no cloud code. `api/errors.py` maps each kind to the code and status of each protocol
family, in one table; a kind is also what an import job records of a line that failed.
"""

from __future__ import annotations

from typing import Literal

PictureProblem = Literal["content", "format", "pixels", "orientation"]
JobKind = Literal["dump", "increment"]


class LookalikeError(Exception):
    """The base of the domain's errors: `message` says what was wrong, for a person to mend it; `detail`
    tells apart the cases of one class (which field, which problem), if it has cases."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail

    @property
    def kind(self) -> str:
        """What went wrong, as a stable name: the class's, and its detail."""
        return f"{type(self).__name__}.{self.detail}" if self.detail else type(self).__name__

    def about(self, what: str) -> LookalikeError:
        """This error, its message prefixed by what it is about (e.g. which of two pictures)."""
        self.message = f"{what}: {self.message}"
        self.args = (self.message,)
        return self


class InstanceNotFound(LookalikeError):
    pass


class BadInstanceName(LookalikeError):
    """A name no instance can have."""


class InstanceExists(LookalikeError):
    """An instance of the name exists already, or is still being deleted."""


class InstanceBusy(LookalikeError):
    """The instance has a job that has not ended."""


class ImageNotFound(LookalikeError):
    pass


class OverQuota(LookalikeError):
    """The instance holds as many images as its capacity."""


class RateLimited(LookalikeError):
    def __init__(self, message: str, retry_after_ms: int):
        super().__init__(message)
        self.retry_after_ms = retry_after_ms  # when a request of the kind would be admitted


class BadPicture(LookalikeError):
    """A picture that cannot be looked at; the detail says why: its bytes (content), its format, its size in
    pixels, its orientation."""

    def __init__(self, problem: PictureProblem, message: str):
        super().__init__(message, problem)


class MissingValue(LookalikeError):
    """A value an image or a request needs was not given; the detail names it (product_id, instance...)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


class BadValue(LookalikeError):
    """A value that breaks its field's rules; the detail names the field (`int_attr2`, `region`...)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


class BadFilter(LookalikeError):
    pass


class Unsupported(LookalikeError):
    """Something this server cannot do as configured (searching by text without a text tower)."""


class JobRunning(LookalikeError):
    """A job already runs for the instance; the detail is its kind (dump, increment)."""

    def __init__(self, job_kind: JobKind, message: str):
        super().__init__(message, job_kind)


class BadJob(LookalikeError):
    """A bulk job that cannot start or go on: no such bucket, a path that leaves it, its meta file gone."""


class BadMetaLine(LookalikeError):
    """A line of increment.meta that is not what the format says."""


class DownloadFailed(LookalikeError):
    """A picture of an import could not be read from its bucket."""


class KeyNotFound(LookalikeError):
    """No such access key in the keys file."""
