"""Where the cluster is and who we are: kubeconfig, contexts, exec plugins, service account.

The ``kubernetes`` package reads kubeconfig files as kubectl does (``--kubeconfig``,
else ``$KUBECONFIG`` which may list several files, else ``~/.kube/config``),
contexts, and the in-cluster service account. Its exec credential plugin runner
waits forever for a plugin that never answers, so plugins are run here, with
a deadline. It is imported only here, only when a live cluster is asked for.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nfd.cluster._kube_defaults import DEFAULT_EXEC_TIMEOUT, SERVICE_ACCOUNT_DIR
from nfd.errors import ClusterError, UsageError

MAX_PLUGIN_OUTPUT = 1024 * 1024


@dataclass(frozen=True)
class ClusterAccess:
    """What a request needs: the server, TLS material, and the headers that authenticate."""

    server: str
    verify: bool
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    headers: dict[str, str]
    logs: tuple[str, ...]
    secrets: tuple[str, ...]
    proxy: str | None = None
    tls_server_name: str | None = None


class _Captured(logging.Handler):
    """Keeps what the client logs while loading credentials (it logs plugin failures)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def _capture_logs() -> Iterator[_Captured]:
    handler = _Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _kubeconfig_path(kubeconfig: str | None) -> str | None:
    if kubeconfig:
        return kubeconfig
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else None


def _require_client() -> None:
    """A clear error instead of an ImportError when the client library is missing."""
    from nfd._extras import require_extra

    require_extra("kubernetes", "cluster", "live cluster mode",
                  otherwise="use `nodefeatures` with a 'kubectl get nodefeatures -A -o json' "
                  "dump", arguments=("nodefeatures",))


def run_exec_plugin(config: dict[str, Any], cwd: str | None, cluster: dict[str, Any] | None,
                    timeout: float) -> dict[str, Any]:
    """Run a client.authentication.k8s.io exec plugin; its ``status`` (token or cert).

    As the ``kubernetes`` package runs it (env, args, ``KUBERNETES_EXEC_INFO``,
    interactive on a terminal), but with a deadline and a bounded answer.
    """
    command = config.get("command")
    api_version = config.get("apiVersion")
    if not isinstance(command, str) or not isinstance(api_version, str):
        raise UsageError("exec credential plugin: 'command' and 'apiVersion' are required")
    args = [command, *[str(a) for a in config.get("args") or []]]
    env = os.environ.copy()
    env.update({str(e["name"]): str(e["value"]) for e in config.get("env") or []
                if isinstance(e, dict) and "name" in e and "value" in e})
    interactive = sys.stdout.isatty()
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential",
                            "spec": {"interactive": interactive}}
    if config.get("provideClusterInfo") and cluster is not None:
        info["spec"]["cluster"] = cluster
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    try:
        done = subprocess.run(args, env=env, cwd=cwd or None, timeout=timeout, check=False,
                              stdin=None if interactive else subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=None if interactive else subprocess.PIPE)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"exec credential plugin {command} did not answer within "
                           f"{timeout:g}s") from None
    except OSError as exc:
        raise ClusterError(f"exec credential plugin {command}: {exc.strerror or exc}") from None
    return _plugin_status(command, api_version, done)


