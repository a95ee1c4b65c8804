#!/usr/bin/env python3
"""QEMU 10.0 -> 10.0 local migration, raw QMP, no daemon: x-ignore-shared beside cpr-transfer.

    python3 bench/bench.py ... --only cpr [--cpr-qemu BIN]   # normally through bash bench/run.sh --only cpr
    (bench.py runs it in its full and --quick runs too; --no-cpr skips it)

Three modes per RAM size, one guest each, all three booted on the same QEMU 10.0 binary (Debian's
bookworm-backports build, tests/guest/fetch-qemu.sh; --cpr-qemu overrides), with the daemon's device model:

  (x) x-ignore-shared: RAM in a memory-backend-file in /dev/shm (share=on), `-incoming defer` + migrate-incoming,
      `x-ignore-shared` on both sides: what the daemon does, as bench.py's raw QMP path (b) does it;
  (c) cpr-transfer, RAM in the same kind of memory-backend-file (share=on);
  (m) cpr-transfer, RAM in a memory-backend-memfd (share=on): anonymous, only the passed fd reaches the target.

cpr-transfer (QEMU 10.0, docs/devel/migration/CPR.rst, qapi/migration.json MigMode/MigrationChannel): the source
must have been started with `-machine aux-ram-share=on` (ROMs and other implicit RAM blocks in shared memory too;
it cannot be turned on later), sets the parameter mode=cpr-transfer and sends `migrate` with `channels`: a main one
and a cpr one. The target is started with both channels on its command line (`-incoming unix:MAIN` and `-incoming
{"channel-type": "cpr", "addr": {...}}`): it first reads the cpr state (the RAM file descriptors) from the cpr
channel and creates its monitor only after that, so nothing can be set on it over QMP before the source's
migrate (neither capabilities nor migrate-incoming); its cpr socket must be listening before the source's migrate
(polled in /proc/net/unix). The target resumes by itself when the stream completes.

Per sample: QEMU's downtime and total-time (source query-migrate), migrate command -> target seen running, target
spawn -> running, bytes transferred, STOP->RESUME from QEMU's event stamps (when the target's RESUME was seen), and
the guest pause from its console ticks, wall and uptime (Bench.around, as bench.py). Results go to the benchmark
JSON under "cpr"; bench/report.py renders them.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import probes  # noqa: E402

QEMU10_VERSION = "1:10.0.2+ds-2+deb13u1~bpo12+1"
QEMU10_SUITE = "bookworm-backports"
MODES = {
    "x": "x-ignore-shared, memory-backend-file in /dev/shm",
    "c": "cpr-transfer, memory-backend-file (share=on)",
    "m": "cpr-transfer, memory-backend-memfd",
}
SO_ACCEPTCON = 0x10000  # /proc/net/unix Flags of a listening socket


def qemu10(o):
    """The QEMU 10.0 binary: --cpr-qemu, else the bookworm-backports build unpacked by tests/guest/fetch-qemu.sh
    (its last output line; the tree holds that build's firmware and modules beside the binary)."""
    if o.cpr_qemu:
        return o.cpr_qemu
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(["bash", os.path.join(repo, "tests", "guest", "fetch-qemu.sh"), QEMU10_VERSION, QEMU10_SUITE],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def qemu_version(binary):
    try:
        return subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return None


def listening(path):
    """Whether a unix socket bound to `path` is listening (/proc/net/unix: Flags has __SO_ACCEPTCON)."""
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split(None, 7)
            if len(parts) == 8 and parts[7].rstrip("\n") == path and int(parts[3], 16) & SO_ACCEPTCON:
                return True
    return False


def channel(kind, path):
    return {"channel-type": kind, "addr": {"transport": "socket", "type": "unix", "path": path}}


def argv_template(o, qemu, name, mib, mode, ram_file, console):
    """The daemon's device model (bench/results: daemonArgv), on QEMU 10.0's own q35; cpr modes add
    aux-ram-share=on. @INSTANCE@ is the instance directory (RawDomain._argv)."""
    machine = "q35,memory-backend=ram0" + (",aux-ram-share=on" if mode != "x" else "")
    backend = (f"memory-backend-memfd,id=ram0,size={mib}M,share=on" if mode == "m" else
               f"memory-backend-file,id=ram0,size={mib}M,mem-path={ram_file},share=on")
    return [qemu, "-name", f"guest={name},debug-threads=on", "-nodefaults", "-no-user-config", "-display", "none",
            "-msg", "timestamp=on", "-machine", machine, "-accel", o.accel, "-m", f"{mib}M", "-smp", "1",
            "-object", backend,
            "-chardev", "socket,id=qmp,path=@INSTANCE@/qmp.sock,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
            "-chardev", f"socket,id=serial0,path=@INSTANCE@/serial.sock,server=on,wait=off,logfile={console},logappend=on",
            "-device", "isa-serial,chardev=serial0,id=serial0",
            "-kernel", o.kernel, "-initrd", o.initrd, "-append", o.cmdline]


class CprDomain(bench.RawDomain):
    """A RawDomain migrated with cpr-transfer instead of x-ignore-shared."""

    def migrate(self, timeout):
        gen = self.generation + 1
        src = self.vm
        d = self._dir(gen)
        os.makedirs(d, exist_ok=True)
        main_sock, cpr_sock = os.path.join(d, "migrate.sock"), os.path.join(d, "cpr.sock")
        t0 = time.monotonic()
        dst = bench.RawVm(self._argv(gen), d, connect=False,
                          incoming=["-incoming", "unix:" + main_sock, "-incoming", json.dumps(channel("cpr", cpr_sock))])
        try:
            src.qmp.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])
            src.qmp.cmd("migrate-set-parameters", **{"mode": "cpr-transfer", "max-bandwidth": 1 << 40, "downtime-limit": 300})
            # The source connects to the cpr channel at once and fails the migration if nobody listens yet.
            end = time.monotonic() + 30
            while not listening(cpr_sock):
                if dst.proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"the target never listened on {cpr_sock} (exit {dst.proc.poll()})")
                time.sleep(0.001)
            t_migrate = time.monotonic()
            src.qmp.cmd("migrate", channels=[channel("main", main_sock), channel("cpr", cpr_sock)])
            dst.connect()  # its monitor exists once it has read the cpr state
            terminal = ("completed", "failed", "cancelled")
            try:
                _, ev = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in terminal, timeout)
            except TimeoutError:
                src.qmp.cmd("migrate_cancel")
                raise TimeoutError(f"cpr-transfer did not complete within {timeout} s (cancelled)")
            if ev["data"]["status"] != "completed":
                raise RuntimeError(f"cpr-transfer {ev['data']['status']}: {src.qmp.cmd('query-migrate').get('error-desc')}")
            # No events capability on the target (it takes no QMP before the migration): RESUME, which QEMU always
            # sends, or query-status. A RESUME sent before our QMP connection is lost: then only query-status.
            status = dst.qmp.cmd("query-status")["status"]
            resume = next((e for _, e in dst.qmp.events if e["event"] == "RESUME"), None)
            if status != "running":
                resume = dst.qmp.wait_event(lambda e: e["event"] == "RESUME", 10)[1]
                status = dst.qmp.cmd("query-status")["status"]
            t_running = time.monotonic()
            stamp = lambda e: e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6  # noqa: E731
            t_stop = stamp(src.qmp.wait_event(lambda e: e["event"] == "STOP", 1)[1])
        except Exception:
            dst.kill()
            if src.proc.poll() is None:
                try:
                    src.qmp.cmd("cont")
                except Exception:
                    pass
            raise
        info, t_end = self._switch(src, dst, gen)
        return {
            "downtimeMs": info.get("downtime"),
            "totalMs": bench.ms(t_running - t0),
            "wallMs": bench.ms(t_end - t0),
            "qemuTotalMs": info.get("total-time"),
            "prepareMs": bench.ms(t_migrate - t0),
            "stopToResumeMs": None if resume is None else bench.ms(stamp(resume) - t_stop),
            "resumeSeen": resume is not None,
            "transferredBytes": info.get("ram", {}).get("transferred"),
            "targetStatus": status,
            "sourcePid": src.proc.pid,
            "targetPid": dst.proc.pid,
        }, t0, t_end


