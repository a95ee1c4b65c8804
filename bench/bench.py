#!/usr/bin/env python3
"""LocalMigrate benchmark: local live migration of the test guest under TCG, three ways side by side.

    python3 bench/bench.py --workdir DIR --daemon BIN --cli BIN --guest-dir DIR [--quick] [--reps N] ...
    python3 bench/bench.py --sweep DIR      # kill every process whose command line names DIR, remove DIR

Normally started by bench/run.sh, which sets up, builds and cleans up. See bench/README.md.
(a) `localmigrate migrate` through localmigrated on a private bus, (b) the floor: the same migration done with
raw QMP commands and no daemon, on the same QEMU command line, (c) a restart (stop --force, start). Then a
batch of VMs upgraded with `localmigrate upgrade --all --parallel N`, and figures of the daemon itself.
"""
import argparse
import ctypes
import datetime
import json
import mmap
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probes  # noqa: E402  (puts tests/guest on sys.path)
from lmguest import guest_env  # noqa: E402
import report  # noqa: E402
sys.modules.setdefault("bench", sys.modules[__name__])  # bench/cpr.py (imported in Bench.run) imports it as `bench`

SETTLE_S = 1.0          # quiet time before each measurement (also the baseline window)
WINDOW_PAD_S = 0.3      # ticks this long before the request and after the end count as "around the migration"
PREPARED = report.PREPARED  # batch run key suffix: targets started ahead with `upgrade --prepare --all`


