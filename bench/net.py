#!/usr/bin/env python3
"""LocalMigrate network benchmark: a bridged tap NIC through consecutive local migrations.

    python3 bench/net.py --workdir DIR --daemon BIN --cli BIN --guest-dir DIR [--quick] [--reps N] [--results DIR]
    python3 bench/net.py --sweep DIR      # kill every process whose command line names DIR, remove DIR and its netns

Normally started by `bash bench/run.sh --net`. One network namespace holds a bridge with an address and the daemon;
the test guest (virtio-net, `lm.ip=`, TCP echo on port 7) sits on that bridge through the daemon's tap. While the
guest is migrated N times on the same host, `ping -i 0.01` and a paced TCP byte counter (echoed by the guest and
checked byte for byte) run from the namespace. Per migration: QEMU's downtime, the guest-observed pause (the largest
gap between its 10 ms console ticks as they reach the host), the ICMP replies lost, and the longest TCP stall (the
largest gap between echoed data). The stream must come back complete, in order, without a reset.
"""
import argparse
import ctypes
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import probes  # noqa: E402
from lmguest import guest_env  # noqa: E402

BRIDGE = "lmbr0"
HOST_IP, GUEST_IP = "10.231.0.1", "10.231.0.100"
WINDOW_PAD_S = 0.3
CHUNK, CHUNK_S = 512, 0.005
CLONE_NEWNET = 0x40000000


