"""Registry flags shared by the commands that talk to a registry (NFD's names kept)."""

from __future__ import annotations

import argparse
import sys

from nfd._io import read_bounded
from nfd._lazy import TYPE_CHECKING
from nfd._timeouts import DEFAULT_REGISTRY_TIMEOUT as DEFAULT_TIMEOUT
from nfd.errors import UsageError

if TYPE_CHECKING:  # the registry code loads only when a command talks to a registry
    from collections.abc import Callable
    from typing import TextIO

    from nfd.oci import Platform, Redactor, RegistryOptions

MAX_SECRET_BYTES = 64 * 1024


def add_registry_arguments(parser: argparse.ArgumentParser, *,
                           platform_help: str | None = None) -> None:
    """Add --plain-http, --insecure, --ca-file, credentials, --platform and --timeout.

    ``platform_help`` replaces the reading commands' --platform help (``attach-spec``
    writes to what the reference names unless a platform is given).
    """
    group = parser.add_argument_group("registry")
    group.add_argument("--plain-http", action="store_true",
                       help="use plain HTTP for all registry communications")
    group.add_argument("--insecure", action="store_true",
                       help="do not verify the registry's TLS certificate")
    group.add_argument("--ca-file", metavar="FILE",
                       help="also trust the CA certificates in FILE (PEM)")
    group.add_argument("--registry-username", metavar="USER", help="registry user name")
    secret = group.add_mutually_exclusive_group()
    secret.add_argument("--registry-password-stdin", action="store_true",
                        help="read the registry password from stdin")
    secret.add_argument("--registry-token-stdin", action="store_true",
                        help="read a registry access token from stdin")
    platform = group.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]",
        help=platform_help or ("on a multi-platform image, look for artifacts on the index and "
                               "on this platform's manifest (default: this host's, "
                               "%(host_platform)s)"))
    # argparse fills %(name)s from the action's attributes when it prints help: the host's
    # platform is worked out then, not on every run.
    platform.host_platform = _HostPlatform()  # type: ignore[attr-defined]
    group.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help="time limit per registry operation, retries and auth included "
                       f"(default {DEFAULT_TIMEOUT:g})")
    group.add_argument("--registry-token-host", action="append", default=[], metavar="HOST",
                       help="a token server on another host than the registry that may "
                       "receive your registry credentials (repeatable; by default they go "
                       "only to the registry's own host)")


class _HostPlatform:
    def __str__(self) -> str:
        from nfd.oci import host_platform

        return str(host_platform())


def command_redactor(args: argparse.Namespace) -> Redactor:
    """The one redactor of this command run: the registry client teaches it every secret
    it holds, and the error printer (``_base.run_command``) cleans with it."""
    from nfd.oci import Redactor

    redactor = getattr(args, "nfd_redactor", None)
    if not isinstance(redactor, Redactor):
        redactor = Redactor()
        args.nfd_redactor = redactor
    return redactor


def checked_seconds(flag: str, value: float) -> float:
    """``value`` if it is a usable timeout, else a usage error naming ``flag``."""
    from nfd._timeouts import MAX_TIMEOUT, check_timeout

    try:
        return check_timeout(value)
    except ValueError:
        raise UsageError(f"{flag} must be a number of seconds above 0 and at most "
                         f"{MAX_TIMEOUT:g}, not {value!r}") from None


def platform_from_args(args: argparse.Namespace) -> Platform | None:
    """The parsed ``--platform``; a malformed one is a usage error (exit 2), raised before
    any registry is contacted."""
    text = getattr(args, "platform", None)
    if text is None:
        return None
    from nfd.oci import Platform

    return Platform.parse(text)


def digest_argument(value: str) -> str:
    """argparse ``type`` for digest flags: a malformed digest is a usage error at once,
    before any registry is contacted. A shortened one is resolved against the image's
    artifacts later (``pick_artifact``)."""
    from nfd.oci import is_valid_digest, split_digest_prefix

    if not is_valid_digest(value) and split_digest_prefix(value) is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a digest (expected sha256:<64 hex>, sha512:<128 hex>, or the "
            "first 12 or more hex digits of one, as 'nfd compat list' shows them)")
    return value


def read_secret(stream: TextIO) -> str:
    """The secret on ``stream``, without its final newline (as NFD's readStdin).

    Bounded (``< /dev/zero`` must not fill memory) and UTF-8, without control characters.
    """
    raw = read_bounded(stream, MAX_SECRET_BYTES)
    if len(raw) > MAX_SECRET_BYTES:
        raise UsageError(f"the registry secret on stdin is over {MAX_SECRET_BYTES} bytes")
    try:
        secret = raw.decode()
    except UnicodeDecodeError:
        raise UsageError("the registry secret on stdin is not UTF-8 text") from None
    secret = secret.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise UsageError("nothing was read from stdin for the registry secret")
    if not secret.isprintable():
        raise UsageError("the registry secret on stdin holds control characters")
    return secret


def progress_reporter(stream: TextIO | None = None) -> Callable[[str], None] | None:
    """A progress printer for stderr, only when it is a terminal."""
    out = stream or sys.stderr
    if not out.isatty():
        return None

    def report(message: str) -> None:
        from nfd._text import printable_line

        print(f"… {printable_line(message)}", file=out, flush=True)

    return report


def warning_printer(redactor: Redactor, stream: TextIO | None = None) -> Callable[[str], None]:
    """Print a registry warning on stderr as one line, without controls or secrets."""

    def warn(message: str) -> None:
        from nfd._text import printable_line

        print(f"nfd: warning: {printable_line(redactor.clean(message))}",
              file=stream or sys.stderr, flush=True)

    return warn


def registry_options_from_args(args: argparse.Namespace) -> RegistryOptions:
    """Build :class:`RegistryOptions` from parsed flags, reading a stdin secret if asked."""
    from nfd.oci import RegistryOptions

    platform = platform_from_args(args)
    if getattr(args, "registry_password_stdin", False) and getattr(
            args, "registry_token_stdin", False):
        raise UsageError("cannot use --registry-token-stdin and --registry-password-stdin "
                         "at the same time")
    username: str | None = getattr(args, "registry_username", None)
    password = token = None
    if getattr(args, "registry_password_stdin", False):
        if not username:
            raise UsageError("--registry-password-stdin needs --registry-username")
        password = read_secret(sys.stdin)
    elif getattr(args, "registry_token_stdin", False):
        token = read_secret(sys.stdin)
    elif username:
        raise UsageError("--registry-username needs --registry-password-stdin")
    timeout = checked_seconds("--timeout", getattr(args, "timeout", DEFAULT_TIMEOUT))
    redactor = command_redactor(args)
    return RegistryOptions(
        redactor=redactor,
        plain_http=bool(getattr(args, "plain_http", False)),
        insecure=bool(getattr(args, "insecure", False)),
        ca_file=getattr(args, "ca_file", None),
        username=username if password is not None else None,
        password=password,
        token=token,
        platform=platform,
        timeout=timeout,
        token_hosts=tuple(getattr(args, "registry_token_host", None) or ()),
        progress=progress_reporter(),
        warning=warning_printer(redactor),
    )
