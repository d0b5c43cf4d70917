"""A throwaway PostgreSQL cluster for the tests and benchmarks: initdb in a temporary folder, loopback only.

The server refuses to run as root, so under root the cluster belongs to the `postgres` user (Debian's package
creates it) and is started through `runuser`. The superuser's password goes into a private libpq password file
named by PGPASSFILE, so URLs carry no password (as the README asks of a team's server too).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ADMIN = "postgres"
_PASSFILE: Path | None = None


def server_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (PATH first, then Debian's versioned folders), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    data: Path
    port: int
    owner: str | None  # the OS user running the server when we are root

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str, user: str = ADMIN) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = self.data.parent / "server.log"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self) -> str:
        """A fresh empty database for one test; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def unavailable() -> str | None:
    """Why no test cluster can be started here (checked without starting one), or None."""
    import importlib.util

    if server_bin() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl; Debian: apt-get install postgresql)"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def start_cluster() -> tuple[Cluster | None, str]:
    """A running cluster, or None and the reason there is none."""
    reason = unavailable()
    if reason is not None:
        return None, reason
    bindir = server_bin()
    assert bindir is not None
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="survey-pg-"))
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    data = root / "data"
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(root, info.pw_uid, info.pw_gid)
        os.chown(pwfile, info.pw_uid, info.pw_gid)
    os.chmod(root, 0o700)
    os.chmod(pwfile, 0o600)
    cluster = Cluster(bindir, data, _free_port(), owner)
    try:
        cluster._run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            ADMIN,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
    except subprocess.CalledProcessError as exc:
        return None, f"initdb failed: {(exc.stderr or '').strip().splitlines()[-1:]}"
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\nunix_socket_directories = '{root}'\n"
            "max_connections = 200\nfsync = on\nshared_buffers = 32MB\n"
        )
    global _PASSFILE
    if _PASSFILE is None:  # one password file for every cluster this run starts
        _PASSFILE = Path(tempfile.mkdtemp(prefix="survey-pgpass-")) / "pgpass"
        _PASSFILE.touch(mode=0o600)
    with _PASSFILE.open("a") as f:
        f.write(f"127.0.0.1:{cluster.port}:*:{ADMIN}:{password}\n")
    os.environ["PGPASSFILE"] = str(_PASSFILE)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
        return None, f"the PostgreSQL server did not start ({tail or exc.stderr.strip()})"
    cluster.password = password  # type: ignore[attr-defined]
    return cluster, ""


def add_password(url_user: str, password: str) -> None:
    """Give a role's password to libpq through the password file (as a team member would)."""
    passfile = Path(os.environ["PGPASSFILE"])
    with passfile.open("a") as f:
        f.write(f"127.0.0.1:*:*:{url_user}:{password}\n")


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(cluster.data.parent, ignore_errors=True)