def log(msg):
    print(f"bench-net {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def netns_of(workdir):
    return "lmbn-" + os.path.basename(workdir).split(".")[-1][:8]


def sweep(workdir):
    bench.sweep(workdir)
    subprocess.run(["ip", "netns", "delete", netns_of(os.path.abspath(workdir))], stderr=subprocess.DEVNULL)


def byte_at(i):
    return ((i // 4) >> (8 * (3 - i % 4))) & 0xFF


class EchoStream:
    """A paced byte counter to the guest's port 7 and back, from inside the namespace (socket made by a thread that
    joined it with setns). Records the arrival time of every echoed chunk; any wrong byte is an error."""

    def __init__(self, ns):
        box = {}

        def make():
            try:
                libc = ctypes.CDLL("libc.so.6", use_errno=True)
                fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
                os.close(fd)
                s = socket.create_connection((GUEST_IP, 7), timeout=60)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(None)
                box["s"] = s
            except Exception as e:  # noqa: BLE001
                box["e"] = e
        t = threading.Thread(target=make)
        t.start()
        t.join()
        if "e" in box:
            raise box["e"]
        self.s = box["s"]
        self.sent = self.received = 0
        self.arrivals = []
        self.error = None
        self.stopping = False
        self.lock = threading.Lock()
        self.tx = threading.Thread(target=self._send, daemon=True)
        self.rx = threading.Thread(target=self._receive, daemon=True)
        self.tx.start()
        self.rx.start()

    def _send(self):
        nxt = time.monotonic()
        try:
            while not self.stopping and self.error is None:
                data = bytes(byte_at(self.sent + i) for i in range(CHUNK))
                self.sent += CHUNK
                self.s.sendall(data)
                nxt += CHUNK_S
                d = nxt - time.monotonic()
                if d > 0:
                    time.sleep(d)
                else:
                    nxt = time.monotonic()
        except OSError as e:
            self.error = self.error or f"send: {e}"

    def _receive(self):
        try:
            while True:
                data = self.s.recv(65536)
                now = time.monotonic()
                if not data:
                    if not self.stopping:
                        self.error = self.error or f"closed by the guest after {self.received} bytes"
                    return
                for i, b in enumerate(data):
                    if b != byte_at(self.received + i):
                        self.error = self.error or f"byte {self.received + i} is {b:#x}, expected {byte_at(self.received + i):#x}"
                        return
                self.received += len(data)
                with self.lock:
                    self.arrivals.append(now)
        except OSError as e:
            if not self.stopping:
                self.error = self.error or f"receive: {e}"

    def longest_gap_ms(self, t0, t1):
        with self.lock:
            a = [t for t in self.arrivals if t0 <= t <= t1]
        if len(a) < 2:
            return None
        return round(max(y - x for x, y in zip(a, a[1:])) * 1000.0, 1)

    def wait_bytes(self, more, timeout=60):
        target, end = self.received + more, time.monotonic() + timeout
        while self.received < target and self.error is None and time.monotonic() < end:
            time.sleep(0.01)
        if self.error or self.received < target:
            raise RuntimeError(f"echo stream: {self.error or f'{self.received} of {self.sent} bytes back'}")

    def stop(self, timeout=60):
        self.stopping = True
        self.tx.join()
        end = time.monotonic() + timeout
        while self.received < self.sent and self.error is None and time.monotonic() < end:
            time.sleep(0.02)
        self.s.close()
        return self.error or (None if self.received == self.sent else f"sent {self.sent} bytes, {self.received} came back")


def ping_start(ns):
    return subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-i", "0.01", "-W", "2", GUEST_IP],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def ping_stop(p):
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out = p.communicate(timeout=30)[0]
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    return (int(m[1]), int(m[2])) if m else (None, None)


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def run(o):
    ns = netns_of(o.workdir)
    ip("netns", "add", ns)
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "link", "add", BRIDGE, "type", "bridge")
    ip("-n", ns, "addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
    ip("-n", ns, "link", "set", BRIDGE, "up")
    tail = probes.ConsoleTail()
    daemon = bench.Daemon(o, launcher=("ip", "netns", "exec", ns))
    stream = None
    try:
        path = os.path.join(o.workdir, "netvm.json")
        with open(path, "w") as f:
            json.dump({"name": "netvm", "memoryMiB": o.ram, "machine": "q35", "memoryBacking": "shared", "kernel": o.kernel,
                       "initrd": o.initrd, "cmdline": f"{o.cmdline} lm.ip={GUEST_IP}/24",
                       "nics": [{"type": "bridge", "bridge": BRIDGE, "mac": "52:54:00:4c:4d:02"}]}, f)
        daemon.cli("define", path)
        console = os.path.join(daemon.console, "netvm.log")
        tail.watch_dir(daemon.console)
        tail.follow(console, from_start=True)
        daemon.cli("start", "netvm")
        end = time.monotonic() + 180
        while len(tail.ticks(console)) < 20:
            if time.monotonic() > end:
                raise RuntimeError("the guest printed no ticks within 180 s")
            time.sleep(0.1)
        stream = EchoStream(ns)
        stream.wait_bytes(64 * 1024)
        info = json.loads(daemon.cli("status", "netvm", "--json")[2])
        rows = []
        for i in range(1, o.reps + 1):
            time.sleep(1.0)
            p = ping_start(ns)
            time.sleep(0.3)
            t0 = time.monotonic()
            _, rc, out, err = daemon.cli("migrate", "netvm", "--json", check=False)
            t1 = time.monotonic()
            if rc != 0:
                raise RuntimeError(f"migration {i}: {err}")
            job = json.loads(out)
            stream.wait_bytes(32 * 1024)
            time.sleep(WINDOW_PAD_S)
            tx, rx = ping_stop(p)
            pause = probes.pause_figures(tail.ticks(console, t0 - WINDOW_PAD_S, t1 + WINDOW_PAD_S))
            row = {"migration": i, "qemuDowntimeMs": job.get("downtimeMs"), "totalMs": job.get("totalMs"),
                   "guestPauseWallMs": pause["pauseWallMs"], "icmpSent": tx, "icmpLost": None if tx is None else tx - rx,
                   "tcpLongestStallMs": stream.longest_gap_ms(t0 - WINDOW_PAD_S, t1 + WINDOW_PAD_S)}
            rows.append(row)
            log(json.dumps(row))
        broken = stream.stop()
        stream = None
        return {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "ramMiB": o.ram,
                "accel": o.accel, "vhost": os.path.exists("/dev/vhost-net"), "instance": info.get("instanceId"),
                "streamIntact": broken is None, "streamError": broken, "migrations": rows}
    finally:
        if stream is not None:
            stream.stop(timeout=1)
        daemon.close()
        tail.close()
        subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL)


def markdown(res):
    lines = [f"# Bridged tap NIC through {len(res['migrations'])} local migrations ({res['when']})", "",
             f"{res['ramMiB']} MiB shared, {res['accel']}, vhost-net {'on' if res['vhost'] else 'off (no /dev/vhost-net)'}; "
             f"ping every 10 ms and a TCP byte counter at {CHUNK * int(1 / CHUNK_S) // 1024} KiB/s from the bridge's namespace. "
             f"TCP stream {'intact (every byte back, in order, no reset)' if res['streamIntact'] else 'BROKEN: ' + str(res['streamError'])}.", "",
             "| # | QEMU downtime ms | guest pause ms | ICMP lost / sent | longest TCP stall ms | total ms |", "|---|---|---|---|---|---|"]
    for r in res["migrations"]:
        lines.append(f"| {r['migration']} | {r['qemuDowntimeMs']} | {r['guestPauseWallMs']} | {r['icmpLost']} / {r['icmpSent']} | "
                     f"{r['tcpLongestStallMs']} | {r['totalMs']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", metavar="DIR")
    ap.add_argument("--workdir")
    ap.add_argument("--daemon")
    ap.add_argument("--cli")
    ap.add_argument("--guest-dir")
    ap.add_argument("--results")
    ap.add_argument("--quick", action="store_true", help="3 migrations")
    ap.add_argument("--reps", type=int, help="migrations (default 10, --quick 3)")
    ap.add_argument("--ram", type=int, default=256, help="MiB")
    ap.add_argument("--accel", default=os.environ.get("LOCALMIGRATE_TEST_ACCEL", "tcg"))
    o = ap.parse_args()
    if o.sweep:
        sweep(o.sweep)
        return 0
    o.workdir = os.path.abspath(o.workdir)
    o.reps = o.reps or (3 if o.quick else 10)
    env = guest_env(o.guest_dir)
    o.kernel = env["GUEST_KERNEL_PVH"] if os.path.exists(env.get("GUEST_KERNEL_PVH", "")) else env["GUEST_KERNEL"]
    o.initrd = env["GUEST_INITRD"]
    o.cmdline = env["GUEST_CMDLINE_DEFAULT"]
    os.makedirs(bench.shm_dir_of(o.workdir), mode=0o700, exist_ok=True)

    def on_signal(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        res = run(o)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
        return 130
    results = o.results or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(results, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"net-{stamp}.json", "net-latest.json"):
        with open(os.path.join(results, name), "w") as f:
            json.dump(res, f, indent=2)
    with open(os.path.join(results, "net-latest.md"), "w") as f:
        f.write(markdown(res))
    print(markdown(res))
    return 0 if res["streamIntact"] else 1


if __name__ == "__main__":
    sys.exit(main())
