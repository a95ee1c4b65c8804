"""What the Python tools around the test guest share (tests/guest/migrate-smoke.py, bench/): reading the guest
cache's guest.env, and connecting to a QEMU unix socket that may not be listening yet."""
import os
import socket
import time


def guest_env(directory):
    """KEY=VALUE lines of <directory>/guest.env (written by build-guest.sh), quotes stripped."""
    env = {}
    with open(os.path.join(directory, "guest.env")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v.strip("'")
    return env


def connect_unix(path, timeout=30.0):
    """Connects to a unix socket, retrying every 2 ms until QEMU listens on it or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.002)