def log(msg):
    print(f"bench {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def ms(seconds):
    return round(seconds * 1000.0, 2)


# ---------------------------------------------------------------------------------------------- clean-up

def sweep(workdir):
    """Ends every process whose command line names workdir (the daemon, its QEMUs, dbus-daemon, raw QEMUs,
    all started by this benchmark with paths under workdir), daemon first, then removes workdir and its shm dir."""
    workdir = os.path.abspath(workdir)
    me = {os.getpid(), os.getppid()}

    def ours():
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in me:
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if any(workdir.encode() in a for a in argv):
                found.append((int(entry), os.path.basename(argv[0].decode(errors="replace"))))
        return found

    order = lambda p: 0 if p[1] in ("localmigrated", "python3") else 2 if p[1] == "dbus-daemon" else 1  # noqa: E731
    for sig in (signal.SIGTERM, signal.SIGKILL):
        procs = sorted(ours(), key=order)
        for pid, _ in procs:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
            if sig == signal.SIGTERM and order((pid, _)) == 0:
                time.sleep(0.3)
        end = time.monotonic() + 5
        while ours() and time.monotonic() < end:
            time.sleep(0.05)
        if not ours():
            break
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(shm_dir_of(workdir), ignore_errors=True)


def shm_dir_of(workdir):
    return "/dev/shm/" + os.path.basename(os.path.abspath(workdir))


# ---------------------------------------------------------------------------------------------- daemon side

class Daemon:
    """dbus-daemon + localmigrated on a private bus, as demo/run.sh does it."""

    def __init__(self, o, work=None, launcher=(), extra_config=None):
        """work: its directory (default o.workdir); launcher: prefix of the daemon's command line (e.g. `ip netns
        exec NS`, as bench/remote.py runs one daemon per network namespace); extra_config: merged into its config."""
        self.o, self.work = o, work or o.workdir
        self.state, self.run = os.path.join(self.work, "state"), os.path.join(self.work, "run")
        self.shm = shm_dir_of(o.workdir) if self.work == o.workdir else os.path.join(shm_dir_of(o.workdir), os.path.basename(self.work))
        self.console = os.path.join(self.state, "console")
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        conf = os.path.join(self.work, "bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<busconfig>
  <type>session</type>
  <listen>unix:path={self.work}/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
  <include>{repo}/systemd/org.localmigrate1.conf</include>
</busconfig>
""")
        addr_file = os.path.join(self.work, "bus.address")
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                                    stdout=open(addr_file, "w"), stderr=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + 10
        while time.monotonic() < end and not os.path.getsize(addr_file):
            time.sleep(0.02)
        with open(addr_file) as f:
            self.address = f.readline().strip()
        config = os.path.join(self.work, "localmigrated.json")
        with open(config, "w") as f:
            json.dump({"defaultAccel": o.accel, "sharedMemoryDirectory": self.shm, **(extra_config or {})}, f)
        self._client = None
        self.log = open(os.path.join(self.work, "daemon.log"), "w")
        self.proc = subprocess.Popen([*launcher, o.daemon, "--bus", self.address, "--config", config, "--state-dir", self.state,
                                      "--runtime-dir", self.run], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + 30
        while self.cli("list", check=False)[1] != 0:
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"localmigrated did not come up; see {self.log.name}")
            time.sleep(0.1)

    def cli(self, *args, check=True, timeout=600):
        t0 = time.monotonic()
        p = subprocess.run([self.o.cli, "--bus", self.address, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        wall = time.monotonic() - t0
        if check and p.returncode != 0:
            raise RuntimeError(f"localmigrate {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return wall, p.returncode, p.stdout, p.stderr.strip()

    def define(self, name, mib, backing, cmdline):
        path = os.path.join(self.work, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"name": name, "memoryMiB": mib, "machine": "q35", "memoryBacking": backing,
                       "kernel": self.o.kernel, "initrd": self.o.initrd, "cmdline": cmdline}, f)
        self.cli("define", path)
        return os.path.join(self.console, name + ".log")

    def domains(self):
        return {d["name"]: d for d in json.loads(self.cli("list", "--json")[2])}

    def job_details(self, job):
        """QEMU's own total-time from the job journal, and the time spent in each phase from the daemon's log
        (its lines are stamped HH:MM:SS.fff local time; the journal's startedAt is the job's creation)."""
        out = {}
        try:
            with open(os.path.join(self.state, "jobs", job + ".json")) as f:
                rec = json.load(f)
            out["qemuTotalMs"] = rec.get("stats", {}).get("qemuTotalMs")
            started = datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", rec["startedAt"])).astimezone()
            marks = [("created", started.hour * 3600 + started.minute * 60 + started.second + started.microsecond / 1e6)]
            self.log.flush()
            with open(self.log.name) as f:
                for line in f:
                    m = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) \w+ Job " + job + r": \S+ (?:enters (\w+)|(moved))", line)
                    if m:
                        marks.append((m[4] or "done", int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])))
            out["phasesMs"] = {a[0]: round((b[1] - a[1]) * 1000) for a, b in zip(marks, marks[1:])}
        except (OSError, ValueError, KeyError) as e:
            out["detailsError"] = str(e)
        return out

    def client(self):
        if self._client is None:
            self._client = probes.DBusPing(self.address)
        return self._client

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def close(self):
        for p in (self.proc, self.bus):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


# ---------------------------------------------------------------------------------------------- raw QMP side

class RawVm:
    """One QEMU started by this script with the daemon's command line, its runtime paths replaced."""

    def __init__(self, argv, instance_dir, incoming=False, connect=True):
        """incoming: True for `-incoming defer`, or a list of extra arguments (bench/cpr.py: the cpr-transfer
        target's two -incoming channels); connect=False leaves the QMP connection to connect() (that target
        creates its monitor only once the source has sent its migrate)."""
        os.makedirs(instance_dir, exist_ok=True)
        self.dir = instance_dir
        self.argv = argv + (["-incoming", "defer"] if incoming is True else list(incoming or []))
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(instance_dir, "qemu.log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.qmp = None
        if connect:
            self.connect()

    def connect(self, timeout=30.0):
        try:
            self.qmp = probes.Qmp(os.path.join(self.dir, "qmp.sock"), timeout)
        except Exception:
            self.kill()
            raise

    def quit(self):
        if self.proc.poll() is None and self.qmp is not None:
            try:
                self.qmp.cmd("quit")
            except (EOFError, OSError, probes.QmpError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()
        if self.qmp is not None:
            self.qmp.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class RawDomain:
    """The floor: the daemon's QEMU command line, driven by raw QMP commands; no daemon, no D-Bus."""

    def __init__(self, o, daemon_argv, replace, name, shared_file, mib):
        self.o, self.name = o, name
        self.base = os.path.join(o.workdir, "raw", name)
        self.console = os.path.join(o.workdir, "raw", "console", name + ".log")
        os.makedirs(os.path.dirname(self.console), exist_ok=True)
        self.shared_file = shared_file
        if shared_file:  # created 0600 first: QEMU would create it 0644
            fd = os.open(shared_file, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            os.ftruncate(fd, mib << 20)
            os.close(fd)
        self.template = daemon_argv
        self.replace = dict(replace)
        self.generation = 0
        self.vm = RawVm(self._argv(0), self._dir(0))

    def _dir(self, generation):
        return os.path.join(self.base, f"i{generation}")

    def _argv(self, generation):
        rep = dict(self.replace)
        rep["@INSTANCE@"] = self._dir(generation)
        out = []
        for a in self.template:
            for k, v in rep.items():
                a = a.replace(k, v)
            out.append(a)
        return out

    def migrate(self, timeout):
        """Target with -incoming defer + migrate-incoming, capabilities and parameters as the daemon sets them,
        migrate, wait for completed, then quit the source. Returns the figures."""
        shared = self.shared_file is not None
        caps = [{"capability": "events", "state": True}]
        if shared:
            caps.append({"capability": "x-ignore-shared", "state": True})
        gen = self.generation + 1
        src = self.vm
        t0 = time.monotonic()
        dst = RawVm(self._argv(gen), self._dir(gen), incoming=True)
        try:
            uri = "unix:" + os.path.join(self._dir(gen), "migrate.sock")
            dst.qmp.cmd("migrate-set-capabilities", capabilities=caps)
            dst.qmp.cmd("migrate-incoming", uri=uri)
            src.qmp.cmd("migrate-set-capabilities", capabilities=caps)
            src.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40, "downtime-limit": 300})
            t_migrate = time.monotonic()
            src.qmp.cmd("migrate", uri=uri)
            terminal = ("completed", "failed", "cancelled")
            try:
                _, ev = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in terminal, timeout)
            except TimeoutError:
                src.qmp.cmd("migrate_cancel")
                raise TimeoutError(f"raw migration did not complete within {timeout} s (cancelled)")
            if ev["data"]["status"] != "completed":
                raise RuntimeError(f"raw migration {ev['data']['status']}: {src.qmp.cmd('query-migrate').get('error-desc')}")
            # Target side done, as the daemon's Finish: its MIGRATION completed, then query-status.
            dst.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in terminal, 60)
            status = dst.qmp.cmd("query-status")["status"]
            t_running = time.monotonic()
            # QEMU stamps events with its wall clock: the two processes' stamps compare directly.
            stamp = lambda e: e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6  # noqa: E731
            t_resume = stamp(dst.qmp.wait_event(lambda e: e["event"] == "RESUME", 10)[1])
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
            "totalMs": ms(t_running - t0),
            "wallMs": ms(t_end - t0),
            "qemuTotalMs": info.get("total-time"),
            "prepareMs": ms(t_migrate - t0),
            "stopToResumeMs": ms(t_resume - t_stop),
            "transferredBytes": info.get("ram", {}).get("transferred"),
            "targetStatus": status,
            "sourcePid": src.proc.pid,
            "targetPid": dst.proc.pid,
        }, t0, t_end

    def _switch(self, src, dst, gen):
        """After a completed migration: the source's query-migrate, then the source quits and the target becomes
        this domain's VM. Returns (query-migrate, monotonic time when the source is gone)."""
        # QEMU stores total-time/downtime a moment after the completed event: query until set.
        info = src.qmp.cmd("query-migrate")
        for _ in range(100):
            if info.get("total-time"):
                break
            time.sleep(0.002)
            info = src.qmp.cmd("query-migrate")
        src.quit()
        t_end = time.monotonic()
        shutil.rmtree(self._dir(self.generation), ignore_errors=True)
        self.vm, self.generation = dst, gen
        return info, t_end

    def close(self):
        self.vm.quit()
        self.vm.kill()
        if self.shared_file and os.path.exists(self.shared_file):
            os.unlink(self.shared_file)


