"""Where the cluster is and who we are: kubeconfig, contexts, exec plugins, service account.

Read here as client-go's ``clientcmd`` reads them, without a Kubernetes client library
(the ``kubernetes`` package's loader is private API, and its exec runner has no
deadline). Files: ``kubeconfig`` (must exist), else ``$KUBECONFIG`` (a path list;
missing files skipped; the first file naming a cluster, user or context, or setting
``current-context``, wins), else ``~/.kube/config``. Relative paths resolve against the
file that holds them (``clientcmd.ResolvePaths``); documents are read as kubectl reads
YAML (:mod:`nfd.cluster._manifest`).

Supported: ``current-context``; a cluster's ``server``, ``certificate-authority(-data)``,
``insecure-skip-tls-verify``, ``tls-server-name``, ``proxy-url``; a user's
``client-certificate(-data)``, ``client-key(-data)``, ``token``, ``tokenFile``,
``username``/``password``, ``as``/``as-uid`` and ``exec``. ``auth-provider`` (removed
from client-go) and other impersonation fields are refused by name.

Tokens: a ``tokenFile`` (and the service account's) is trimmed with Go's
``strings.TrimSpace``, as client-go's ``NewCachedFileTokenSource`` does. An inline or
exec token is sent as written, less trailing blanks (Go's header writer drops them); one
holding a line break or another control character is refused, as kubectl refuses it
(``net/http: invalid header field value``), without printing it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from nfd._io import read_document
from nfd.cluster._kube_defaults import DEFAULT_EXEC_TIMEOUT, SERVICE_ACCOUNT_DIR
from nfd.errors import ClusterError, SpecError, UsageError

MAX_PLUGIN_OUTPUT = 1024 * 1024
MAX_CONFIG_BYTES = 4 << 20
MAX_TOKEN_BYTES = 1 << 20
# Go's unicode.IsSpace: what strings.TrimSpace removes.
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
EXEC_KIND = "ExecCredential"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class ClusterAccess:
    """What a request needs: the server, TLS material, and the headers that authenticate.

    ``*_pem`` hold what the kubeconfig embeds (``*-data``); ``*_file`` what it names.
    """

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
    ca_pem: str | None = None
    cert_pem: bytes | None = field(default=None, repr=False)
    key_pem: bytes | None = field(default=None, repr=False)


def go_trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return text.strip(GO_SPACE)


def header_token(token: str, where: str, error: type[Exception] = UsageError) -> str:
    """``token`` as it goes on the wire after ``Bearer ``: trailing blanks dropped (Go's
    header writer trims them); a control character or non-ASCII character refused
    (Go refuses control characters; bearer tokens are ASCII, RFC 6750) without
    printing the token."""
    token = token.rstrip(" \t")
    if _CONTROL.search(token):
        raise error(f"{where}: the token holds a line break or another control character "
                    "(kubectl refuses it too: net/http: invalid header field value)")
    if not token.isascii():
        raise error(f"{where}: the token holds non-ASCII characters (not a bearer token)")
    if not token:
        raise error(f"{where}: the token is empty")
    return token


# -- the files ---------------------------------------------------------------------------

def _kubeconfig_paths(kubeconfig: str | None) -> list[str]:
    if kubeconfig:
        return [kubeconfig]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p and os.path.exists(p)]
    default = os.path.expanduser("~/.kube/config")
    return [default] if os.path.exists(default) else []


def _read(path: str, what: str, limit: int) -> bytes:
    try:
        data = read_document(path, limit)
    except SpecError:
        raise UsageError(f"{what} {path}: cannot read it") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path}: over {limit} bytes")
    return data


def _load_file(path: str) -> dict[str, Any]:
    from nfd.cluster._manifest import parse_manifest

    try:
        docs = parse_manifest(_read(path, "kubeconfig", MAX_CONFIG_BYTES), path).values
    except SpecError as exc:
        raise UsageError(f"kubeconfig {exc}") from None
    if not docs:
        return {}
    if len(docs) > 1 or not isinstance(docs[0], dict):
        raise UsageError(f"kubeconfig {path}: not a kubeconfig (one mapping expected)")
    return docs[0]


def _text(value: Any, where: str) -> str | None:
    """A string field as client-go reads it (sigs.k8s.io/yaml turns numbers and bools
    into their text when the target is a string)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    raise UsageError(f"{where}: expected a string, not {type(value).__name__}")


