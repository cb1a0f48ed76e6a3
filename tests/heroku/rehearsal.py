"""Heroku, rehearsed on this machine: build a slug, then run what the Procfile and app.json say.

Heroku itself cannot be reached from tests, so this does what its Python buildpack and dyno
manager do, in the same order and with the same inputs: the committed files only, a fresh
virtualenv from requirements.txt, collectstatic with the config vars set and no database,
then each Procfile command through bash, with the config vars (plus PORT and DYNO) as its
whole environment.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# What a dyno's environment holds besides the config vars.
KEPT_FROM_HOST = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")


class RehearsalFailed(AssertionError):
    """A step that would fail the build, the release or the dyno on Heroku failed here."""


def config_vars(manifest: dict, **entered: str) -> dict[str, str]:
    """The config vars the Deploy button sets from app.json, with what the deployer typed."""
    config: dict[str, str] = {}
    for name, spec in manifest.get("env", {}).items():
        if isinstance(spec, str):
            config[name] = spec
        elif name in entered:
            config[name] = entered.pop(name)
        elif "value" in spec:
            config[name] = spec["value"]
        elif spec.get("generator") == "secret":
            config[name] = secrets.token_urlsafe(48)
        elif spec.get("required", True):
            raise RehearsalFailed(f"app.json requires {name}: the deployer must type it in")
    return {**config, **entered}


@dataclass(frozen=True)
class Slug:
    """A built app: its files (/app on a dyno) and the Python its requirements went into."""

    app: Path
    python_home: Path

    @property
    def bin(self) -> Path:
        return self.python_home / "bin"

    def environ(self, config: dict[str, str], **extra: str) -> dict[str, str]:
        env = {name: os.environ[name] for name in KEPT_FROM_HOST if name in os.environ}
        env["PATH"] = f"{self.bin}:/usr/local/bin:/usr/bin:/bin"
        return {**env, **config, **extra}

    def run(self, command: str, env: dict[str, str], timeout: float = 300):
        """One command, through bash as a dyno runs it; returns the finished process."""
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.app,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def check(self, step: str, command: str, env: dict[str, str]):
        """Run a command that must succeed, as a build step or the release phase must."""
        result = self.run(command, env)
        if result.returncode != 0:
            raise RehearsalFailed(
                f"{step} failed with exit status {result.returncode}: {command}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result


def build_slug(source: Path, into: Path) -> Slug:
    """What `git push heroku` sends (HEAD) and a virtualenv from requirements.txt alone."""
    app = into / "app"
    app.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=source, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(app)], input=archive.stdout, check=True)
    python_home = into / "python"
    subprocess.run([sys.executable, "-m", "venv", str(python_home)], check=True)
    slug = Slug(app=app, python_home=python_home)
    # The build machine's own pip and network settings (index, proxy, certificates) apply.
    network = {
        name: value
        for name, value in os.environ.items()
        if name.startswith("PIP_")
        or name.lower().endswith("_proxy")
        or name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")
    }
    slug.check(
        "Installing requirements.txt",
        "python -m pip install --quiet --disable-pip-version-check -r requirements.txt",
        slug.environ({}, **network),
    )
    return slug


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookies(self) -> dict[str, str]:
        pairs = (value.split(";", 1)[0] for value in self.headers.get_all("Set-Cookie") or [])
        return dict(pair.split("=", 1) for pair in pairs)


def request(port: int, path: str, *, host: str, method: str = "GET", body=None, **headers):
    """One HTTP request to the dyno as Heroku's router forwards it (TLS ended, HTTPS said)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Host": host, "X-Forwarded-Proto": "https", **headers}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


@dataclass
class WebDyno:
    """The web process: a process group, its stdout (the access log) and stderr."""

    process: subprocess.Popen
    port: int
    stdout: Path
    stderr: Path
    host: str = field(default="")

    def get(self, path: str, **headers: str) -> Answer:
        return request(self.port, path, host=self.host, **headers)

    def post(self, path: str, body: bytes, **headers: str) -> Answer:
        return request(self.port, path, host=self.host, method="POST", body=body, **headers)

    def logs(self) -> str:
        return f"--- stdout\n{self.stdout.read_text()}\n--- stderr\n{self.stderr.read_text()}"

    def stop(self) -> None:
        """SIGTERM to every process of the dyno, as Heroku stops it; SIGKILL after 10 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_web(
    slug: Slug, command: str, env: dict[str, str], *, logs: Path, host: str, boot_timeout=60
) -> WebDyno:
    """Start the web command; fail unless it answers on $PORT in time (Heroku's R10: 60 s)."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout, stderr = logs / "web.stdout.log", logs / "web.stderr.log"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=slug.app,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    dyno = WebDyno(process, int(env["PORT"]), stdout, stderr, host)
    deadline = time.monotonic() + boot_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RehearsalFailed(
                f"web exited with status {process.returncode} before answering: {command}\n"
                + dyno.logs()
            )
        try:
            dyno.get("/healthz")
        except OSError:
            time.sleep(0.2)
            continue
        return dyno
    dyno.stop()
    raise RehearsalFailed(
        f"web did not answer on PORT={dyno.port} within {boot_timeout} s: {command}\n" + dyno.logs()
    )
