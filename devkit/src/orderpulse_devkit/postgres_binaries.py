"""Find PostgreSQL's server programs and the account they must run under.

``initdb`` and ``postgres`` refuse to run as root, so when we are root every server command
is prefixed with ``runuser -u postgres --`` and its files are owned by that user.
"""

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orderpulse_devkit.errors import ToolNotFound

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


def find_bindir() -> Path:
    """Return the directory holding initdb, pg_ctl and postgres (PATH first, then Debian's)."""
    candidates = []
    if on_path := shutil.which("pg_ctl"):
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(DEBIAN_ROOT.glob("*/bin"), key=_major_version, reverse=True)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in SERVER_PROGRAMS):
            return bindir
    raise ToolNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under "
        f"{DEBIAN_ROOT}/*/bin: apt-get install postgresql"
    )


@dataclass(frozen=True)
class RunAs:
    """How to run server commands: directly, or as the postgres user when we are root."""

    prefix: tuple[str, ...] = ()
    uid: int | None = None
    gid: int | None = None

    def command(self, *args: str | Path) -> list[str]:
        """Return ``args`` prefixed so they run as the server user."""
        return [*self.prefix, *map(str, args)]

    def own(self, *paths: Path) -> None:
        """Give ``paths`` to the server user (a no-op when we are not root)."""
        if self.uid is not None and self.gid is not None:
            for path in paths:
                os.chown(path, self.uid, self.gid)

    def can_enter(self, directory: Path) -> bool:
        """Return True when the server user can traverse every directory down to this one."""
        if not self.prefix:
            return True
        probe = self.command("test", "-x", directory)
        return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def run_as() -> RunAs:
    """Return how to run server commands from this process."""
    if os.geteuid() != 0:
        return RunAs()
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ToolNotFound("running PostgreSQL as root needs runuser (util-linux)")
    try:
        account = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ToolNotFound(
            f"running as root needs a '{SERVER_USER}' system user: apt-get install postgresql"
        ) from None
    return RunAs((runuser, "-u", SERVER_USER, "--"), account.pw_uid, account.pw_gid)


def _major_version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0