def qemu_pids_of(name):
    """Pids of the QEMUs of domain `name` (its active instance, a target, a standby), by their QMP socket path."""
    pids = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            argv = proc_cmdline(pid)
        except OSError:
            continue
        if any(f"/{name}." in a and "qmp.sock" in a for a in argv):
            pids.append(pid)
    return pids


def proc_cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


def warm_allocator(mib):
    """Touches and frees `mib` MiB of anonymous huge-page memory; returns the time it took (see Bench.warm)."""
    if mib <= 0:
        return None
    t = time.monotonic()
    size = mib << 20
    buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    # Huge pages, as QEMU asks for its guest RAM: the target takes 2 MiB blocks, and only freeing 2 MiB blocks
    # puts such blocks back warm (4 KiB pages touched and freed did not help: measured, README).
    buf.madvise(mmap.MADV_HUGEPAGE)
    view = ctypes.c_char.from_buffer(buf)
    ctypes.memset(ctypes.addressof(view), 1, size)
    del view
    buf.close()  # munmap: the pages go back to the allocator, hot, at the head of its free lists
    return ms(time.monotonic() - t)


# ---------------------------------------------------------------------------------------------- measurements

class Bench:
    def __init__(self, o):
        self.o = o
        self.tail = probes.ConsoleTail()
        self.daemon = None
        self.results = {}
        self.last_in = {}  # guest -> when it last arrived by migration

    def around(self, console, t0, t1):
        """Guest pause around [t0, t1], after waiting for the window's end; plus the noise in the second before."""
        wait = t1 + WINDOW_PAD_S + 0.05 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        fig = probes.pause_figures(self.tail.ticks(console, t0 - WINDOW_PAD_S, t1 + WINDOW_PAD_S))
        base = probes.pause_figures(self.tail.ticks(console, t0 - WINDOW_PAD_S - SETTLE_S, t0 - WINDOW_PAD_S))
        fig["baselinePauseWallMs"] = base["pauseWallMs"]
        fig["worstGapAtMs"] = None if fig["worstGapAt"] is None else ms(fig["worstGapAt"] - t0)
        del fig["worstGapAt"]
        return fig

    def warm(self, mib):
        """Touches and frees `mib` MiB of anonymous memory right before a measured migration, so that the pages the
        target QEMU is about to fill come from a warm allocator. This machine is itself a VM whose kernel reports
        free pages to its host (virtio-balloon free page reporting, /sys/module/page_reporting): a page re-used
        after it was reported costs a host fault, and a RAM copy's target touches every page it receives. The
        same 91 MB copy then takes 400-600 ms instead of 70 ms, for raw QMP and the daemon alike, depending only on
        how long ago memory was last freed; the difference is kernel time of the target's receiving thread
        (README). Every method gets the same warm-up; --no-warm measures cold."""
        return None if self.o.no_warm else warm_allocator(mib)

    def rest(self, key):
        """Waits until the guest has run o.rest seconds since it arrived (at least SETTLE_S); returns the rest."""
        wait = max(self.last_in.get(key, 0) + self.o.rest - time.monotonic(), SETTLE_S)
        time.sleep(wait)
        return round(time.monotonic() - self.last_in.get(key, 0), 2) if key in self.last_in else None

    def wait_booted(self, console, after, timeout=120):
        """First tick after `after`, then the second of quiet before the first measurement."""
        k = self.tail.wait_tick(console, timeout=timeout, after=after)
        time.sleep(SETTLE_S)
        return k

    # (a)
    def migrate_daemon(self, name, console):
        t0 = time.monotonic()
        # --pause-guest false: the floor (raw QMP) copies live, so the daemon must too; under TCG on QEMU < 9.0 it would
        # otherwise keep a private-RAM guest paused for the copy (README: the TCG dirty-tracking hazard).
        wall, rc, out, err = self.daemon.cli("migrate", name, "--json", "--pause-guest", "false", "--timeout", str(self.o.timeout),
                                             check=False, timeout=self.o.timeout + 60)
        t1 = time.monotonic()
        try:
            doc = json.loads(out)
        except json.JSONDecodeError:
            doc = {}
        if rc != 0 or doc.get("state") != "completed":
            return {"error": err or f"exit {rc}", "cliWallMs": ms(wall)}
        return {
            "downtimeMs": doc["downtimeMs"], "totalMs": doc["totalMs"], "cliWallMs": ms(wall),
            "transferredBytes": doc["transferredBytes"], "sourcePid": doc["sourcePid"], "targetPid": doc["targetPid"],
            **self.daemon.job_details(doc["job"]),
            **self.around(console, t0, t1),
        }

    # (a2)
    def migrate_dbus(self, name, console):
        """The same migration through the daemon's D-Bus API from this process: no CLI process (its start-up and
        .NET JIT run on the same two CPUs as the migration), so (a2) vs (b) is the daemon's own overhead."""
        bus = self.daemon.client()
        job_prop = lambda job, prop: probes.DBusPing.first_string(bus.call(  # noqa: E731
            "org.localmigrate1", job, "org.freedesktop.DBus.Properties", "Get", "ss",
            probes.Body().string("org.localmigrate1.Job").string(prop).b), variant=True)
        t0 = time.monotonic()
        try:
            job = bus.first_string(bus.call("org.localmigrate1", "/org/localmigrate1/domain/" + escape_label(name),
                                            "org.localmigrate1.Domain", "Migrate", "sa{sv}",
                                            probes.Body().string("").dict_sv_u32({"timeoutSeconds": self.o.timeout}).b))
            end = t0 + self.o.timeout + 60
            while (state := job_prop(job, "State")) == "running" and time.monotonic() < end:
                time.sleep(0.02)
            t1 = time.monotonic()
            job_id = job_prop(job, "Id")
        except (RuntimeError, OSError, EOFError) as e:
            return {"error": f"{type(e).__name__}: {e}"}
        if state != "completed":
            return {"error": f"job {job} {state}: {job_prop(job, 'Error')}"}
        with open(os.path.join(self.daemon.state, "jobs", job_id + ".json")) as f:
            stats = json.load(f)["stats"]
        return {
            "downtimeMs": stats["downtimeMs"], "totalMs": stats["totalMs"], "wallMs": ms(t1 - t0),
            "transferredBytes": stats["transferredBytes"],
            **self.daemon.job_details(job_id),
            **self.around(console, t0, t1),
        }

    # (a3)
    def prepare_standby(self, name):
        """`localmigrate upgrade --prepare NAME` (not timed; before the rest and the warm-up, so its own start-up has faded
        when the migration starts): returns the standby's pid, or an error sample."""
        before = set(qemu_pids_of(name))
        _, rc, _, err = self.daemon.cli("upgrade", "--prepare", name, check=False)
        standby = set(qemu_pids_of(name)) - before
        if rc != 0 or len(standby) != 1:
            return {"error": f"upgrade --prepare: exit {rc}, {len(standby)} new QEMU(s): {err.strip()[:200]}"}
        return standby.pop()

    def migrate_standby(self, name, console, standby):
        """(a) with the target started beforehand: the request then only tunes the waiting QEMU and switches. Which
        QEMU the job took is checked against the standby's pid."""
        if isinstance(standby, dict):
            return standby
        got = self.migrate_daemon(name, console)
        got["standbyPid"] = standby
        if not got.get("error") and got.get("targetPid") != standby:
            got["error"] = f"the job started its own target (pid {got.get('targetPid')}), not the standby (pid {standby})"
        return got

    # (b)
    def migrate_raw(self, raw):
        try:
            figures, t0, t1 = raw.migrate(self.o.timeout)
        except Exception as e:  # report it, keep going
            return {"error": f"{type(e).__name__}: {e}"}
        return {**figures, **self.around(raw.console, t0, t1)}

    # (c)
    def restart(self, name, console):
        before = self.tail.last_tick(console)
        t0 = time.monotonic()
        stop_wall = self.daemon.cli("stop", name, "--force")[0]
        start_wall = self.daemon.cli("start", name)[0]
        try:
            first = self.tail.wait_tick(console, lambda k: before is None or k.boot != before.boot, timeout=180, after=t0)
        except TimeoutError as e:
            return {"error": str(e)}
        # wait_tick returns the newest match; the first of the new boot is what counts
        new = [k for k in self.tail.ticks(console, t_from=t0) if k.boot == first.boot]
        first = new[0]
        if before is not None:  # ticks still arrive while `stop` is on its way: the old boot's very last one counts
            before = [k for k in self.tail.ticks(console, t_from=before.t) if k.boot == before.boot][-1]
        pause = (first.t - before.t) * 1000.0 - probes.TICK_MS if before else None
        time.sleep(SETTLE_S)
        return {
            "totalMs": ms(first.t - t0), "stopCliMs": ms(stop_wall), "startCliMs": ms(start_wall),
            "cliWallMs": ms(stop_wall + start_wall),
            "pauseWallMs": None if pause is None else round(pause, 2),
            "pauseTicks": None if pause is None else round(pause / probes.TICK_MS),
            "newBoot": before is not None and first.boot != before.boot,
        }

    def single(self, mib, backing):
        o, d = self.o, self.daemon
        name = f"m{mib}-{backing}"
        log(f"== {mib} MiB, {backing}: boot via localmigrated and raw QEMU")
        console = d.define(name, mib, backing, o.cmdline)
        self.tail.follow(console, from_start=True)
        t = time.monotonic()
        d.cli("start", name, timeout=120)
        pid = d.domains()[name]["pid"]
        argv = proc_cmdline(pid)
        inst = next(a for a in argv if "qmp.sock" in a).split("path=")[1].split(",")[0]
        inst_dir = os.path.dirname(inst)
        raw_name = f"raw{mib}-{backing}"
        replace = {inst_dir: "@INSTANCE@", console: os.path.join(o.workdir, "raw", "console", raw_name + ".log")}
        shared_file = None
        if backing == "shared":
            daemon_file = next(a for a in argv if "mem-path=" in a).split("mem-path=")[1].split(",")[0]
            shared_file = os.path.join(d.shm, raw_name + ".ram")
            replace[daemon_file] = shared_file
        self.wait_booted(console, t, timeout=180)
        t = time.monotonic()
        raw = RawDomain(o, argv, replace, raw_name, shared_file, mib)
        self.tail.follow(raw.console, from_start=True)
        cfg = {"ramMiB": mib, "backing": backing, "loadavg": os.getloadavg(), "daemonArgv": argv,
               "rawArgvReplacements": {k: v for k, v in replace.items()}, "daemon": [], "dbus": [], "standby": [], "raw": [],
               "restart": []}
        try:
            self.wait_booted(raw.console, t, timeout=180)
            # Every measured migration starts from the same state: a guest that arrived by migration (a freshly
            # booted one has touched more RAM) and a warm page allocator (see warm()). So one unmeasured migration
            # each first, the warm-up right before each measured one, restarts last.
            self.daemon.cli("migrate", name, "--json", "--pause-guest", "false", check=False, timeout=o.timeout + 60)
            self.last_in[name] = time.monotonic()
            try:
                raw.migrate(o.timeout)
            except Exception as e:  # noqa: BLE001 - reported by the measured ones
                log(f"   warm-up raw migration failed: {e}")
            self.last_in[raw_name] = time.monotonic()
            for rep in range(o.reps):
                order = ["daemon", "raw", "dbus", "standby"] if rep % 2 == 0 else ["standby", "dbus", "raw", "daemon"]
                got = {}
                for method in order:
                    key = raw_name if method == "raw" else name
                    standby = self.prepare_standby(name) if method == "standby" else None
                    rest = self.rest(key)
                    warmed = self.warm(mib + 64 if backing == "private" else 64)
                    got[method] = (self.migrate_daemon(name, console) if method == "daemon" else
                                   self.migrate_dbus(name, console) if method == "dbus" else
                                   self.migrate_standby(name, console, standby) if method == "standby" else self.migrate_raw(raw))
                    got[method]["sourceRestS"] = rest
                    got[method]["warmUpMs"] = warmed
                    self.last_in[key] = time.monotonic()
                    cfg[method].append(got[method])
                log(f"   rep {rep + 1}/{o.reps}: CLI {brief(got['daemon'])} | D-Bus {brief(got['dbus'])} | "
                    f"pre-spawned {brief(got['standby'])} | raw {brief(got['raw'])}")
            for rep in range(o.reps if not o.no_restart else 0):
                time.sleep(SETTLE_S)
                c = self.restart(name, console)
                cfg["restart"].append(c)
                log(f"   restart {rep + 1}/{o.reps}: {brief(c)}")
        finally:
            raw.close()
            d.cli("stop", name, "--force", check=False)
            d.cli("undefine", name, check=False)
        return cfg

    def batch(self):
        o, d = self.o, self.daemon
        n = o.batch_vms
        log(f"== batch: {n} VMs of 256 MiB, shared, lm.pattern_mib={o.batch_pattern_mib}")
        names = [f"b{i:02d}" for i in range(n)]
        consoles = {}
        cmdline = o.cmdline.replace("lm.pattern_mib=32", f"lm.pattern_mib={o.batch_pattern_mib}")
        t = time.monotonic()
        for name in names:
            consoles[name] = d.define(name, 256, "shared", cmdline)
            self.tail.follow(consoles[name], from_start=True)
            d.cli("start", name, timeout=120)
        for name in names:
            self.tail.wait_tick(consoles[name], timeout=300, after=t)
        time.sleep(3 * SETTLE_S)
        out = {"vms": n, "ramMiB": 256, "backing": "shared", "patternMiB": o.batch_pattern_mib,
               "daemonRssKiB": d.rss_kib(), "listMs": self.list_latency(), "single": [], "runs": {}}
        log(f"   {n} VMs up; daemon VmRSS {out['daemonRssKiB']} KiB")

        def worst_pause(t0, t1):
            wait = t1 + WINDOW_PAD_S + 0.05 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            per = {k: probes.pause_figures(self.tail.ticks(c, t0 - WINDOW_PAD_S, t1 + WINDOW_PAD_S)) for k, c in consoles.items()}
            base = {k: probes.pause_figures(self.tail.ticks(c, t0 - WINDOW_PAD_S - SETTLE_S, t0 - WINDOW_PAD_S)) for k, c in consoles.items()}
            worst = max(per, key=lambda k: per[k]["pauseWallMs"] or 0)
            return {
                "worstPauseWallMs": per[worst]["pauseWallMs"], "worstDomain": worst,
                "worstPauseUptimeMs": max((p["pauseUptimeMs"] or 0) for p in per.values()),
                "baselineWorstPauseWallMs": max((p["pauseWallMs"] or 0) for p in base.values()),
                "counterGaps": sum(p["counterGaps"] for p in per.values()),
                "bootIdChanges": sum(1 for p in per.values() if p["bootIds"] > 1),
            }

        for rep in range(o.reps):  # reference: one VM upgraded alone while the others run
            time.sleep(SETTLE_S)
            t0 = time.monotonic()
            wall, rc, stdout, err = d.cli("upgrade", names[0], "--json", "--timeout", str(o.timeout), check=False)
            t1 = time.monotonic()
            doc = json.loads(stdout) if rc == 0 else {}
            r = {"wallMs": ms(wall), "error": None if rc == 0 else err}
            if doc.get("jobs"):
                r["totalMs"], r["downtimeMs"] = doc["jobs"][0]["totalMs"], doc["jobs"][0]["downtimeMs"]
            time.sleep(WINDOW_PAD_S + 0.05)
            r["pauseWallMs"] = probes.pause_figures(self.tail.ticks(consoles[names[0]], t0 - WINDOW_PAD_S, t1 + WINDOW_PAD_S))["pauseWallMs"]
            out["single"].append(r)
        log(f"   single upgrade: {[r['wallMs'] for r in out['single']]} ms")

        def upgrade_all(par):
            """One timed `upgrade --all --parallel par` (after the settle time): its sample."""
            time.sleep(SETTLE_S)
            t0 = time.monotonic()
            wall, rc, stdout, err = d.cli("upgrade", "--all", "--parallel", str(par), "--json", "--timeout", str(o.timeout),
                                          check=False, timeout=o.timeout * n + 60)
            t1 = time.monotonic()
            try:
                doc = json.loads(stdout)
            except json.JSONDecodeError:
                doc = {}
            jobs = doc.get("jobs", [])
            return {"wallMs": ms(wall), "upgraded": doc.get("upgraded"), "failed": doc.get("failed"),
                    "error": None if rc == 0 else err,
                    "maxDowntimeMs": max((j["downtimeMs"] for j in jobs), default=None),
                    "maxJobTotalMs": max((j["totalMs"] for j in jobs), default=None),
                    **worst_pause(t0, t1)}

        for par in o.parallel:
            runs = [upgrade_all(par) for _ in range(o.reps)]
            out["runs"][str(par)] = runs
            log(f"   --parallel {par}: wall {[r['wallMs'] for r in runs]} ms, worst pause {[r['worstPauseWallMs'] for r in runs]} ms")
        # The widest batch again with every target started ahead (`upgrade --prepare --all`, not timed): what an upgrade
        # hook that prepares first costs. A run where some job started its own target is an error, not a sample.
        par = max(o.parallel)
        runs = []
        for rep in range(o.reps):
            before = {name: set(qemu_pids_of(name)) for name in names}
            _, rc, _, err = d.cli("upgrade", "--prepare", "--all", check=False, timeout=o.timeout + 60)
            standbys = {name: set(qemu_pids_of(name)) - before[name] for name in names}
            r = upgrade_all(par)
            untaken = [name for name in names if len(standbys[name]) != 1 or set(qemu_pids_of(name)) != standbys[name]]
            if rc != 0:
                r["error"] = f"upgrade --prepare --all: exit {rc}: {err.strip()[:200]}"
            elif r["error"] is None and untaken:
                r["error"] = f"{len(untaken)} jobs did not take their standby: {untaken[:4]}"
            runs.append(r)
        out["runs"][f"{par}{PREPARED}"] = runs
        log(f"   --parallel {par}, targets pre-spawned: wall {[r['wallMs'] for r in runs]} ms, errors {[r['error'] for r in runs if r['error']]}")
        out["daemonRssAfterKiB"] = d.rss_kib()
        for name in names:
            d.cli("stop", name, "--force", check=False)
            d.cli("undefine", name, check=False)
        return out

    def list_latency(self, runs=20):
        return [ms(self.daemon.cli("list")[0]) for _ in range(runs)]

    def dbus_figures(self):
        addr = self.daemon.address
        out = {}
        ping = probes.DBusPing(addr)
        for dest, path, key in (("org.localmigrate1", "/", "pingDaemonUs"), ("org.freedesktop.DBus", "/org/freedesktop/DBus", "pingBusUs")):
            for _ in range(20):
                ping.call(dest, path, "org.freedesktop.DBus.Peer", "Ping")
            samples = []
            for _ in range(200):
                t0 = time.perf_counter()
                ping.call(dest, path, "org.freedesktop.DBus.Peer", "Ping")
                samples.append(round((time.perf_counter() - t0) * 1e6, 1))
            out[key] = samples
        ping.close()
        busctl = []
        for _ in range(self.o.busctl_calls):
            t0 = time.perf_counter()
            subprocess.run(["busctl", f"--address={addr}", "call", "org.localmigrate1", "/", "org.freedesktop.DBus.Peer", "Ping"],
                           check=True, stdout=subprocess.DEVNULL)
            busctl.append(round((time.perf_counter() - t0) * 1e3, 3))
        out["busctlPingMs"] = busctl
        return out

    def run(self):
        import cpr  # here: it subclasses RawDomain of this module
        o = self.o
        started = time.time()
        t_start = time.monotonic()
        res = {
            "meta": {
                "started": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
                "mode": "quick" if o.quick else "full", "reps": o.reps, "ramMiB": o.ram, "backings": o.backing,
                "accel": o.accel, "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
                "memTotalKiB": meminfo("MemTotal"), "qemu": qemu_version(), "guestKernel": o.kernel,
                "guestCmdline": o.cmdline, "consoleStamping": None, "timeoutS": o.timeout, "restS": o.rest, "warmed": not o.no_warm,
                "loadavgStart": os.getloadavg(),
            },
            "configs": [], "batch": None, "daemon": {},
        }
        self.results = res
        if o.only == "cpr":  # bench/cpr.py alone: no daemon
            res["meta"]["only"] = "cpr"
            res["meta"]["consoleStamping"] = self.tail.method
            res["cpr"] = cpr.run(self, o)
            res["meta"]["durationS"] = round(time.monotonic() - t_start, 1)
            res["meta"]["loadavgEnd"] = os.getloadavg()
            return res
        self.daemon = Daemon(o)
        self.tail.watch_dir(self.daemon.console)
        self.tail.watch_dir(os.path.join(o.workdir, "raw", "console"))
        res["meta"]["consoleStamping"] = self.tail.method
        time.sleep(0.5)
        res["daemon"]["rssIdleKiB"] = self.daemon.rss_kib()
        res["daemon"]["listIdleMs"] = self.list_latency()
        # The floor of any CLI command: the process starting and parsing, no D-Bus at all.
        res["daemon"]["cliHelpMs"] = [ms(self.daemon.cli("--help")[0]) for _ in range(20)]
        res["daemon"].update(self.dbus_figures())
        log(f"daemon idle: VmRSS {res['daemon']['rssIdleKiB']} KiB, list median "
            f"{statistics.median(res['daemon']['listIdleMs']):.0f} ms, Ping median {statistics.median(res['daemon']['pingDaemonUs']):.0f} us")
        for mib in o.ram:
            for backing in o.backing:
                res["configs"].append(self.single(mib, backing))
                self.checkpoint()
        if o.batch_vms > 0:
            res["batch"] = self.batch()
            res["daemon"]["rss16KiB"] = res["batch"]["daemonRssKiB"]
            res["daemon"]["list16Ms"] = res["batch"]["listMs"]
        res["daemon"]["rssEndKiB"] = self.daemon.rss_kib()
        if not o.no_cpr:
            res["cpr"] = cpr.run(self, o)
        res["meta"]["durationS"] = round(time.monotonic() - t_start, 1)
        res["meta"]["loadavgEnd"] = os.getloadavg()
        return res

    def checkpoint(self):
        with open(os.path.join(self.o.workdir, "partial.json"), "w") as f:
            json.dump(self.results, f)

    def close(self):
        self.tail.close()
        if self.daemon:
            for name in self.daemon.domains() if self.daemon.proc.poll() is None else []:
                self.daemon.cli("stop", name, "--force", check=False)
            self.daemon.close()


