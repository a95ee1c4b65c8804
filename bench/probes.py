"""Measuring instruments of the benchmark, Python 3 standard library only.

- ConsoleTail: follows serial console log files (appended by QEMU itself) and stamps every LMTICK line with
  the host's CLOCK_MONOTONIC as it appears, woken by inotify.
- Qmp: a small synchronous QMP client (greeting, qmp_capabilities, commands, buffered events).
- DBusPing: a minimal D-Bus client (EXTERNAL auth, Hello, method calls) to time org.freedesktop.DBus.Peer.Ping
  in-process, without a process spawn per call.
"""
import ctypes
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "guest"))
from lmguest import connect_unix  # noqa: E402,F401  (also used by bench.py through probes)

TICK = re.compile(r"LMTICK (\d+) (\d+\.\d+) ([0-9a-f]{8})")
TICK_MS = 10.0

IN_MODIFY, IN_CREATE, IN_CLOEXEC, IN_NONBLOCK = 0x2, 0x100, 0o2000000, 0o4000
# After a wake-up, let the rest of the line arrive: the emulated UART hands QEMU one byte at a time, so a line
# is dozens of writes. Lines are stamped with the wake-up time of the read that first saw their first byte.
SETTLE_S = 0.0005


class Tick:
    __slots__ = ("t", "counter", "uptime", "boot")

    def __init__(self, t, counter, uptime, boot):
        self.t, self.counter, self.uptime, self.boot = t, counter, uptime, boot


class _Follow:
    def __init__(self, path):
        self.path, self.offset, self.buf, self.first_t, self.fd = path, 0, b"", None, None
        self.ticks, self.other = [], []


