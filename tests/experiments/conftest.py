"""A PostgreSQL server for the sweep tests, started from Debian's package by the test itself."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("PostgreSQL server not installed (Debian package postgresql)")
    pytest.importorskip("psycopg2")
    bindir = os.path.dirname(binaries[-1])
    folder = tempfile.mkdtemp(prefix="inertia-pg-")
    os.chmod(folder, 0o755)
    data = os.path.join(folder, "data")
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        os.mkdir(data)
        account = pwd.getpwnam("postgres")
        os.chown(data, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(
        f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(data, "log"), "-w",
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start",
    )  # fmt: skip
    try:
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "inertia")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/inertia"
    finally:
        run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