def escape_label(name):
    """sd_bus_path_encode: every byte outside [A-Za-z0-9] as _xx (BusContract.EscapeLabel)."""
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"_{b:02x}" for b in c.encode()) for c in name)


def brief(r):
    if r.get("error"):
        return "ERROR " + r["error"][:80]
    parts = [f"total {r.get('totalMs')} ms"]
    if r.get("downtimeMs") is not None:
        parts.append(f"down {r['downtimeMs']} ms")
    parts.append(f"pause {r.get('pauseWallMs')} ms")
    return ", ".join(parts)


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])


def qemu_version():
    try:
        return subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", metavar="DIR", help="clean up after a run in DIR and exit")
    ap.add_argument("--workdir")
    ap.add_argument("--daemon")
    ap.add_argument("--cli")
    ap.add_argument("--guest-dir")
    ap.add_argument("--results", help="directory for <timestamp>.json, latest.json, latest.md, latest.svg")
    ap.add_argument("--quick", action="store_true", help="1 repetition, 256 MiB only, 4 VMs in the batch")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--ram", type=lambda s: [int(x) for x in s.split(",")], help="MiB, comma-separated")
    ap.add_argument("--backing", type=lambda s: s.split(","), default=["shared", "private"])
    ap.add_argument("--batch-vms", type=int)
    ap.add_argument("--batch-pattern-mib", type=int, default=0)
    ap.add_argument("--parallel", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8])
    ap.add_argument("--timeout", type=int, default=300, help="seconds per migration")
    ap.add_argument("--rest", type=float, default=0.0, help="seconds a guest runs after arriving before it is migrated again")
    ap.add_argument("--no-warm", action="store_true", help="no allocator warm-up before each measured migration (see Bench.warm)")
    ap.add_argument("--busctl-calls", type=int, default=200)
    ap.add_argument("--no-restart", action="store_true")
    ap.add_argument("--accel", default=os.environ.get("LOCALMIGRATE_TEST_ACCEL", "tcg"))
    ap.add_argument("--only", choices=["cpr"], help="cpr: only bench/cpr.py (QEMU 10.0 x-ignore-shared vs cpr-transfer, "
                    "no daemon); writes cpr-only-<timestamp>.{json,md}, not latest.*")
    ap.add_argument("--no-cpr", action="store_true", help="skip bench/cpr.py")
    ap.add_argument("--cpr-qemu", metavar="BIN", help="QEMU 10.0 binary for bench/cpr.py (default: tests/guest/fetch-qemu.sh's)")
    o = ap.parse_args()
    if o.sweep:
        sweep(o.sweep)
        return 0
    o.workdir = os.path.abspath(o.workdir)
    o.reps = o.reps or (1 if o.quick else 5)
    o.ram = o.ram or ([256] if o.quick else [256, 1024, 4096])
    o.cpr_ram = o.ram
    o.batch_vms = o.batch_vms if o.batch_vms is not None else (4 if o.quick else 16)
    env = guest_env(o.guest_dir)
    o.kernel = env["GUEST_KERNEL_PVH"] if os.path.exists(env.get("GUEST_KERNEL_PVH", "")) else env["GUEST_KERNEL"]
    o.initrd = env["GUEST_INITRD"]
    o.cmdline = env["GUEST_CMDLINE_DEFAULT"]
    os.makedirs(shm_dir_of(o.workdir), mode=0o700, exist_ok=True)
    sys.setswitchinterval(0.0005)  # the console stamping thread must not wait for the GIL

    def on_signal(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    bench = Bench(o)
    try:
        res = bench.run()
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up, no results written")
        return 130
    finally:
        bench.close()
    results_dir = o.results or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    paths = report.write_cpr_only(res, results_dir) if o.only == "cpr" else report.write_all(res, results_dir)
    print(report.markdown(res))
    for p in paths:
        log(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