class ConsoleTail:
    """Stamps each new console line with time.monotonic() when it appears in its file.

    One thread, woken by inotify on the watched directories (falls back to polling every 2 ms without it).
    Files may be created after the watch starts; reading starts at the file's size when follow() is called.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._files = {}      # path -> _Follow
        self._dirs = {}       # wd -> dir
        self._fd = -1
        self._stop_r, self._stop_w = os.pipe()
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            self._libc = libc
            self._fd = libc.inotify_init1(IN_CLOEXEC | IN_NONBLOCK)
        except OSError:
            self._fd = -1
        self.method = "inotify" if self._fd >= 0 else "poll-2ms"
        self._thread = threading.Thread(target=self._run, name="console-tail", daemon=True)
        self._thread.start()

    def watch_dir(self, directory):
        os.makedirs(directory, exist_ok=True)
        if self._fd >= 0:
            wd = self._libc.inotify_add_watch(self._fd, directory.encode(), IN_MODIFY | IN_CREATE)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory}")
            with self._lock:
                self._dirs[wd] = directory

    def follow(self, path, from_start=False):
        """Start following path (from its current end unless from_start). Returns the follow state."""
        with self._lock:
            f = self._files.get(path)
            if f is None:
                f = _Follow(path)
                if not from_start:
                    try:
                        f.offset = os.path.getsize(path)
                    except OSError:
                        f.offset = 0
                self._files[path] = f
            return f

    def ticks(self, path, t_from=None, t_to=None):
        with self._lock:
            f = self._files.get(path)
            ticks = list(f.ticks) if f else []
        return [k for k in ticks if (t_from is None or k.t >= t_from) and (t_to is None or k.t <= t_to)]

    def last_tick(self, path):
        with self._lock:
            f = self._files.get(path)
            return f.ticks[-1] if f and f.ticks else None

    def lines(self, path, prefix):
        with self._lock:
            f = self._files.get(path)
            return [(t, l) for t, l in (f.other if f else []) if l.startswith(prefix)]

    def wait_tick(self, path, pred=lambda k: True, timeout=60.0, after=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for k in reversed(self.ticks(path, t_from=after)):
                if pred(k):
                    return k
            time.sleep(0.005)
        raise TimeoutError(f"no matching LMTICK in {path} within {timeout:.0f} s")

    def close(self):
        os.write(self._stop_w, b"x")
        self._thread.join(2)

    def _run(self):
        while True:
            if self._fd >= 0:
                r, _, _ = select.select([self._fd, self._stop_r], [], [])
                t = time.monotonic()
                if self._stop_r in r:
                    return
                time.sleep(SETTLE_S)
                names = set()
                try:
                    while True:
                        data = os.read(self._fd, 65536)
                        pos = 0
                        while pos + 16 <= len(data):
                            wd, _, _, n = struct.unpack_from("<iIII", data, pos)
                            name = data[pos + 16:pos + 16 + n].rstrip(b"\0").decode(errors="replace")
                            pos += 16 + n
                            names.add(os.path.join(self._dirs.get(wd, ""), name))
                except BlockingIOError:
                    pass
                with self._lock:
                    files = [self._files[p] for p in names if p in self._files]
            else:
                r, _, _ = select.select([self._stop_r], [], [], 0.002)
                if r:
                    return
                t = time.monotonic()
                with self._lock:
                    files = list(self._files.values())
            for f in files:
                self._read(f, t)

    def _read(self, f, t):
        try:
            if f.fd is None:
                f.fd = os.open(f.path, os.O_RDONLY | os.O_CLOEXEC)
            data = os.pread(f.fd, 1 << 20, f.offset)
        except OSError:
            return
        if not data:
            return
        f.offset += len(data)
        start_t = f.first_t if f.buf else t
        *done, rest = (f.buf + data).split(b"\n")
        f.buf = rest
        stamp = start_t
        new_ticks, new_other = [], []
        for raw in done:
            line = raw.decode(errors="replace").strip("\r")
            m = TICK.search(line)
            if m:
                new_ticks.append(Tick(stamp, int(m[1]), float(m[2]), m[3]))
            elif line:
                new_other.append((stamp, line))
            stamp = t  # the next line started within this read
        f.first_t = (t if done else start_t) if rest else None
        with self._lock:
            f.ticks += new_ticks
            f.other += new_other


def pause_figures(ticks):
    """Guest pause over a list of consecutive ticks: wall (host arrival) and guest uptime, both minus one period."""
    wall, up, gaps, boots = None, None, 0, set()
    worst_at = None
    for a, b in zip(ticks, ticks[1:]):
        boots |= {a.boot, b.boot}
        if b.boot != a.boot or b.counter != a.counter + 1:
            gaps += 1
            continue
        g = (b.t - a.t) * 1000.0
        if wall is None or g > wall:
            wall, worst_at = g, a.t
        u = (b.uptime - a.uptime) * 1000.0
        up = u if up is None or u > up else up
    return {
        "pauseWallMs": None if wall is None else round(max(wall - TICK_MS, 0.0), 2),
        "pauseUptimeMs": None if up is None else round(max(up - TICK_MS, 0.0), 2),
        "ticks": len(ticks),
        "counterGaps": gaps,
        "bootIds": len(boots),
        "worstGapAt": worst_at,
    }


class QmpError(RuntimeError):
    pass


class Qmp:
    """Synchronous QMP: the socket stays blocking; timeouts come from select(), so a timed-out wait leaves the
    connection usable (e.g. for migrate_cancel)."""

    def __init__(self, path, timeout=30.0):
        self.sock = connect_unix(path, timeout)
        self.buf = b""
        self.events = []
        self.greeting = self._read(timeout)
        self.cmd("qmp_capabilities")

    def _read(self, timeout=60.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            r, _, _ = select.select([self.sock], [], [], max(left, 0))
            if not r:
                raise TimeoutError("QMP read timed out")
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, timeout=60.0, **args):
        msg = {"execute": name, **({"arguments": args} if args else {})}
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        end = time.monotonic() + timeout
        while True:
            r = self._read(end - time.monotonic())
            if "event" in r:
                self.events.append((time.monotonic(), r))
            elif "error" in r:
                raise QmpError(f"{name}: {r['error'].get('desc', r['error'])}")
            else:
                return r["return"]

    def wait_event(self, pred, timeout):
        for i, (t, e) in enumerate(self.events):
            if pred(e):
                del self.events[i]
                return t, e
        end = time.monotonic() + timeout
        while True:
            r = self._read(end - time.monotonic())
            if "event" in r:
                if pred(r):
                    return time.monotonic(), r
                self.events.append((time.monotonic(), r))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _pad(buf, n):
    buf += b"\0" * (-len(buf) % n)
    return buf


class Body:
    """Marshals the few D-Bus types the benchmark sends (little endian); offsets are relative to the body start,
    which the header padding puts on an 8-byte boundary."""

    def __init__(self):
        self.b = b""

    def align(self, n):
        self.b = _pad(self.b, n)
        return self

    def string(self, v):
        v = v.encode()
        self.align(4).b += struct.pack("<I", len(v)) + v + b"\0"
        return self

    def u32(self, v):
        self.align(4).b += struct.pack("<I", v)
        return self

    def dict_sv_u32(self, items):
        """a{sv} whose values are all uint32."""
        self.align(4)
        at = len(self.b)
        self.b += b"\0\0\0\0"
        self.align(8)
        start = len(self.b)
        for k, v in items.items():
            self.align(8).string(k)
            self.b += b"\x01u\0"
            self.u32(v)
        self.b = self.b[:at] + struct.pack("<I", len(self.b) - start) + self.b[at + 4:]
        return self


class DBusPing:
    """Just enough D-Bus to time Ping round trips and to drive one Migrate without the CLI: method calls with
    basic arguments, replies returned as raw bodies."""

    def __init__(self, address):
        path = dict(kv.split("=", 1) for kv in address.split(":", 1)[1].split(","))["path"]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(60)
        self.sock.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
        reply = self._readline()
        if not reply.startswith(b"OK"):
            raise RuntimeError(f"D-Bus auth: {reply!r}")
        self.sock.sendall(b"BEGIN\r\n")
        self.serial, self.buf = 0, b""
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")

    def _readline(self):
        data = b""
        while not data.endswith(b"\r\n"):
            data += self.sock.recv(1)
        return data

    def _message(self, dest, path, iface, member, signature, body):
        self.serial += 1
        fields = b""
        items = [(1, b"o", path), (2, b"s", iface), (3, b"s", member), (6, b"s", dest)]
        if signature:
            items.append((8, b"g", signature))
        for code, sig, val in items:
            fields = _pad(fields, 8)
            v = val.encode()
            fields += struct.pack("<BB", code, 1) + sig + b"\0"
            if sig == b"g":
                fields += bytes([len(v)]) + v + b"\0"
            else:
                fields = _pad(fields, 4)
                fields += struct.pack("<I", len(v)) + v + b"\0"
        head = struct.pack("<cBBBII", b"l", 1, 0, 1, len(body), self.serial) + struct.pack("<I", len(fields)) + fields
        return _pad(head, 8) + body, self.serial

    def _recv_message(self):
        while True:
            if len(self.buf) >= 16:
                body_len, _, fields_len = struct.unpack_from("<III", self.buf, 4)
                total = 16 + fields_len + (-fields_len % 8) + body_len
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("D-Bus connection closed")
            self.buf += data

    @staticmethod
    def _reply_serial(msg):
        _, fields_len = struct.unpack_from("<II", msg, 8)
        pos, end = 16, 16 + fields_len
        while pos < end:
            pos += -pos % 8
            code, siglen = msg[pos], msg[pos + 1]
            sig = msg[pos + 2:pos + 2 + siglen]
            pos += 3 + siglen
            if sig in (b"s", b"o"):
                pos += -pos % 4
                (n,) = struct.unpack_from("<I", msg, pos)
                pos += 4 + n + 1
            elif sig == b"g":
                pos += 1 + msg[pos] + 1
            elif sig == b"u":
                pos += -pos % 4
                (v,) = struct.unpack_from("<I", msg, pos)
                pos += 4
                if code == 5:
                    return v
            else:
                return None
        return None

    def call(self, dest, path, iface, member, signature="", body=b""):
        """Returns the reply's body; raises on an error reply."""
        msg, serial = self._message(dest, path, iface, member, signature, body)
        self.sock.sendall(msg)
        while True:
            r = self._recv_message()
            kind = r[1]
            if kind in (2, 3) and self._reply_serial(r) == serial:
                _, fields_len = struct.unpack_from("<II", r, 8)
                body = r[16 + fields_len + (-fields_len % 8):]
                if kind == 3:
                    raise RuntimeError(f"D-Bus error reply to {member}: {body[4:].split(bytes(1))[0].decode(errors='replace')}")
                return body

    @staticmethod
    def first_string(body, variant=False):
        """The first argument of a reply body of type s/o, or v holding s/o."""
        pos = 0
        if variant:
            pos = 1 + body[0] + 1
            pos += -pos % 4
        (n,) = struct.unpack_from("<I", body, pos)
        return body[pos + 4:pos + 4 + n].decode()

    def close(self):
        self.sock.close()