class _Config:
    """The merged kubeconfig: named clusters, users and contexts, each with its file."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.current: str | None = None
        self.named: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
            "clusters": {}, "users": {}, "contexts": {}}
        for path in paths:
            self._merge(_load_file(path), path)

    def _merge(self, doc: dict[str, Any], path: str) -> None:
        if not self.current and doc.get("current-context"):
            self.current = _text(doc["current-context"], f"kubeconfig {path}: current-context")
        for section, inner in (("clusters", "cluster"), ("users", "user"),
                               ("contexts", "context")):
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                raise UsageError(f"kubeconfig {path}: {section} must be a list")
            for i, entry in enumerate(entries):
                where = f"kubeconfig {path}: {section}[{i}]"
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise UsageError(f"{where}: needs a name")
                body = entry.get(inner) or {}
                if not isinstance(body, dict):
                    raise UsageError(f"{where}.{inner}: must be a mapping")
                self.named[section].setdefault(entry["name"], (body, path))

    def get(self, section: str, name: str, what: str) -> tuple[dict[str, Any], str]:
        found = self.named[section].get(name)
        if found is None:
            raise UsageError(f"kubeconfig {', '.join(self.paths)}: no {what} named {name!r}",
                             arguments=("context",) if what == "context" else ())
        return found


def _resolve(path_value: str | None, base_file: str) -> str | None:
    if not path_value:
        return None
    path_value = os.path.expanduser(path_value)
    if os.path.isabs(path_value):
        return path_value
    return os.path.join(os.path.dirname(os.path.abspath(base_file)), path_value)


def _pem(value: Any, where: str) -> bytes | None:
    text = _text(value, where)
    if not text:
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{where}: not base64") from None


# -- access from a kubeconfig --------------------------------------------------------------

@dataclass
class _Access:
    """ClusterAccess being assembled."""

    server: str
    verify: bool = True
    ca_file: str | None = None
    ca_pem: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    proxy: str | None = None
    tls_server_name: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def bearer(self, token: str) -> None:
        self.headers["Authorization"] = f"Bearer {token}"
        self.secrets.append(token)

    def done(self) -> ClusterAccess:
        return ClusterAccess(self.server, self.verify, self.ca_file, self.cert_file,
                             self.key_file, dict(self.headers), tuple(self.logs),
                             tuple(self.secrets), self.proxy, self.tls_server_name,
                             self.ca_pem, self.cert_pem, self.key_pem)


def _cluster_access(cluster: dict[str, Any], path: str, where: str) -> _Access:
    server = _text(cluster.get("server"), f"{where}.server")
    if not server or not re.match(r"https?://[^/]", server):
        raise UsageError(f"{where}.server: expected an http(s) URL, not {server!r}")
    access = _Access(server.rstrip("/"))
    access.verify = cluster.get("insecure-skip-tls-verify") is not True
    access.ca_file = _resolve(_text(cluster.get("certificate-authority"),
                                    f"{where}.certificate-authority"), path)
    ca = _pem(cluster.get("certificate-authority-data"), f"{where}.certificate-authority-data")
    access.ca_pem = ca.decode("utf-8", errors="replace") if ca else None
    access.proxy = _text(cluster.get("proxy-url"), f"{where}.proxy-url") or None
    access.tls_server_name = _text(cluster.get("tls-server-name"),
                                   f"{where}.tls-server-name") or None
    return access


_USER_FIELDS = frozenset((
    "client-certificate", "client-certificate-data", "client-key", "client-key-data",
    "token", "tokenFile", "username", "password", "as", "as-uid", "exec", "extensions"))


def _user_access(access: _Access, user: dict[str, Any], path: str, where: str,
                 cluster: dict[str, Any], exec_timeout: float) -> None:
    if "auth-provider" in user:
        provider = user["auth-provider"]
        name = provider.get("name") if isinstance(provider, dict) else None
        raise UsageError(f"{where}.auth-provider {name!r}: not supported (client-go removed "
                         "auth providers; use the provider's exec credential plugin)")
    unknown = sorted(k for k in user if k not in _USER_FIELDS and user[k] not in (None, "", []))
    if unknown:
        raise UsageError(f"{where}.{unknown[0]}: not supported")
    access.cert_file = _resolve(_text(user.get("client-certificate"),
                                      f"{where}.client-certificate"), path)
    access.key_file = _resolve(_text(user.get("client-key"), f"{where}.client-key"), path)
    access.cert_pem = _pem(user.get("client-certificate-data"),
                           f"{where}.client-certificate-data")
    access.key_pem = _pem(user.get("client-key-data"), f"{where}.client-key-data")
    token = _text(user.get("token"), f"{where}.token")
    token_file = _resolve(_text(user.get("tokenFile"), f"{where}.tokenFile"), path)
    if token:
        access.secrets.append(token)  # redacted in every spelling, even if refused
        access.bearer(header_token(token, f"{where}.token"))
    elif token_file:
        access.bearer(_token_from_file(token_file, f"{where}.tokenFile"))
    username = _text(user.get("username"), f"{where}.username")
    password = _text(user.get("password"), f"{where}.password")
    if (username or password) and "Authorization" not in access.headers:
        basic = f"{username or ''}:{password or ''}"
        access.headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
        access.secrets += [s for s in (password, basic) if s]
    for key, header in (("as", "Impersonate-User"), ("as-uid", "Impersonate-Uid")):
        value = _text(user.get(key), f"{where}.{key}")
        if value:
            access.headers[header] = value
    if user.get("exec") is not None and "Authorization" not in access.headers:
        exec_config = user["exec"]
        if not isinstance(exec_config, dict):
            raise UsageError(f"{where}.exec: must be a mapping")
        _exec_access(access, exec_config, path, cluster, exec_timeout)


def _token_from_file(path: str, where: str) -> str:
    data = _read(path, where, MAX_TOKEN_BYTES)
    token = go_trim_space(data.decode("utf-8", errors="replace"))
    if not token:
        raise UsageError(f"{where} {path}: read an empty token")
    return header_token(token, f"{where} {path}")


def _exec_access(access: _Access, config: dict[str, Any], path: str,
                 cluster: dict[str, Any], exec_timeout: float) -> None:
    command = config.get("command")
    if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
        config = {**config, "command": _resolve(command, path)}  # clientcmd.ResolvePaths
    shared = ("server", "tls-server-name", "insecure-skip-tls-verify",
              "certificate-authority-data", "proxy-url")
    info: dict[str, Any] = {key: cluster[key] for key in shared if key in cluster}
    status = run_exec_plugin(config, os.path.dirname(os.path.abspath(path)), info, exec_timeout)
    if "token" in status:
        access.bearer(status["token"])
    else:
        access.cert_pem = status["clientCertificateData"].encode()
        access.key_pem = status["clientKeyData"].encode()
        access.secrets.append(status["clientKeyData"])


def load_access(kubeconfig: str | None, context: str | None, in_cluster: bool,
                service_account_dir: str = SERVICE_ACCOUNT_DIR,
                exec_timeout: float = DEFAULT_EXEC_TIMEOUT) -> ClusterAccess:
    """Read the configuration (never written back)."""
    paths = [] if in_cluster else _kubeconfig_paths(kubeconfig)
    if not paths:
        if context:
            raise UsageError("`context` needs a kubeconfig (none found)", arguments=("context",))
        if not os.environ.get("KUBERNETES_SERVICE_HOST") and not in_cluster:
            # Which dumps stand in for the cluster depends on the caller (validate-cluster
            # reads NodeFeatures; audit pods too; what-if pods or an image list): named here
            # by what they are, not by one caller's parameter.
            raise UsageError("no kubeconfig found (`kubeconfig`, $KUBECONFIG, ~/.kube/config) "
                             "and not running in a cluster; without one, read the cluster's "
                             "objects from dump files ('kubectl get ... -o json') instead",
                             arguments=("kubeconfig",))
        return _in_cluster(service_account_dir)
    if kubeconfig and not os.path.exists(kubeconfig):
        raise UsageError(f"`kubeconfig` {kubeconfig}: no such file", arguments=("kubeconfig",))
    config = _Config(paths)
    name = context or config.current
    if not name:
        raise UsageError(f"kubeconfig {', '.join(paths)}: no current-context; name one with "
                         "`context`", arguments=("context",))
    ctx, ctx_path = config.get("contexts", name, "context")
    cluster_name = _text(ctx.get("cluster"), f"kubeconfig {ctx_path}: context {name!r}")
    user_name = _text(ctx.get("user"), f"kubeconfig {ctx_path}: context {name!r}")
    if not cluster_name:
        raise UsageError(f"kubeconfig {ctx_path}: context {name!r} names no cluster")
    cluster, cluster_path = config.get("clusters", cluster_name, "cluster")
    access = _cluster_access(cluster, cluster_path, f"kubeconfig {cluster_path}: cluster "
                                                    f"{cluster_name!r}")
    if user_name:
        user, user_path = config.get("users", user_name, "user")
        _user_access(access, user, user_path, f"kubeconfig {user_path}: user {user_name!r}",
                     cluster, exec_timeout)
    return access.done()


def _in_cluster(service_account_dir: str) -> ClusterAccess:
    """``rest.InClusterConfig``: the service's address, the mounted token and CA."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise UsageError("in-cluster config: KUBERNETES_SERVICE_HOST and "
                         "KUBERNETES_SERVICE_PORT must be set (not running in a pod?)")
    if ":" in host:
        host = f"[{host}]"
    access = _Access(f"https://{host}:{port}")
    access.bearer(_token_from_file(os.path.join(service_account_dir, "token"),
                                   "in-cluster config: service account token"))
    ca = os.path.join(service_account_dir, "ca.crt")
    if not os.path.exists(ca):
        raise UsageError(f"in-cluster config: {ca}: no such file")
    access.ca_file = ca
    return access.done()


