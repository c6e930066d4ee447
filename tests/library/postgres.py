"""A throw-away PostgreSQL server for the tests: Debian's postgresql binaries, a cluster in a
temporary directory, listening only on a unix socket there, started once per session.

As root (CI) the server runs as the unprivileged `postgres` user, which PostgreSQL needs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
SERVER_USER = "postgres"


def binary(name: str) -> str:
    for folder in reversed(BINARIES):  # the newest installed version first
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install Debian's postgresql (make test does)")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


@contextmanager
def postgres_server() -> Iterator[Path]:
    """Yields the socket directory of a running server (user `postgres`, trust auth)."""
    root = Path(tempfile.mkdtemp(prefix="pixcast-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    run = _as_server_user
    initdb = [binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
    subprocess.run(run(initdb), check=True, capture_output=True)
    options = f"-c listen_addresses='' -c unix_socket_directories={root} -c fsync=off"
    pg_ctl = binary("pg_ctl")
    start = [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "-t", "60"]
    subprocess.run(run([*start, "start"]), check=True, capture_output=True)
    try:
        yield root
    finally:
        subprocess.run(run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]))
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(socket_dir: Path, name: str) -> str:
    """Create database `name` and return its postgresql:// URL for pixcast's database_url."""
    with psycopg.connect(f"host={socket_dir} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@/{name}?host={socket_dir}"
