"""Pick TCP ports on 127.0.0.1 for servers started by tests."""

import socket
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports that were free a moment ago (the OS picks them).

    All sockets stay bound until every port is chosen, so the OS cannot hand out one twice.
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def free_port() -> int:
    """Return one port that was free a moment ago."""
    return free_ports(1)[0]


def port_is_free(port: int) -> bool:
    """Return True when nothing listens on 127.0.0.1:port, to fail early with a clear message."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR too, so sockets in TIME_WAIT from a previous run don't count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