# -- exec credential plugins ---------------------------------------------------------------

def run_exec_plugin(config: dict[str, Any], cwd: str | None, cluster: dict[str, Any] | None,
                    timeout: float) -> dict[str, Any]:
    """Run a client.authentication.k8s.io exec plugin; its checked ``status``.

    As client-go runs it (``plugin/pkg/client/auth/exec``: env, args,
    ``KUBERNETES_EXEC_INFO``, interactive on a terminal), with a deadline and a bounded
    answer.
    """
    command = config.get("command")
    api_version = config.get("apiVersion")
    if not isinstance(command, str) or not command or not isinstance(api_version, str):
        raise UsageError("exec credential plugin: 'command' and 'apiVersion' are required")
    args = [command, *[str(a) for a in config.get("args") or []]]
    env = os.environ.copy()
    env.update({str(e["name"]): str(e["value"]) for e in config.get("env") or []
                if isinstance(e, dict) and "name" in e and "value" in e})
    interactive = sys.stdout.isatty() and config.get("interactiveMode") != "Never"
    info: dict[str, Any] = {"apiVersion": api_version, "kind": EXEC_KIND,
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
    return plugin_status(command, api_version, done)


def plugin_status(command: str, api_version: str,
                  done: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The plugin's ``status``, checked as client-go checks an ExecCredential; a fault is
    one line naming the field (never its secret value)."""
    what = f"exec credential plugin {command}"
    if done.returncode != 0:
        detail = " ".join((done.stderr or b"").decode(errors="replace").split())[:300]
        raise ClusterError(f"{what} exited {done.returncode}" + (f": {detail}" if detail else ""))
    if len(done.stdout) > MAX_PLUGIN_OUTPUT:
        raise ClusterError(f"{what}: answer over {MAX_PLUGIN_OUTPUT} bytes")
    try:
        data = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ClusterError(f"{what}: the answer is not a JSON ExecCredential") from None
    if not isinstance(data, dict):
        raise ClusterError(f"{what}: the answer is not a JSON object")
    if data.get("apiVersion") != api_version:
        raise ClusterError(f"{what}: apiVersion: {_shown(data.get('apiVersion'))}, the "
                           f"kubeconfig asks for {api_version!r}")
    if data.get("kind") != EXEC_KIND:
        raise ClusterError(f"{what}: kind: {_shown(data.get('kind'))}, not {EXEC_KIND!r}")
    status = data.get("status")
    if not isinstance(status, dict):
        raise ClusterError(f"{what}: status: missing or not an object")
    for key in ("token", "clientCertificateData", "clientKeyData", "expirationTimestamp"):
        if key in status and not isinstance(status[key], str):
            raise ClusterError(f"{what}: status.{key}: not a string")
    token = status.get("token") or ""
    cert, key = status.get("clientCertificateData") or "", status.get("clientKeyData") or ""
    if not token and not (cert or key):
        raise ClusterError(f"{what}: status: neither a token nor a client certificate and key")
    if bool(cert) != bool(key):
        raise ClusterError(f"{what}: status: a client certificate without its key, or a key "
                           "without its certificate")
    if token:
        status = {**status, "token": header_token(token, f"{what}: status.token", ClusterError)}
    else:
        status = {k: v for k, v in status.items() if k != "token"}
    stamp = status.get("expirationTimestamp")
    if stamp is not None and not _is_rfc3339(stamp):
        raise ClusterError(f"{what}: status.expirationTimestamp: {_shown(stamp)} is not an "
                           "RFC 3339 time")
    return status


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text[:80]


def _is_rfc3339(text: str) -> bool:
    """Go's ``time.Parse(time.RFC3339, text)`` (how metav1.Time reads JSON)."""
    if not _RFC3339.fullmatch(text):
        return False
    try:
        datetime.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