def _plugin_status(command: str, api_version: str,
                   done: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    if done.returncode != 0:
        detail = " ".join((done.stderr or b"").decode(errors="replace").split())[:300]
        raise ClusterError(f"exec credential plugin {command} exited {done.returncode}"
                           + (f": {detail}" if detail else ""))
    if len(done.stdout) > MAX_PLUGIN_OUTPUT:
        raise ClusterError(f"exec credential plugin {command}: answer over "
                           f"{MAX_PLUGIN_OUTPUT} bytes")
    try:
        data = json.loads(done.stdout)
        status = data["status"]
        version = data["apiVersion"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ClusterError(f"exec credential plugin {command}: not an ExecCredential") from None
    if version != api_version or not isinstance(status, dict):
        raise ClusterError(f"exec credential plugin {command}: answered apiVersion "
                           f"{str(version)[:80]!r}, not {api_version!r}")
    return status


def _loader_class(timeout: float) -> Any:
    """``KubeConfigLoader`` with the exec plugin run by :func:`run_exec_plugin`."""
    # The library's loaders are untyped; Any-typed handles keep mypy --strict quiet.
    kube: Any = importlib.import_module("kubernetes.config.kube_config")
    dateutil: Any = importlib.import_module("kubernetes.config.dateutil")

    class Loader(kube.KubeConfigLoader):  # type: ignore[misc]
        def _load_from_exec_plugin(self) -> bool | None:
            me: Any = self
            if "exec" not in me._user:
                return None
            base_path = me._get_base_path(me._cluster.path)
            cluster = me._cluster.value if me._cluster is not None else None
            status = run_exec_plugin(dict(me._user["exec"].value), base_path, cluster, timeout)
            if "token" in status:
                me.token = f"Bearer {status['token']}"
            elif "clientCertificateData" in status and "clientKeyData" in status:
                for attr, key in (("cert_file", "clientCertificateData"),
                                  ("key_file", "clientKeyData")):
                    setattr(me, attr, kube.FileOrData(
                        status, None, data_key_name=key, file_base_path=base_path,
                        base64_file_content=False, temp_file_path=me._temp_file_path).as_file())
            else:
                raise ClusterError("exec credential plugin gave neither a token nor a "
                                   "client certificate")
            if "expirationTimestamp" in status:
                me.expiry = dateutil.parse_rfc3339(status["expirationTimestamp"])
            return True

    return Loader


def load_access(kubeconfig: str | None, context: str | None, in_cluster: bool,
                service_account_dir: str = SERVICE_ACCOUNT_DIR,
                exec_timeout: float = DEFAULT_EXEC_TIMEOUT) -> ClusterAccess:
    """Read the configuration (never the library's global one, never written back)."""
    cfg, logs = _load_configuration(kubeconfig, context, in_cluster, service_account_dir,
                                    exec_timeout)
    headers: dict[str, str] = {}
    for setting in cfg.auth_settings().values():
        if setting.get("in") == "header" and setting.get("value"):
            headers[str(setting["key"])] = str(setting["value"])
    secrets = tuple(v.split(" ", 1)[-1] for v in headers.values())
    return ClusterAccess(str(cfg.host).rstrip("/"), bool(cfg.verify_ssl), cfg.ssl_ca_cert,
                         cfg.cert_file, cfg.key_file, headers, tuple(logs), secrets,
                         cfg.proxy or None, getattr(cfg, "tls_server_name", None) or None)


def _load_configuration(kubeconfig: str | None, context: str | None, in_cluster: bool,
                        service_account_dir: str, exec_timeout: float) -> tuple[Any, list[str]]:
    _require_client()
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException

    # The library's loaders are untyped; one Any-typed handle keeps mypy --strict quiet.
    kconfig: Any = importlib.import_module("kubernetes.config")
    cfg = client.Configuration()
    path = None if in_cluster else _kubeconfig_path(kubeconfig)
    with _capture_logs() as logs:
        try:
            if path is None:
                if context:
                    raise UsageError("`context` needs a kubeconfig (none found)",
                                     arguments=("context",))
                if not os.environ.get("KUBERNETES_SERVICE_HOST") and not in_cluster:
                    raise UsageError("no kubeconfig found (`kubeconfig`, $KUBECONFIG, "
                                     "~/.kube/config) and not running in a cluster; or give "
                                     "`nodefeatures` FILE",
                                     arguments=("kubeconfig", "nodefeatures"))
                loader = kconfig.incluster_config.InClusterConfigLoader(
                    token_filename=os.path.join(service_account_dir, "token"),
                    cert_filename=os.path.join(service_account_dir, "ca.crt"),
                    environ=os.environ)
                loader.load_and_set(cfg)
            else:
                merged = kconfig.kube_config.KubeConfigMerger(path)
                if merged.config is None:
                    raise ConfigException("Invalid kube-config file. No configuration found.")
                _loader_class(exec_timeout)(config_dict=merged.config, config_base_path=None,
                                            active_context=context).load_and_set(cfg)
        except ConfigException as exc:
            where = "in-cluster config" if path is None else f"kubeconfig {path}"
            raise UsageError(f"{where}: {' '.join(str(exc).split())}") from None
        except OSError as exc:
            raise UsageError(f"kubeconfig {exc.filename or path}: {exc.strerror or exc}") from None
    return cfg, logs.messages
