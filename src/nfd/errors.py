"""Typed errors of nfd-client.

The tree::

    NfdError                      anything this library raises on purpose
    ├── UsageError                a wrong combination of options or arguments
    ├── SpecError                 a document (spec, features, NodeFeature) is invalid;
    │                             carries the file and the JSON path inside it
    ├── EvaluationError           NFD's engine refuses an expression at match time
    │                             (wrong value count, not a number, bad regexp, ...)
    ├── DiscoveryError            a feature source cannot read the host
    ├── RegistryError             an OCI registry request failed (network, 5xx, ...)
    │   ├── AuthError             401/403, or credentials that cannot be had
    │   ├── NotFoundError         404: repository, manifest or blob missing
    │   ├── DigestMismatchError   content does not hash to what was promised
    │   └── TooLargeError         a manifest or blob over its size bound
    ├── NoArtifactError           the image carries no compatibility artifact
    ├── VerificationError         no signature on the artifact satisfies the trust policy
    │                             (``reason``: no signature, untrusted signer, ...)
    └── ClusterError              the Kubernetes API could not be read

Errors hold data (location, URL, status). Only :mod:`nfd.cli` turns them into
text and exit codes. A library error that is about a caller's argument names it
as the Python parameter, quoted in backticks (`` `artifact_digest` goes with
`image` ``) and listed in ``arguments``; the command line rewrites exactly those
names into its flags (``--artifact-digest``), so no flag name lives below ``nfd.cli``.
"""

from __future__ import annotations


class NfdError(Exception):
    """Base of every error nfd-client raises on purpose."""

    #: The caller's arguments (Python parameter names) that the message names in backticks.
    arguments: tuple[str, ...] = ()


class UsageError(NfdError):
    """Options or arguments that do not fit together.

    ``arguments`` lists the parameters the message names, e.g.
    ``UsageError("`digests` and `all` exclude each other", arguments=("digests", "all"))``.
    """

    def __init__(self, message: str, *, arguments: tuple[str, ...] = ()):
        self.message = message
        self.arguments = arguments
        super().__init__(message)


def format_location(source: str | None, path: str | None) -> str:
    """Join a file name and a JSON path into ``file: path`` (either may be missing)."""
    parts = [p for p in (source, path) if p]
    return ": ".join(parts)


class SpecError(NfdError):
    """An invalid document, located by file and JSON path.

    ``str()`` gives the one-line message, for example
    ``spec.yaml: compatibilities[0].rules[1].matchFeatures[0].matchExpressions.vendor.op:
    unknown op "Inn" (expected one of In, NotIn, ...)``.
    """

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None,
                 arguments: tuple[str, ...] = ()):
        self.message = message
        self.source = source
        self.path = path
        self.arguments = arguments
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = format_location(self.source, self.path)
        return f"{where}: {self.message}" if where else self.message

    def located(self, source: str) -> SpecError:
        """The same error, naming ``source`` as the file it came from."""
        return type(self)(self.message, source=source, path=self.path, arguments=self.arguments)


class EvaluationError(SpecError):
    """NFD's engine rejects an expression while matching (NFD fails the whole validation)."""

    def prefixed(self, segment: str) -> EvaluationError:
        """The same error with ``segment`` put in front of its JSON path."""
        if not self.path:
            path = segment
        elif self.path.startswith("["):
            path = segment + self.path
        else:
            path = f"{segment}.{self.path}"
        return EvaluationError(self.message, source=self.source, path=path,
                               arguments=self.arguments)


class DiscoveryError(NfdError):
    """A feature source could not read what it must (NFD aborts discovery too)."""

    def __init__(self, source_name: str, message: str):
        self.source_name = source_name
        self.message = message
        super().__init__(f"error during discovery of source {source_name}: {message}")


class RegistryError(NfdError):
    """A registry request failed; names registry, repository and what failed."""

    def __init__(
        self,
        message: str,
        *,
        registry: str | None = None,
        repository: str | None = None,
        status: int | None = None,
    ):
        self.message = message
        self.registry = registry
        self.repository = repository
        self.status = status
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = "/".join(p for p in (self.registry, self.repository) if p)
        return f"{where}: {self.message}" if where else self.message


class AuthError(RegistryError):
    """Authentication or authorisation failed (401/403), or credentials are unusable.

    ``credentials_sent`` tells a refused credential (True) from none at all (False)
    when the registry answered 401; None when that is not the question.
    ``untrusted_token_host`` names a token server on another host that wanted
    credentials we did not send it, since nobody named it trusted.
    """

    def __init__(
        self,
        message: str,
        *,
        registry: str | None = None,
        repository: str | None = None,
        status: int | None = None,
        credentials_sent: bool | None = None,
        untrusted_token_host: str | None = None,
    ):
        super().__init__(message, registry=registry, repository=repository, status=status)
        self.credentials_sent = credentials_sent
        self.untrusted_token_host = untrusted_token_host


class NotFoundError(RegistryError):
    """The registry answered 404 for a repository, manifest, tag or blob."""


class DigestMismatchError(RegistryError):
    """Downloaded content does not match its digest."""


class TooLargeError(RegistryError):
    """A manifest or blob is larger than the configured bound."""


class NoArtifactError(NfdError):
    """The image has no image-compatibility artifact attached."""


class VerificationError(NfdError):
    """A compatibility artifact is not signed as the trust policy requires.

    ``reason`` is one of the ``REASON_*`` words below (what a script may branch on);
    ``artifact`` is the artifact's digest; the message adds the detail.
    """

    NO_SIGNATURE = "no signature"
    UNTRUSTED_SIGNER = "untrusted signer"
    DIGEST_MISMATCH = "digest mismatch"
    EXPIRED_CERTIFICATE = "expired certificate"
    EXPIRED_SIGNATURE = "expired signature"
    INVALID_SIGNATURE = "invalid signature"
    NO_POLICY = "no trust policy applies"

    def __init__(self, reason: str, detail: str, *, artifact: str | None = None):
        self.reason = reason
        self.detail = detail
        self.artifact = artifact
        where = f"{artifact}: " if artifact else ""
        super().__init__(f"{where}{reason}: {detail}")


class ClusterError(NfdError):
    """The Kubernetes API could not be read (connection, auth, unexpected answer)."""

    def __init__(self, message: str, *, arguments: tuple[str, ...] = ()):
        self.arguments = arguments
        super().__init__(message)


class MissingExtraError(UsageError):
    """An optional package this command needs is not installed (one exit code, 2, and
    one install hint for every extra: see :func:`nfd._extras.require_extra`)."""
