#!/usr/bin/env python3
"""Boot the test guest and migrate it locally with raw QMP: a check of the machine, not of LocalMigrate.

    tests/guest/migrate-smoke.py [--src BIN] [--dst BIN] [--shared] [--pvh] [--seconds S] [--no-migrate]
                                 [--machine TYPE] [--cpr [--memfd]] [--boot-timeout S]

Boots the guest from build-guest.sh under the source QEMU (TCG, q35, 256 MiB), checks LMREADY,
LMTICK and LMPATTERN, then starts the target QEMU with the same device model plus `-incoming defer`,
migrates over a unix socket and checks that the guest keeps ticking on the target (next counter,
same boot-id, no corruption). Prints progress on stderr and one JSON summary on stdout; exit 0
when everything held. Python 3 standard library only.

--cpr (QEMU >= 10.0 on both sides; implies --shared): the cpr-transfer mode instead of x-ignore-shared. Both
sides get `-machine aux-ram-share=on` (ROMs and other implicit RAM in shared memory too); the target gets its
main channel and a second, cpr channel on the command line (`-incoming unix:...` and `-incoming
{"channel-type": "cpr", ...}`): it reads the RAM file descriptors from the cpr channel before it creates
its monitor, so it answers QMP only after the source's `migrate` (mode cpr-transfer, both channels).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lmguest import connect_unix, guest_env  # noqa: E402
TICK = re.compile(r"LMTICK (\d+) (\d+\.\d+) ([0-9a-f]{8})")


def log(msg):
    print(f"migrate-smoke: {msg}", file=sys.stderr, flush=True)


class Serial:
    """Reads a QEMU serial unix socket into (host time, line) pairs on a thread."""

    def __init__(self, path):
        self.lines, self.lock = [], threading.Lock()
        self.sock = connect_unix(path)  # connect early: output without a reader is dropped
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            *done, buf = buf.split(b"\n")
            t = time.monotonic()
            with self.lock:
                self.lines += [(t, l.decode(errors="replace").rstrip("\r")) for l in done]

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, prefix, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, l in self.snapshot():
                if l.startswith(prefix):
                    return t, l
            time.sleep(0.002)
        raise TimeoutError(f"no '{prefix}' line within {timeout} s")

    def ticks(self):
        out = []
        for t, l in self.snapshot():
            m = TICK.fullmatch(l)
            if m:
                out.append((t, int(m[1]), float(m[2]), m[3]))
        return out


class Qmp:
    """Minimal synchronous QMP client: greeting, qmp_capabilities, commands, buffered events."""

    def __init__(self, path):
        self.sock = connect_unix(path)
        self.file = self.sock.makefile("rwb", buffering=0)
        self.events = []
        greeting = self._read()
        self.package = greeting["QMP"]["version"]["package"]
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name, **({"arguments": args} if args else {})}
        self.file.write(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self.events.append((time.monotonic(), r))
            elif "error" in r:
                raise RuntimeError(f"{name}: {r['error']}")
            else:
                return r["return"]

    def wait_event(self, pred, timeout=120.0):
        for i, (t, e) in enumerate(self.events):
            if pred(e):
                del self.events[i]
                return t, e
        self.sock.settimeout(timeout)
        while True:
            r = self._read()
            if "event" in r:
                if pred(r):
                    return time.monotonic(), r
                self.events.append((time.monotonic(), r))


class Vm:
    def __init__(self, name, binary, args, workdir):
        self.name = name
        self.serial_path = os.path.join(workdir, f"{name}-serial.sock")
        self.qmp_path = os.path.join(workdir, f"{name}-qmp.sock")
        argv = [binary, *args,
                "-serial", f"unix:{self.serial_path},server=on,wait=off",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT)
        self.serial = Serial(self.serial_path)
        self.qmp = Qmp(self.qmp_path)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.qmp.cmd("quit")
                self.proc.wait(5)
            except Exception:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        with open(self.log_path) as f:
            return f.read().strip()


def tick_summary(ticks):
    counters = [c for _, c, _, _ in ticks]
    gaps = sum(1 for a, b in zip(counters, counters[1:]) if b != a + 1)
    host = [(b[0] - a[0]) * 1000 for a, b in zip(ticks, ticks[1:])]
    return {
        "ticks": len(ticks),
        "counterGaps": gaps,
        "bootIds": sorted({b for *_, b in ticks}),
        "hostIntervalMeanMs": round(sum(host) / len(host), 2) if host else None,
        "hostIntervalMaxMs": round(max(host), 1) if host else None,
        "guestMsPerTick": round((ticks[-1][2] - ticks[0][2]) * 1000 / (ticks[-1][1] - ticks[0][1]), 2)
        if len(ticks) > 1 else None,
    }


def pattern_summary(serial):
    lines = [l for _, l in serial.snapshot() if l.startswith("LMPATTERN")]
    return {"patternOkPasses": sum(l.startswith("LMPATTERN OK") for l in lines),
            "patternCorrupt": [l for l in lines if "CORRUPT" in l][:8]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64")
    ap.add_argument("--dst", default=None, help="target binary (default: the installed one)")
    ap.add_argument("--shared", action="store_true", help="RAM in a shared file + x-ignore-shared")
    ap.add_argument("--pvh", action="store_true", help="boot the uncompressed vmlinux (PVH)")
    ap.add_argument("--seconds", type=float, default=2.0, help="observe each side this long")
    ap.add_argument("--no-migrate", action="store_true")
    ap.add_argument("--guest-dir", help="default: build-guest.sh --print-dir")
    ap.add_argument("--accel", default=os.environ.get("LOCALMIGRATE_TEST_ACCEL", "tcg"))
    ap.add_argument("--boot-timeout", type=float, default=30.0, help="seconds until LMREADY (a loaded host is slow)")
    ap.add_argument("--cpr", action="store_true", help="cpr-transfer mode (QEMU >= 10.0 both sides)")
    ap.add_argument("--memfd", action="store_true", help="with --cpr: RAM in memory-backend-memfd instead of a named file")
    ap.add_argument("--machine", default="q35",
                    help="machine type; pin a versioned one (pc-q35-7.2) when the two QEMUs differ")
    o = ap.parse_args()
    o.shared = o.shared or o.cpr
    if o.memfd and not o.cpr:
        ap.error("--memfd needs --cpr: a fresh QEMU cannot open another process's memfd by itself")
    dst_bin = o.dst or shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"

    guest_dir = o.guest_dir or subprocess.run([os.path.join(HERE, "build-guest.sh"), "--print-dir"],
                                              check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    env = guest_env(guest_dir)
    kernel = env["GUEST_KERNEL_PVH"] if o.pvh else env["GUEST_KERNEL"]

    workdir = tempfile.mkdtemp(prefix="lm-smoke.")
    shm = f"/dev/shm/lm-smoke.{os.getpid()}" if o.shared and not o.memfd else None
    if shm:  # create it ourselves: QEMU would create it 0644
        os.close(os.open(shm, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    # The device model, identical on both sides. The migration stream carries state, not config.
    common = ["-accel", o.accel, "-machine", o.machine, "-m", "256", "-nodefaults", "-no-user-config",
              "-display", "none", "-no-reboot",
              "-kernel", kernel, "-initrd", env["GUEST_INITRD"], "-append", env["GUEST_CMDLINE_DEFAULT"]]
    if o.memfd:  # anonymous shared memory: no file to open, only the fd cpr-transfer passes
        common += ["-object", "memory-backend-memfd,id=ram0,size=256M,share=on", "-machine", "memory-backend=ram0"]
    if shm:
        common += ["-object", f"memory-backend-file,id=ram0,size=256M,mem-path={shm},share=on",
                   "-machine", "memory-backend=ram0"]
    if o.cpr:
        common += ["-machine", "aux-ram-share=on"]
    result = {"src": o.src, "dst": dst_bin, "shared": o.shared, "pvh": o.pvh, "cpr": o.cpr, "memfd": o.memfd, "ok": False}
    vms = []
    try:
        src = Vm("src", o.src, common, workdir)
        vms.append(src)
        result["srcVersion"] = src.qmp.package
        t_ready, ready = src.serial.wait_for("LMREADY", timeout=o.boot_timeout)
        t_tick, _ = src.serial.wait_for("LMTICK")
        src.serial.wait_for("LMPATTERN")
        result["bootToFirstTickMs"] = round((t_tick - src.t0) * 1000)
        result["ready"] = ready
        log(f"{src.qmp.package}: first LMTICK {result['bootToFirstTickMs']} ms after spawn")
        time.sleep(o.seconds)
        result["source"] = {**tick_summary(src.serial.ticks()), **pattern_summary(src.serial)}
        ok = result["source"]["counterGaps"] == 0 and not result["source"]["patternCorrupt"]
        if o.no_migrate:
            result["ok"] = ok
            return result

        caps = [{"capability": "events", "state": True}]
        if shm and not o.cpr:  # needed on BOTH sides, or the target fails the stream
            caps.append({"capability": "x-ignore-shared", "state": True})
        mig = os.path.join(workdir, "mig.sock")
        if o.cpr:
            # The target blocks on the cpr channel before its monitor exists: it is spawned and connected on a
            # thread (its serial socket appears early, so no tick is lost), and answers once the source migrates.
            cpr = os.path.join(workdir, "cpr.sock")
            channel = lambda path, kind: {"channel-type": kind, "addr": {"transport": "socket", "type": "unix", "path": path}}
            spawned = []
            starter = threading.Thread(target=lambda: spawned.append(Vm("dst", dst_bin, common + [
                "-incoming", f"unix:{mig}", "-incoming", json.dumps(channel(cpr, "cpr"))], workdir)), daemon=True)
            starter.start()
            src.qmp.cmd("migrate-set-capabilities", capabilities=caps)
            src.qmp.cmd("migrate-set-parameters", mode="cpr-transfer")
            while not os.path.exists(cpr):  # the target listens on it as soon as it starts
                time.sleep(0.002)
            t_start = time.monotonic()
            src.qmp.cmd("migrate", channels=[channel(mig, "main"), channel(cpr, "cpr")])
            starter.join(60)
            if not spawned:
                raise RuntimeError("the target's QMP did not come up after migrate")
            dst = spawned[0]
            vms.append(dst)
            result["dstVersion"] = dst.qmp.package
        else:
            dst = Vm("dst", dst_bin, common + ["-incoming", "defer"], workdir)
            vms.append(dst)
            result["dstVersion"] = dst.qmp.package
            dst.qmp.cmd("migrate-set-capabilities", capabilities=caps)
            dst.qmp.cmd("migrate-incoming", uri=f"unix:{mig}")
            src.qmp.cmd("migrate-set-capabilities", capabilities=caps)
            t_start = time.monotonic()
            src.qmp.cmd("migrate", uri=f"unix:{mig}")
        t_end, ev = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and
                                       e["data"]["status"] in ("completed", "failed", "cancelled"))
        status = ev["data"]["status"]
        # QEMU emits 'completed' before it stores total-time/downtime: re-query until they are set.
        info = src.qmp.cmd("query-migrate")
        while status == "completed" and not info.get("total-time"):
            time.sleep(0.001)
            info = src.qmp.cmd("query-migrate")
        result["migration"] = {
            "status": status, "hostMs": round((t_end - t_start) * 1000, 1),
            "totalMs": info.get("total-time"), "downtimeMs": info.get("downtime"),
            "setupMs": info.get("setup-time"),
            "transferredBytes": info.get("ram", {}).get("transferred"),
        }
        log(f"migration {status}: {result['migration']}")
        if status != "completed":
            result["dstOutput"] = dst.output()
            return result
        if not o.cpr:  # with cpr, the target's RESUME may come before its QMP connection: the ticks tell
            dst.qmp.wait_event(lambda e: e["event"] == "RESUME", timeout=10)
        last_src = src.serial.ticks()[-1]
        src.stop()
        dst.serial.wait_for("LMTICK")
        time.sleep(o.seconds)
        dticks = dst.serial.ticks()
        result["target"] = {**tick_summary(dticks), **pattern_summary(dst.serial)}
        result["continuity"] = {
            "lastSourceTick": last_src[1], "firstTargetTick": dticks[0][1],
            "sameBootId": dticks[0][3] == last_src[3],
            "hostGapMs": round((dticks[0][0] - last_src[0]) * 1000, 1),
        }
        result["ok"] = (ok and dticks[0][1] == last_src[1] + 1 and dticks[0][3] == last_src[3]
                        and result["target"]["counterGaps"] == 0 and not result["target"]["patternCorrupt"]
                        and result["target"]["patternOkPasses"] > 0)
        return result
    except Exception as e:  # report, don't hide: the summary says what failed
        result["error"] = f"{type(e).__name__}: {e}"
        for vm in vms:
            result[f"{vm.name}Output"] = vm.output()
        return result
    finally:
        for vm in vms:
            vm.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if shm and os.path.exists(shm):
            os.unlink(shm)


if __name__ == "__main__":
    res = main()
    print(json.dumps(res))
    sys.exit(0 if res["ok"] else 1)