def run(b, o):
    """Measures with the Bench `b` (its console tail, warm-up, rest and pause windows); returns the "cpr" document."""
    qemu = qemu10(o)
    doc = {"qemu": qemu_version(qemu), "binary": qemu, "ramMiB": o.cpr_ram, "reps": o.reps, "modes": MODES,
           "loadavgStart": os.getloadavg(), "configs": []}
    t_start = time.monotonic()
    console_dir = os.path.join(o.workdir, "raw", "console")
    b.tail.watch_dir(console_dir)
    shm = bench.shm_dir_of(o.workdir)
    bench.log(f"== QEMU 10.0 -> 10.0, x-ignore-shared vs cpr-transfer ({doc['qemu']})")
    for mib in o.cpr_ram:
        cfg = {"ramMiB": mib, "loadavg": os.getloadavg(), "argv": {}, **{mode: [] for mode in MODES}}
        doms = {}
        try:
            t = time.monotonic()
            for mode in MODES:  # all three up together: every mode's migration has the same two guests beside it
                name = f"cpr{mib}-{mode}"
                console = os.path.join(console_dir, name + ".log")
                ram_file = None if mode == "m" else os.path.join(shm, name + ".ram")
                argv = argv_template(o, qemu, name, mib, mode, ram_file, console)
                cfg["argv"][mode] = argv
                cls = bench.RawDomain if mode == "x" else CprDomain
                doms[mode] = cls(o, argv, {}, name, ram_file, mib)
                b.tail.follow(doms[mode].console, from_start=True)
            for mode, dom in doms.items():
                b.wait_booted(dom.console, t, timeout=180)
            # As bench.py: one unmeasured migration each (a guest that arrived by migration), then the repetitions,
            # the order reversed every other one, the allocator warmed (64 MiB, as for shared RAM) before each.
            for mode, dom in doms.items():
                try:
                    dom.migrate(o.timeout)
                except Exception as e:  # noqa: BLE001 - reported by the measured ones
                    bench.log(f"   warm-up {mode} migration failed: {e}")
                b.last_in[dom.name] = time.monotonic()
            for rep in range(o.reps):
                order = list(MODES) if rep % 2 == 0 else list(reversed(MODES))
                for mode in order:
                    dom = doms[mode]
                    rest = b.rest(dom.name)
                    warmed = b.warm(64)
                    r = b.migrate_raw(dom)
                    if not r.get("error"):
                        r["migrateToRunningMs"] = round(r["totalMs"] - r["prepareMs"], 2)
                    r["sourceRestS"], r["warmUpMs"] = rest, warmed
                    b.last_in[dom.name] = time.monotonic()
                    cfg[mode].append(r)
                bench.log(f"   {bench.report.ram(mib)} rep {rep + 1}/{o.reps}: "
                          + " | ".join(f"{m} {brief(cfg[m][-1])}" for m in MODES))
        finally:
            for dom in doms.values():
                dom.close()
        doc["configs"].append(cfg)
        if hasattr(b, "checkpoint") and b.results:
            b.results["cpr"] = doc
            b.checkpoint()
    doc["durationS"] = round(time.monotonic() - t_start, 1)
    doc["loadavgEnd"] = os.getloadavg()
    return doc


def brief(r):
    if r.get("error"):
        return "ERROR " + r["error"][:80]
    return (f"down {r.get('downtimeMs')} / qemu total {r.get('qemuTotalMs')} / to running {r.get('migrateToRunningMs')} ms, "
            f"pause {r.get('pauseWallMs')} ms")
