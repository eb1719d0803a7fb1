"""Run a throwaway PostgreSQL cluster from the installed server binaries, in a work dir.

Work dir layout: ``postgres.log`` (server output, appended) and ``postgres/`` holding
``data/`` and ``socket/``. As root the cluster belongs to the postgres user; when that user
cannot reach the work dir (pytest's tmp dirs are mode 0700), ``postgres/`` is a symlink to
a private dir in /tmp that ``stop()`` deletes.
"""

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from orderpulse_devkit.errors import ServerFailed
from orderpulse_devkit.ports import free_port
from orderpulse_devkit.postgres_binaries import RunAs, find_bindir, run_as
from orderpulse_devkit.postgres_client import USER, ensure_database, wait_for_postgres
from orderpulse_devkit.processes import log_tail, pid_alive, read_pid_file, reap, terminate

SETTINGS = {"listen_addresses": "127.0.0.1", "fsync": "off", "full_page_writes": "off"}
"""Test settings: TCP on loopback only; durability against OS crashes is not needed."""

MAX_SOCKET_PATH = 100


class LocalPostgresServer:
    """One PostgreSQL server on 127.0.0.1 with trust auth, a database and a log file."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        database: str = "orderpulse",
        start_timeout: float = 30.0,
    ) -> None:
        self.workdir = workdir.resolve()
        self.database = database
        self.start_timeout = start_timeout
        self.log_path = self.workdir / "postgres.log"
        self.cluster_link = self.workdir / "postgres"
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the database on the running server."""
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self._port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        """Return the cluster's data directory (symlinks resolved, as the server sees it)."""
        return self.cluster_link.resolve() / "data"

    def running_pid(self) -> int | None:
        """Return the postmaster pid of a live server on this data dir, else None."""
        pid = read_pid_file(self.data_dir / "postmaster.pid")
        return pid if pid is not None and pid_alive(pid, str(self.data_dir)) else None

    async def start(self) -> bool:
        """Start the server, create the database; return False if it was already running."""
        launched = await asyncio.to_thread(self._launch_unless_running)
        port = self._port
        assert port is not None
        try:
            async with asyncio.timeout(self.start_timeout):
                await wait_for_postgres(port, alive=self._alive)
                await ensure_database(port, self.database)
        except (ChildProcessError, TimeoutError) as exc:
            if launched:
                await self.stop()
            reason = str(exc) or f"no answer within {self.start_timeout:.0f}s"
            raise ServerFailed(
                f"PostgreSQL on port {port}: {reason}; log: {self.log_path}\n"
                + log_tail(self.log_path),
                self.log_path,
            ) from exc
        except BaseException:  # cancelled or interrupted: leave nothing running
            if launched:
                await self.stop()
            raise
        return launched

    async def stop(self) -> None:
        """Stop with ``pg_ctl stop -m fast``; a no-op when no server runs."""
        await asyncio.to_thread(self._stop)

    def _alive(self) -> bool:
        # Our child is watched while postmaster.pid may not exist yet; an adopted server by pid.
        if self._proc is not None:
            return self._proc.poll() is None
        return self.running_pid() is not None

    def _launch_unless_running(self) -> bool:
        if self.running_pid() is not None:
            self._port = int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
            return False
        bindir, user = find_bindir(), run_as()
        self.workdir.mkdir(parents=True, exist_ok=True)
        cluster = self._cluster_dir(user)
        socket_dir = cluster / "socket"
        for directory in (cluster, cluster / "data", socket_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
        user.own(cluster, cluster / "data", socket_dir)
        if not (cluster / "data" / "PG_VERSION").exists():
            self._initdb(user, bindir)
        self._port = self._port or free_port()
        settings = {**SETTINGS, "port": str(self._port), "unix_socket_directories": ""}
        if len(f"{socket_dir}/.s.PGSQL.{self._port}") < MAX_SOCKET_PATH:
            settings["unix_socket_directories"] = str(socket_dir)
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        with self.log_path.open("ab") as log:
            log.write(f"=== PostgreSQL starting {time.ctime()} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                user.command(bindir / "postgres", "-D", cluster / "data", *options),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cluster,
                start_new_session=True,
            )
        return True

    def _cluster_dir(self, user: RunAs) -> Path:
        """Return the dir for data and socket, making a /tmp one when the user can't reach ours."""
        if self.cluster_link.is_symlink() and not self.cluster_link.exists():
            self.cluster_link.unlink()
        if self.cluster_link.exists() or user.can_enter(self.workdir):
            return self.cluster_link.resolve()
        private = Path(tempfile.mkdtemp(prefix="orderpulse-pg-"))
        self.cluster_link.symlink_to(private, target_is_directory=True)
        return private

    def _initdb(self, user: RunAs, bindir: Path) -> None:
        command = user.command(
            bindir / "initdb", "-D", self.data_dir, "-U", USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        with self.log_path.open("ab") as log:
            done = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir.parent, check=False
            )
        if done.returncode != 0:
            raise ServerFailed(
                f"initdb {self.data_dir} failed; log: {self.log_path}\n" + log_tail(self.log_path),
                self.log_path,
            )

    def _stop(self) -> None:
        if self.running_pid() is not None:
            user, bindir = run_as(), find_bindir()
            pg_ctl = user.command(bindir / "pg_ctl", "stop", "-D", self.data_dir, "-w", "-t", "30")
            with self.log_path.open("ab") as log:
                for mode in ("fast", "immediate"):  # immediate only if fast did not finish
                    if self.running_pid() is not None:
                        subprocess.run([*pg_ctl, "-m", mode], stdout=log, stderr=log, check=False)
        if self._proc is not None:  # e.g. stopped before postmaster.pid was written
            proc = self._proc
            terminate(proc.pid, lambda: proc.poll() is None)
        reap(self._proc)
        self._proc = None
        if self.running_pid() is not None:
            raise ServerFailed(f"PostgreSQL in {self.data_dir} did not stop", self.log_path)
        if self.cluster_link.is_symlink():
            shutil.rmtree(self.cluster_link.resolve(), ignore_errors=True)
            self.cluster_link.unlink()
