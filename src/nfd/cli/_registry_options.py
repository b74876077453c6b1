"""Registry flags shared by the commands that talk to a registry (NFD's names kept)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

from nfd.errors import UsageError
from nfd.oci import DEFAULT_TIMEOUT, Platform, RegistryOptions, host_platform


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
    group.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                       help=platform_help or (
                           "on a multi-platform image, look for artifacts on the index and on "
                           f"this platform's manifest (default: this host's, {host_platform()})"))
    group.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"time limit per registry request (default {DEFAULT_TIMEOUT:g})")


def platform_from_args(args: argparse.Namespace) -> Platform | None:
    """The parsed ``--platform``; a malformed one is a usage error (exit 2), raised before
    any registry is contacted."""
    text = getattr(args, "platform", None)
    return Platform.parse(text) if text is not None else None


def digest_argument(value: str) -> str:
    """argparse ``type`` for digest flags: a malformed digest is a usage error at once,
    before any registry is contacted."""
    from nfd.oci import is_valid_digest

    if not is_valid_digest(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a digest (expected sha256:<64 hex> or sha512:<128 hex>)")
    return value


def read_secret(stream: TextIO) -> str:
    """The secret on ``stream``, without its final newline (as NFD's readStdin)."""
    secret = stream.read()
    secret = secret.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise UsageError("nothing was read from stdin for the registry secret")
    return secret


def progress_reporter(stream: TextIO | None = None) -> Callable[[str], None] | None:
    """A progress printer for stderr, only when it is a terminal."""
    out = stream or sys.stderr
    if not out.isatty():
        return None

    def report(message: str) -> None:
        print(f"… {message}", file=out, flush=True)

    return report


def registry_options_from_args(args: argparse.Namespace) -> RegistryOptions:
    """Build :class:`RegistryOptions` from parsed flags, reading a stdin secret if asked."""
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
    timeout = getattr(args, "timeout", DEFAULT_TIMEOUT)
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout!r}")
    return RegistryOptions(
        plain_http=bool(getattr(args, "plain_http", False)),
        insecure=bool(getattr(args, "insecure", False)),
        ca_file=getattr(args, "ca_file", None),
        username=username if password is not None else None,
        password=password,
        token=token,
        platform=platform,
        timeout=float(timeout),
        progress=progress_reporter(),
    )
