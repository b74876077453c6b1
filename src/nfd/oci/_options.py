"""Registry options and the OCI constants the client relies on."""

from __future__ import annotations

from collections.abc import Callable

from nfd._record import FrozenRecord, set_field
from nfd._redact import Redactor
from nfd._timeouts import DEFAULT_REGISTRY_TIMEOUT, check_timeout
from nfd.errors import UsageError
from nfd.oci._platform import Platform

# Bounds (oras-go uses 4 MiB for manifests too; a spec beyond 1 MiB is surely an error).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_SPEC_BYTES = 1024 * 1024
MAX_TOKEN_BYTES = 1024 * 1024
MAX_REFERRER_PAGES = 100
# All pages of one referrers listing together (a page may be up to MAX_MANIFEST_BYTES).
MAX_REFERRERS_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT = DEFAULT_REGISTRY_TIMEOUT
DEFAULT_RETRIES = 3

# Media types (OCI image-spec v1.1).
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT_MANIFESTS = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# The empty descriptor (image-spec manifest.md "Guidance for an Empty Descriptor").
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DATA = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

CREATED_ANNOTATION = "org.opencontainers.image.created"
# The spelling NFD's documentation shows; accepted when reading, never written.
CREATED_ANNOTATION_ALT = "oci.opencontainers.image.created"

ProgressCallback = Callable[[str], None]


class RegistryOptions(FrozenRecord):
    """How to reach a registry: transport, TLS, credentials, platform, bounds.

    Secrets are kept out of ``repr`` so that a logged options object leaks nothing.
    When neither ``username``/``password`` nor ``token`` is given, credentials come
    from the Docker/Podman auth files (``use_auth_files``; ``auth_file`` names the one
    file to read instead of the usual search), else requests are anonymous.
    ``token_hosts`` names the hosts, other than the registry's own, whose token realm
    may receive those credentials. ``timeout`` bounds each registry operation as a
    whole (retries, redirects, auth and bodies included); ``deadline``, a
    ``time.monotonic()`` instant, bounds everything done with these options, so a
    caller with its own budget (an admission webhook) can hand it down::

        RegistryOptions(timeout=2, deadline=time.monotonic() + 5, auth_file="/auth/config.json")
    """

    __slots__ = (
        "auth_file", "ca_file", "deadline", "insecure", "max_manifest_bytes",
        "max_referrers_bytes", "max_spec_bytes", "password", "plain_http", "platform",
        "progress", "redactor", "retries", "timeout", "token", "token_hosts", "use_auth_files",
        "username", "warning",
    )
    _unshown = ("password", "token", "progress", "warning", "redactor")
    _uncompared = ("progress", "warning", "redactor")
    plain_http: bool
    insecure: bool
    ca_file: str | None
    username: str | None
    password: str | None
    token: str | None
    platform: Platform | None
    timeout: float
    retries: int
    max_manifest_bytes: int
    max_spec_bytes: int
    use_auth_files: bool
    token_hosts: tuple[str, ...]
    max_referrers_bytes: int
    auth_file: str | None
    deadline: float | None
    progress: ProgressCallback | None
    # Told what was found and not used (a forged referrer, an unsigned artifact); the
    # text may quote a registry: the callback sanitizes it before showing it.
    warning: ProgressCallback | None
    # Learns every secret the client comes to hold; pass one to clean other text with it.
    redactor: Redactor | None

    def __init__(
        self,
        plain_http: bool = False,
        insecure: bool = False,
        ca_file: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        platform: Platform | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_manifest_bytes: int = MAX_MANIFEST_BYTES,
        max_spec_bytes: int = MAX_SPEC_BYTES,
        use_auth_files: bool = True,
        token_hosts: tuple[str, ...] = (),
        max_referrers_bytes: int = MAX_REFERRERS_BYTES,
        auth_file: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
        warning: ProgressCallback | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        set_field(self, "plain_http", plain_http)
        set_field(self, "insecure", insecure)
        set_field(self, "ca_file", ca_file)
        set_field(self, "username", username)
        set_field(self, "password", password)
        set_field(self, "token", token)
        set_field(self, "platform", platform)
        set_field(self, "timeout", timeout)
        set_field(self, "retries", retries)
        set_field(self, "max_manifest_bytes", max_manifest_bytes)
        set_field(self, "max_spec_bytes", max_spec_bytes)
        set_field(self, "use_auth_files", use_auth_files)
        set_field(self, "token_hosts", token_hosts)
        set_field(self, "max_referrers_bytes", max_referrers_bytes)
        set_field(self, "auth_file", auth_file)
        set_field(self, "deadline", deadline)
        set_field(self, "progress", progress)
        set_field(self, "warning", warning)
        set_field(self, "redactor", redactor)
        try:
            check_timeout(timeout)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    def call_deadline(self, now: float) -> float:
        """When an operation started at ``now`` must end: ``timeout`` later, or at
        ``deadline`` if that is sooner."""
        end = now + self.timeout
        return end if self.deadline is None else min(end, self.deadline)

    def report(self, message: str) -> None:
        """Tell the user about a network step, if they asked for progress."""
        if self.progress is not None:
            self.progress(message)

    def warn(self, message: str) -> None:
        """Tell the user about something found and not used, if anyone listens."""
        if self.warning is not None:
            self.warning(message)
