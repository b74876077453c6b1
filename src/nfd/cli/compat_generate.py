"""``nfd compat generate``: a compatibility spec from an image's own ``NVIDIA_REQUIRE_*``.

The spec is printed as YAML (or written with ``--path``), ready for ``attach-spec``;
``--attach`` attaches it to the image it was read from. What the requirements say that GFD's
labels cannot (a GPU brand) is listed on stderr, never dropped silently.
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK

_MAX_LISTED = 3
EXAMPLES = (
    ("the spec an image's NVIDIA_REQUIRE_* ask for",
     "nfd compat generate --from-image registry.example.com/cuda-app:v1"),
    ("from a saved image config, into a file",
     "nfd compat generate --from-config config.json --path spec.yaml"),
    ("see what would be attached to the image, writing nothing",
     "nfd compat generate --from-image registry.example.com/cuda-app:v1 --attach --dry-run"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-image", metavar="REF",
                        help="read the config of this image (this host's platform, or "
                             "--platform's) from its registry")
    source.add_argument("--from-config", metavar="FILE",
                        help="read an image config JSON (OCI config, 'docker inspect' or "
                             "'skopeo inspect --config' output)")
    parser.add_argument("--brand", choices=("omit", "ignore"), default="omit",
                        help="GFD publishes no GPU brand: 'omit' leaves out alternatives that "
                             "name one (stricter than the toolkit), 'ignore' drops the brand "
                             "factor (looser); default: omit")
    parser.add_argument("--path", metavar="FILE",
                        help="write the spec to FILE (atomically) instead of stdout")
    parser.add_argument("--attach", action="store_true",
                        help="also attach the spec to --from-image (as attach-spec does)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the spec; write no --path and attach nothing (with "
                        "--attach: say what would be attached)")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml",
                        help="format of the spec (default: yaml)")
    add_registry_arguments(parser, platform_help=(
        "read this platform's config of a multi-platform image (default: this host's); "
        "with --attach the spec is attached to that platform's manifest"))


def _report_not_expressed(items: list[str]) -> None:
    from nfd._text import printable_line

    if not items:
        return
    shown = "; ".join(printable_line(item) for item in items[:_MAX_LISTED])
    more = f" (and {len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
    print(f"nfd compat generate: warning: {len(items)} part(s) of the image's requirements are "
          f"not in the spec: {shown}{more}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from nfd._io import read_bounded
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.cli._write import check_target, write_atomically
    from nfd.cli._yaml_emit import dump_yaml
    from nfd.compat import MAX_CONFIG_BYTES, env_from_config, spec_from_env
    from nfd.errors import UsageError

    if args.attach and not args.from_image:
        raise UsageError("--attach goes with --from-image")
    if args.path:
        check_target("--path", args.path)
    options = registry_options_from_args(args)
    if args.from_image:
        from nfd.compat import read_image_config

        config = read_image_config(args.from_image, options)
        env, origin = config.env, f"{config.image}@{config.manifest_digest}"
    else:
        data = read_bounded(args.from_config, MAX_CONFIG_BYTES)
        env, origin = env_from_config(data, args.from_config), args.from_config
    translation = spec_from_env(env, description=f"NVIDIA requirements of {origin}",
                                brand=args.brand)
    _report_not_expressed(translation.not_expressed)
    if args.output == "json":
        from nfd._go.json import dumps

        text = dumps(translation.spec, indent=2) + "\n"
    else:
        text = dump_yaml(translation.spec)
    if args.path and not args.dry_run:
        write_atomically("--path", args.path, text)
    else:
        sys.stdout.write(text)
    if args.attach:
        _attach(args, text.encode(), options)
    return EXIT_OK


def _attach(args: argparse.Namespace, data: bytes, options: object) -> None:
    from nfd.compat import attach_compat_spec
    from nfd.oci import RegistryOptions

    assert isinstance(options, RegistryOptions)
    result = attach_compat_spec(args.from_image, data, options, source="generated spec",
                                dry_run=args.dry_run)
    verb = "unchanged" if result.unchanged else (
        "would attach (dry run)" if result.dry_run else "attached")
    from nfd._text import printable_line

    print(f"{verb}: {result.artifact_digest} on {result.image}@"
          f"{printable_line(result.subject)}", file=sys.stderr)
