"""gunicorn.conf.py as a dyno reads it, and what preloading the app in the master means."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT, production_env

# What loading the app leaves open in the process that loaded it: under preload_app that
# is the master, and every worker inherits it. A database socket shared by forked workers
# interleaves their conversations; a thread does not survive the fork.
PRELOADED = """
import json, os, threading
import config.wsgi
from django.db import connections
fds = []
for fd in os.listdir("/proc/self/fd"):
    try:
        fds.append(os.readlink(f"/proc/self/fd/{fd}"))
    except FileNotFoundError:  # the listing's own descriptor, closed by now
        pass
print(json.dumps({
    "database_connections": [a for a in connections if connections[a].connection is not None],
    "sockets": [fd for fd in fds if fd.startswith("socket:")],
    "threads": [thread.name for thread in threading.enumerate()],
}))
"""


def print_config(tmp_path: Path, **env: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config"]
        + ["config.wsgi"],
        cwd=ROOT,
        env=production_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+) += (.*)$", result.stdout, re.MULTILINE))


def test_print_config_shows_the_values_set_for_herokus_router(tmp_path):
    config = print_config(tmp_path, PORT="5123", WEB_CONCURRENCY="3")

    assert config["bind"] == "['[::]:5123']"
    assert config["workers"] == "3"
    assert (config["worker_class"], config["threads"]) == ("gthread", "4")
    assert config["preload_app"] == "True"
    assert int(config["timeout"]) < 30  # the router's own limit (H12)
    assert int(config["graceful_timeout"]) < 30  # the dyno's SIGTERM-to-SIGKILL window
    assert int(config["keepalive"]) > 90  # Router 2.0 keeps idle connections 90 s
    assert config["forwarded_allow_ips"] == "['*']"
    assert config["control_socket_disable"] == "True"
    assert config["accesslog"] == "-"
    assert "request_id=%({x-request-id}o)s" in config["access_log_format"]


def test_gunicorn_cmd_args_override_the_file(tmp_path):
    config = print_config(tmp_path, PORT="5123", GUNICORN_CMD_ARGS="--threads 2 --workers 1")

    assert (config["threads"], config["workers"]) == ("2", "1")


def test_loading_the_app_opens_no_connection_and_starts_no_thread(tmp_path):
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "-c", PRELOADED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "database_connections": [],
        "sockets": [],
        "threads": ["MainThread"],
    }
