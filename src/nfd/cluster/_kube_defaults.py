"""The live cluster reader's defaults, apart from its code: the command line shows them in
its help without loading the reader (and its subprocess, logging and TLS imports)."""

from __future__ import annotations

DEFAULT_PAGE_SIZE = 500
DEFAULT_REQUEST_TIMEOUT = 30.0
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_EXEC_TIMEOUT = 60.0
