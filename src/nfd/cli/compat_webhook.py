"""``nfd compat webhook serve|manifests``: the admission webhook and what deploys it.

One entry in the command table, two subcommands here; each subcommand's module
is small and imports its libraries only when run.
"""

from __future__ import annotations

import argparse

SUBCOMMANDS = {
    "serve": ("nfd.cli.compat_webhook_serve",
              "run the mutating admission webhook (HTTPS: /mutate, /healthz, /metrics)"),
    "manifests": ("nfd.cli.compat_webhook_manifests",
                  "print the Kubernetes objects that deploy the webhook"),
}


EXAMPLES = (
    ("print the webhook's objects, TLS from cert-manager",
     "nfd compat webhook manifests --allow-registry registry.example.com "
     "--cert-manager selfsigned"),
    ("run the webhook", "nfd compat webhook serve --tls-cert-file tls.crt "
     "--tls-key-file tls.key --allow-registry registry.example.com"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import importlib

    sub = parser.add_subparsers(dest="webhook_command", metavar="{serve,manifests}",
                                required=True)
    from nfd.cli._base import help_epilog

    for name, (module, summary) in SUBCOMMANDS.items():
        loaded = importlib.import_module(module)
        child = sub.add_parser(name, help=summary, description=summary,
                               prog=f"nfd compat webhook {name}",
                               epilog=help_epilog(getattr(loaded, "EXAMPLES", ())))
        loaded.add_arguments(child)


def run(args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(SUBCOMMANDS[args.webhook_command][0])
    code: int = module.run(args)
    return code
