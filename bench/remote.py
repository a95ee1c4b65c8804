#!/usr/bin/env python3
"""LocalMigrate remote benchmark: live migration between two hosts (network namespaces joined by a veth), per
stream mode, through localmigrated beside raw QEMU with the same parameters and the raw veth TCP throughput.

    python3 bench/remote.py --workdir DIR --daemon BIN --cli BIN --guest-dir DIR [--quick] [--reps N] [--ram 256,1024]
    python3 bench/remote.py --sweep DIR   # end every process of the run (and of its namespaces), delete them, remove DIR

Normally started by `bash bench/run.sh --remote`, which sets up, publishes and cleans up. See bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import probes  # noqa: E402
from lmguest import guest_env  # noqa: E402
import remote_report  # noqa: E402

DOWNTIME_LIMIT_MS = 300
MAX_BANDWIDTH_MIB = 1 << 20          # 1 TiB/s: never the limit (QEMU's default of 128 MiB/s would be)
TLS_PORT, TCP_PORT = 16515, 16510     # the daemons' peer listeners (RemoteOptions defaults)
RAW_PORT_BASE = 49200                 # raw QEMU migration ports, one per migration
CLIENT_DN, CLIENT_GNUTLS_DN = "CN=hostA,O=LocalMigrate", "O=LocalMigrate,CN=hostA"
PSK_USER = "localmigrate"             # MigrationPsk.Username

# name -> (label, URI scheme, CLI options, raw capabilities, raw parameters, stream security)
# Raw QEMU copies live, so the daemon must too for a like-for-like figure: under TCG on QEMU < 9.0 it would otherwise
# keep the guest paused for the copy (README: the TCG dirty-tracking hazard).
LIVE = ("--pause-guest", "false")

MODES = {
    "tcp": ("plain TCP", "tcp", [], {}, {}, None),
    "multifd2": ("multifd 2", "tcp", ["--parallel-connections", "2"], {"multifd": True}, {"multifd-channels": 2}, None),
    "multifd4": ("multifd 4", "tcp", ["--parallel-connections", "4"], {"multifd": True}, {"multifd-channels": 4}, None),
    "multifd2-zstd": ("multifd 2 + zstd", "tcp",
                      ["--parallel-connections", "2", "--compressed", "--comp-methods", "mt", "--comp-mt-algorithm", "zstd"],
                      {"multifd": True}, {"multifd-channels": 2, "multifd-compression": "zstd"}, None),
    "tls-x509": ("TLS x509 (tls://)", "tls", [], {}, {}, "x509"),
    "tls-psk": ("TLS PSK (ssh://)", "ssh", [], {}, {}, "psk"),
}
# Parameters compared between the daemon's read-back and the raw QEMU's (the ones a mode or the benchmark sets).
COMPARED = ["max-bandwidth", "downtime-limit", "multifd-channels", "multifd-compression"]


def log(msg):
    print(f"remote-bench {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def run(*argv, check=True, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


# ---------------------------------------------------------------------------------------------- clean-up

def namespaces_of(workdir):
    prefix = ns_prefix(workdir)
    return sorted(n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else []) if n.startswith(prefix))


def ns_prefix(workdir):
    return "lmrb-" + os.path.basename(os.path.abspath(workdir)).split(".")[-1] + "-"


def sweep(workdir):
    """Every process inside the run's namespaces (sshd sessions and peer bridges name no path of the run), then
    every process naming the work dir (bench.sweep, which also removes the work and shm dirs), then the namespaces."""
    names = namespaces_of(workdir)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [int(p) for n in names for p in run("ip", "netns", "pids", n, check=False).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 5
        while pids and time.monotonic() < end and any(run("ip", "netns", "pids", n, check=False).stdout.strip() for n in names):
            time.sleep(0.05)
    bench.sweep(workdir)
    for n in names:
        run("ip", "netns", "delete", n, check=False)


# ---------------------------------------------------------------------------------------------- hosts

class Network:
    """Two namespaces, <prefix>a and <prefix>b, joined by one veth pair (eth0 in each), 10.77.0.1 and .2."""

    def __init__(self, workdir):
        self.a, self.b = ns_prefix(workdir) + "a", ns_prefix(workdir) + "b"
        self.addr = {self.a: "10.77.0.1", self.b: "10.77.0.2"}
        for ns in (self.a, self.b):
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", self.a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", self.b)
        for ns in (self.a, self.b):
            run("ip", "-n", ns, "addr", "add", self.addr[ns] + "/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")

    @staticmethod
    def exec(ns):
        return ["ip", "netns", "exec", ns]

    def throughput(self, src, dst, nbytes, port=5001):
        """Raw TCP over the veth as tests/.../Support/Hosts/TcpThroughput.cs measures it: socat sends zeros with 1 MiB
        buffers, dd reads the accepted socket itself (socat's nofork) and reports what arrived."""
        ip = self.addr[dst]
        recv = subprocess.Popen(self.exec(dst) + ["socat", "-u", f"TCP-LISTEN:{port},bind={ip},reuseaddr",
                                                  "EXEC:dd of=/dev/null bs=1M,nofork"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 30
        while f"{ip}:{port}" not in run(*self.exec(dst), "ss", "-Hltn", f"sport = :{port}").stdout:
            if time.monotonic() > end:
                recv.kill()
                raise TimeoutError("socat did not listen")
            time.sleep(0.02)
        t0 = time.monotonic()
        run(*self.exec(src), "socat", "-u", "-b", "1048576", f"OPEN:/dev/zero,readbytes={nbytes}", f"TCP:{ip}:{port}")
        _, err = recv.communicate(timeout=120)
        elapsed = time.monotonic() - t0
        got = int(err.strip().split("\n")[-1].split(" ")[0])
        return {"bytes": got, "seconds": round(elapsed, 4), "MiBps": round(got / 1048576 / elapsed, 1)}


def make_pki(directory, addresses):
    """A test CA and, in libvirt's layout, one server certificate for both addresses and the client hostA, like
    tests/UpgradeDaemon.Tests/Support/TestPki.cs (QEMU wants digitalSignature+keyEncipherment and the EKU)."""
    os.makedirs(directory)
    work = os.path.join(directory, "work")
    os.makedirs(work)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", "-new", *ec, "-keyout", f"{work}/ca-key.pem", "-out", f"{directory}/ca-cert.pem",
        "-days", "2", "-subj", "/O=LocalMigrate Bench/CN=LocalMigrate Bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    sans = ",".join(f"IP:{a}" for a in addresses)
    for role, subject, usage in (("server", "/O=LocalMigrate/CN=localhost", "serverAuth"), ("client", "/O=LocalMigrate/CN=hostA", "clientAuth")):
        ext = f"{work}/{role}.ext"
        with open(ext, "w") as f:
            f.write(f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage={usage}\n"
                    + (f"subjectAltName={sans}\n" if role == "server" else ""))
        run("openssl", "req", "-new", *ec, "-keyout", f"{directory}/{role}-key.pem", "-out", f"{work}/{role}.csr", "-subj", subject)
        run("openssl", "x509", "-req", "-in", f"{work}/{role}.csr", "-CA", f"{directory}/ca-cert.pem", "-CAkey", f"{work}/ca-key.pem",
            "-set_serial", str(int.from_bytes(os.urandom(8), "big") >> 1), "-days", "1", "-extfile", ext, "-out", f"{directory}/{role}-cert.pem")
    return directory


class SshClient:
    """A key made for the run and a known_hosts listing exactly the two hosts (as SshClientIdentity.cs)."""

    def __init__(self, directory):
        self.key = os.path.join(directory, "client_ed25519")
        self.known_hosts = os.path.join(directory, "known_hosts")
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "localmigrate-bench", "-f", self.key)
        open(self.known_hosts, "w").close()
        self.authorized_keys = os.path.join(directory, "authorized_keys")
        shutil.copy(self.key + ".pub", self.authorized_keys)
        self.command = " ".join(["ssh", "-F", "/dev/null", "-i", self.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                                 "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                                 "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=15"])

    def trust(self, address, host_pub):
        with open(self.known_hosts, "a") as f:
            f.write(f"{address} {' '.join(open(host_pub).read().split()[:2])}\n")


class Host:
    """One "host": its namespace, an sshd in it whose sessions reach its daemon, and localmigrated (own bus, state,
    runtime dirs) with both peer listeners and the ssh client of the run."""

    def __init__(self, o, net, ns, label, pki, ssh):
        self.ns, self.label, self.address = ns, label, net.addr[ns]
        self.dir = os.path.join(o.workdir, label)
        os.makedirs(self.dir)
        remote = {"tlsPort": TLS_PORT, "tcpPort": TCP_PORT, "allowInsecureTcp": True, "pkiDirectory": pki,
                  "allowedClientDns": [CLIENT_DN], "sshCommand": ssh.command, "sshBridgeCommand": f"{o.cli} peer-bridge"}
        self.daemon = bench.Daemon(o, work=self.dir, launcher=Network.exec(ns), extra_config={"remote": remote})
        self.sshd = self.start_sshd(ssh)

    def start_sshd(self, ssh):
        key = os.path.join(self.dir, "ssh_host_ed25519_key")
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        conf = os.path.join(self.dir, "sshd_config")
        with open(conf, "w") as f:
            f.write(f"ListenAddress {self.address}:22\nHostKey {key}\nPidFile none\nPermitRootLogin prohibit-password\n"
                    f"PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    f"AuthorizedKeysFile {ssh.authorized_keys}\nStrictModes no\nUsePAM no\n"
                    f"SetEnv \"LOCALMIGRATE_BUS={self.daemon.address}\"\n")
        os.makedirs("/run/sshd", exist_ok=True)
        log_path = os.path.join(self.dir, "sshd.log")
        proc = subprocess.Popen(Network.exec(self.ns) + ["/usr/sbin/sshd", "-D", "-e", "-f", conf], stdout=subprocess.DEVNULL,
                                stderr=open(log_path, "w"), start_new_session=True)
        end = time.monotonic() + 30
        while "Server listening on" not in open(log_path).read():
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"sshd in {self.ns} did not come up: {open(log_path).read()}")
            time.sleep(0.05)
        ssh.trust(self.address, key + ".pub")
        return proc

    def uri(self, scheme):
        return {"tcp": f"tcp://{self.address}:{TCP_PORT}", "tls": f"tls://{self.address}:{TLS_PORT}", "ssh": f"ssh://root@{self.address}"}[scheme]

    def close(self):
        self.daemon.close()
        if self.sshd.poll() is None:
            self.sshd.kill()
            self.sshd.wait()


# ---------------------------------------------------------------------------------------------- raw QEMU

class RawGuest:
    """(b): the daemon's QEMU command line started by this script, moved between the namespaces with QMP by hand:
    the mode's capabilities and parameters, and for TLS the same objects QemuMigrationTls.cs adds."""

    def __init__(self, o, net, argv, replace, name, pki):
        self.o, self.net, self.pki = o, net, pki
        self.base = os.path.join(o.workdir, "raw", name)
        self.console = os.path.join(o.workdir, "raw", "console", name + ".log")
        os.makedirs(os.path.dirname(self.console), exist_ok=True)
        self.psk_dir = os.path.join(o.workdir, "raw", "psk")
        os.makedirs(self.psk_dir, mode=0o700, exist_ok=True)
        with open(os.path.join(self.psk_dir, "keys.psk"), "w") as f:
            f.write(f"{PSK_USER}:{os.urandom(32).hex()}\n")
        os.chmod(os.path.join(self.psk_dir, "keys.psk"), 0o600)
        self.template, self.replace = argv, dict(replace)
        self.gen, self.port = 0, RAW_PORT_BASE
        self.ns = net.a
        self.vm = bench.RawVm(Network.exec(self.ns) + self._argv(0), self._dir(0))

    def _dir(self, gen):
        return os.path.join(self.base, f"i{gen}")

    def _argv(self, gen):
        rep = {**self.replace, "@INSTANCE@": self._dir(gen)}
        out = []
        for a in self.template:
            for k, v in rep.items():
                a = a.replace(k, v)
            out.append(a)
        return out

    def _setup(self, qmp, mode, side, dst_ip):
        _, _, _, caps, params, security = MODES[mode]
        qmp.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True},
                                                          {"capability": "multifd", "state": bool(caps.get("multifd"))}])
        p = {"max-bandwidth": MAX_BANDWIDTH_MIB << 20, "downtime-limit": DOWNTIME_LIMIT_MS,
             "multifd-channels": params.get("multifd-channels", 2), "multifd-compression": params.get("multifd-compression", "none"),
             "tls-creds": "", "tls-hostname": "", "tls-authz": ""}
        creds = f"raw-tls-{side}"
        if security == "x509":
            qmp.cmd("object-add", **{"qom-type": "tls-creds-x509", "id": creds, "dir": self.pki,
                                     "endpoint": "server" if side == "dst" else "client", "verify-peer": True})
            p["tls-creds"] = creds
            if side == "dst":
                qmp.cmd("object-add", **{"qom-type": "authz-list", "id": "raw-authz", "policy": "deny",
                                         "rules": [{"match": CLIENT_GNUTLS_DN, "policy": "allow", "format": "exact"}]})
                p["tls-authz"] = "raw-authz"
            else:
                p["tls-hostname"] = dst_ip
        elif security == "psk":
            args = {"qom-type": "tls-creds-psk", "id": creds, "dir": self.psk_dir, "endpoint": "server" if side == "dst" else "client"}
            if side == "src":
                args["username"] = PSK_USER
            qmp.cmd("object-add", **args)
            p["tls-creds"] = creds
        qmp.cmd("migrate-set-parameters", **p)

    def migrate(self, mode, timeout):
        """Target in the other namespace (-incoming defer), both sides set up, migrate over the veth, wait until the
        source completed and the target runs, quit the source. Returns figures, like bench.RawDomain.migrate."""
        src_ns = self.ns
        dst_ns = self.net.b if src_ns == self.net.a else self.net.a
        dst_ip = self.net.addr[dst_ns]
        gen = self.gen + 1
        self.port += 1
        uri = f"tcp:{dst_ip}:{self.port}"
        src = self.vm
        t0 = time.monotonic()
        dst = bench.RawVm(Network.exec(dst_ns) + self._argv(gen), self._dir(gen), incoming=True)
        try:
            self._setup(dst.qmp, mode, "dst", dst_ip)
            dst.qmp.cmd("migrate-incoming", uri=uri)
            self._setup(src.qmp, mode, "src", dst_ip)
            params = src.qmp.cmd("query-migrate-parameters")
            src.qmp.cmd("migrate", uri=uri)
            terminal = ("completed", "failed", "cancelled")
            try:
                _, ev = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in terminal, timeout)
            except TimeoutError:
                src.qmp.cmd("migrate_cancel")
                raise TimeoutError(f"raw migration did not complete within {timeout} s (cancelled)")
            if ev["data"]["status"] != "completed":
                raise RuntimeError(f"raw migration {ev['data']['status']}: {src.qmp.cmd('query-migrate').get('error-desc')}")
            _, resume = dst.qmp.wait_event(lambda e: e["event"] == "RESUME", timeout)
            t1 = time.monotonic()
            _, stop = src.qmp.wait_event(lambda e: e["event"] == "STOP", 1)
            # QEMU stores total-time/downtime a moment after the completed event: query until set.
            info = src.qmp.cmd("query-migrate")
            end = time.monotonic() + 5
            while not info.get("total-time") and time.monotonic() < end:
                time.sleep(0.002)
                info = src.qmp.cmd("query-migrate")
        except BaseException:
            dst.kill()
            raise
        src.quit()
        t2 = time.monotonic()
        shutil.rmtree(self._dir(self.gen), ignore_errors=True)
        self.vm, self.gen, self.ns = dst, gen, dst_ns
        stamp = lambda e: e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6  # noqa: E731
        return {
            "downtimeMs": info.get("downtime"), "qemuTotalMs": info.get("total-time"), "totalMs": bench.ms(t1 - t0),
            "wallMs": bench.ms(t2 - t0), "transferredBytes": info.get("ram", {}).get("transferred"),
            "stopToResumeMs": round((stamp(resume) - stamp(stop)) * 1000, 2),
            "parameters": {k: params.get(k) for k in COMPARED},
        }, t0, t1

    def close(self):
        self.vm.quit()


# ---------------------------------------------------------------------------------------------- measurements

class RemoteBench:
    def __init__(self, o):
        self.o = o
        self.tail = probes.ConsoleTail()
        self.hosts = []
        self.results = {}

    def pause(self, consoles, t0, t1):
        """Largest gap between consecutive ticks of the guest around [t0, t1], over its consoles on both hosts (the
        ConsoleTail stamps every line with one host clock), minus the tick period; and the noise in the second before."""
        wait = t1 + bench.WINDOW_PAD_S + 0.05 - time.monotonic()
        if wait > 0:
            time.sleep(wait)

        def ticks(a, b):
            return sorted((k for c in consoles for k in self.tail.ticks(c, a, b)), key=lambda k: (k.t, k.counter))
        fig = probes.pause_figures(ticks(t0 - bench.WINDOW_PAD_S, t1 + bench.WINDOW_PAD_S))
        base = probes.pause_figures(ticks(t0 - bench.WINDOW_PAD_S - bench.SETTLE_S, t0 - bench.WINDOW_PAD_S))
        return {"pauseWallMs": fig["pauseWallMs"], "counterGaps": fig["counterGaps"], "bootIds": fig["bootIds"],
                "baselinePauseWallMs": base["pauseWallMs"],
                "worstGapAtMs": None if fig["worstGapAt"] is None else bench.ms(fig["worstGapAt"] - t0)}

    @staticmethod
    def cpu_ms(pid, children=False):
        """utime + stime of a process (all its threads), ms; with children, also of its reaped children (an sshd
        listener's: the sessions, and through them the peer bridges, once they ended). Not for a daemon: it reaps
        QEMUs."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return sum(int(x) for x in fields[11:15 if children else 13]) * 1000 / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def cpu_figures(self, hosts):
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ([self.cpu_ms(h.daemon.proc.pid) for h in hosts] + [self.cpu_ms(h.sshd.pid, children=True) for h in hosts]
                + [(kids.ru_utime + kids.ru_stime) * 1000])

    @staticmethod
    def cpu_delta(before, after):
        d = [None if None in (a, b) else round(b - a) for a, b in zip(before, after)]
        return {"daemonCpuMs": {"source": d[0], "target": d[1]}, "sshdCpuMs": {"source": d[2], "target": d[3]}, "cliCpuMs": d[4]}

    def migrate_daemon(self, name, src, dst, mode, consoles):
        _, scheme, extra, *_ = MODES[mode]
        cpu0 = self.cpu_figures((src, dst))
        t0 = time.monotonic()
        wall, rc, out, err = src.daemon.cli("migrate", name, "--to", dst.uri(scheme), "--max-downtime", str(DOWNTIME_LIMIT_MS),
                                            "--max-bandwidth-mib", str(MAX_BANDWIDTH_MIB), *extra, *LIVE, "--json",
                                            "--timeout", str(self.o.timeout), check=False, timeout=self.o.timeout + 60)
        t1 = time.monotonic()
        cpu1 = self.cpu_figures((src, dst))
        try:
            doc = json.loads(out)
        except json.JSONDecodeError:
            doc = {}
        if rc != 0 or doc.get("state") != "completed":
            return {"error": err or f"exit {rc}", "cliWallMs": bench.ms(wall)}
        details = src.daemon.job_details(doc["job"])
        return {
            "downtimeMs": doc["downtimeMs"], "totalMs": doc["totalMs"], "cliWallMs": bench.ms(wall),
            "transferredBytes": doc["transferredBytes"], **details,
            **self.cpu_delta(cpu0, cpu1),
            "parameters": {side: {k: doc.get(side, {}).get("parameters", {}).get(k) for k in COMPARED} for side in ("source", "target")},
            "capabilities": {side: doc.get(side, {}).get("capabilities") for side in ("source", "target")},
            **self.pause(consoles, t0, t1),
        }

    def migrate_detached(self, name, src, dst, mode, consoles):
        """(a2): the same migration started with `--detach` (the CLI exits once the job exists, before Prepare), then
        followed from this process (job State every 20 ms through the source's bus): no CLI process alive during the
        stream, whose .NET runtime otherwise shares the 2 CPUs with the QEMUs."""
        _, scheme, extra, *_ = MODES[mode]
        bus = src.daemon.client()
        job_prop = lambda job, prop: probes.DBusPing.first_string(bus.call(  # noqa: E731
            "org.localmigrate1", job, "org.freedesktop.DBus.Properties", "Get", "ss",
            probes.Body().string("org.localmigrate1.Job").string(prop).b), variant=True)
        cpu0 = self.cpu_figures((src, dst))
        t0 = time.monotonic()
        wall, rc, out, err = src.daemon.cli("migrate", name, "--to", dst.uri(scheme), "--max-downtime", str(DOWNTIME_LIMIT_MS),
                                            "--max-bandwidth-mib", str(MAX_BANDWIDTH_MIB), *extra, *LIVE, "--json", "--detach",
                                            "--timeout", str(self.o.timeout), check=False, timeout=120)
        if rc != 0:
            return {"error": err or f"exit {rc}"}
        job = json.loads(out)["job"]
        end = t0 + self.o.timeout + 60
        while (state := job_prop(job, "State")) == "running" and time.monotonic() < end:
            time.sleep(0.02)
        t1 = time.monotonic()
        cpu1 = self.cpu_figures((src, dst))
        job_id = job_prop(job, "Id")
        if state != "completed":
            return {"error": f"job {job_id} {state}: {job_prop(job, 'Error')}"}
        with open(os.path.join(src.daemon.state, "jobs", job_id + ".json")) as f:
            stats = json.load(f)["stats"]
        return {"downtimeMs": stats["downtimeMs"], "totalMs": stats["totalMs"], "wallMs": bench.ms(t1 - t0),
                "transferredBytes": stats["transferredBytes"], **src.daemon.job_details(job_id), **self.cpu_delta(cpu0, cpu1),
                **self.pause(consoles, t0, t1)}

    def migrate_raw(self, raw, mode):
        try:
            figures, t0, t1 = raw.migrate(mode, self.o.timeout)
        except Exception as e:  # noqa: BLE001 - recorded, the run goes on
            return {"error": f"{type(e).__name__}: {e}"}
        return {**figures, **self.pause([raw.console], t0, t1)}

    def single(self, mib):
        o, a, b = self.o, self.hosts[0], self.hosts[1]
        name = f"r{mib}"
        log(f"== {mib} MiB private: boot via localmigrated (host a) and raw QEMU (namespace a)")
        console_a = a.daemon.define(name, mib, "private", o.cmdline)
        console_b = os.path.join(b.daemon.console, name + ".log")
        consoles = [console_a, console_b]
        for c in consoles:
            self.tail.follow(c, from_start=True)
        t = time.monotonic()
        a.daemon.cli("start", name, timeout=120)
        argv = bench.proc_cmdline(a.daemon.domains()[name]["pid"])
        inst_dir = os.path.dirname(next(x for x in argv if "qmp.sock" in x).split("path=")[1].split(",")[0])
        raw_name = f"raw{mib}"
        replace = {inst_dir: "@INSTANCE@", console_a: os.path.join(o.workdir, "raw", "console", raw_name + ".log")}
        self.tail.wait_tick(console_a, timeout=180, after=t)
        t = time.monotonic()
        raw = RawGuest(o, self.net, argv, replace, raw_name, self.pki)
        self.tail.follow(raw.console, from_start=True)
        cfg = {"ramMiB": mib, "backing": "private", "loadavg": os.getloadavg(), "daemonArgv": argv, "modes": {}}
        hosts = {a.ns: a, b.ns: b}
        where = a.ns
        try:
            self.tail.wait_tick(raw.console, timeout=180, after=t)
            time.sleep(bench.SETTLE_S)
            # As bench.py: every measured migration moves a guest that arrived by migration (a freshly booted one has
            # touched more RAM), so one unmeasured round trip each first.
            for _ in range(2):
                other = b.ns if where == a.ns else a.ns
                r = self.migrate_daemon(name, hosts[where], hosts[other], "tcp", consoles)
                if r.get("error"):
                    raise RuntimeError(f"unmeasured migration of {name} failed: {r['error']}")
                where = other
                raw.migrate("tcp", o.timeout)
            for mode in o.modes:
                samples = cfg["modes"].setdefault(mode, {"daemon": [], "raw": [], **({"detached": []} if o.detached else {})})
                for rep in range(o.reps):
                    for leg in range(2):  # a -> b, then b -> a: the guests end where they started
                        order = ["daemon", "raw"] + (["detached"] if o.detached else [])
                        order = order if (rep + leg) % 2 == 0 else order[::-1]
                        got = {}
                        for method in order:
                            time.sleep(bench.SETTLE_S)
                            warmed = bench.warm_allocator(0 if o.no_warm else mib + 64)
                            start_ns = raw.ns if method == "raw" else where
                            if method in ("daemon", "detached"):
                                other = b.ns if where == a.ns else a.ns
                                how = self.migrate_daemon if method == "daemon" else self.migrate_detached
                                got[method] = how(name, hosts[where], hosts[other], mode, consoles)
                                if not got[method].get("error"):
                                    where = other
                            else:
                                got[method] = self.migrate_raw(raw, mode)
                            got[method].update({"direction": "a->b" if start_ns == a.ns else "b->a", "warmUpMs": warmed})
                            samples[method].append(got[method])
                        log(f"   {MODES[mode][0]:<18} rep {rep + 1} {'a->b' if leg == 0 else 'b->a'}: "
                            f"daemon {brief(got['daemon'])} | raw {brief(got['raw'])}"
                            + (f" | detached {brief(got['detached'])}" if o.detached else ""))
                        if got["raw"].get("error") and raw.vm.proc.poll() is not None:
                            raise RuntimeError(f"raw QEMU gone: {got['raw']['error']}")
                self.checkpoint()
        finally:
            raw.close()
            for h in self.hosts:
                h.daemon.cli("stop", name, "--force", check=False)
                h.daemon.cli("undefine", name, check=False)
        return cfg

    def run(self):
        o = self.o
        t_start = time.monotonic()
        res = {"meta": {
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if o.quick else "full", "reps": o.reps, "ramMiB": o.ram, "modes": o.modes, "modeLabels": {k: v[0] for k, v in MODES.items()},
            "modeOptions": {k: v[2] for k, v in MODES.items()}, "accel": o.accel,
            "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(), "qemu": bench.qemu_version(),
            "guestCmdline": o.cmdline, "downtimeLimitMs": DOWNTIME_LIMIT_MS, "maxBandwidthMiB": MAX_BANDWIDTH_MIB,
            "warmed": not o.no_warm, "loadavgStart": os.getloadavg(), "timeoutS": o.timeout},
            "veth": [], "configs": []}
        self.results = res
        self.net = Network(o.workdir)
        self.pki = make_pki(os.path.join(o.workdir, "pki"), list(self.net.addr.values()))
        ssh = SshClient(o.workdir)
        for ns, label in ((self.net.a, "a"), (self.net.b, "b")):
            self.hosts.append(Host(o, self.net, ns, label, self.pki, ssh))
            self.tail.watch_dir(self.hosts[-1].daemon.console)
        self.tail.watch_dir(os.path.join(o.workdir, "raw", "console"))
        log(f"hosts up: {self.net.a} {self.net.addr[self.net.a]}, {self.net.b} {self.net.addr[self.net.b]}")
        for i in range(o.veth_reps):
            res["veth"].append(self.net.throughput(self.net.a, self.net.b, o.veth_bytes))
        log(f"veth TCP a->b: {[v['MiBps'] for v in res['veth']]} MiB/s")
        for mib in o.ram:
            res["configs"].append(self.single(mib))
            self.checkpoint()
        res["meta"]["durationS"] = round(time.monotonic() - t_start, 1)
        res["meta"]["loadavgEnd"] = os.getloadavg()
        return res

    def checkpoint(self):
        with open(os.path.join(self.o.workdir, "partial.json"), "w") as f:
            json.dump(self.results, f)

    def close(self):
        self.tail.close()
        for h in self.hosts:
            if h.daemon.proc.poll() is None:
                for name in h.daemon.domains():
                    h.daemon.cli("stop", name, "--force", check=False)
            h.close()


def brief(r):
    if r.get("error"):
        return "ERROR " + r["error"][:100]
    mibps = remote_report.throughput(r)
    return (f"qemu {r.get('qemuTotalMs')} ms, down {r.get('downtimeMs')} ms, pause {r.get('pauseWallMs')} ms, "
            f"{mibps:.0f} MiB/s" if mibps else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", metavar="DIR", help="clean up after a run in DIR and exit")
    ap.add_argument("--workdir")
    ap.add_argument("--daemon")
    ap.add_argument("--cli")
    ap.add_argument("--guest-dir")
    ap.add_argument("--results", help="directory for remote-<timestamp>.json, remote-latest.json, remote-latest.md")
    ap.add_argument("--quick", action="store_true", help="1 repetition (a->b and b->a) per mode and size")
    ap.add_argument("--reps", type=int, help="round trips per mode and size (default 3, --quick 1)")
    ap.add_argument("--ram", type=lambda s: [int(x) for x in s.split(",")], default=[256, 1024], help="MiB, comma-separated")
    ap.add_argument("--modes", type=lambda s: s.split(","), default=list(MODES), help=",".join(MODES))
    ap.add_argument("--veth-reps", type=int, default=3)
    ap.add_argument("--veth-bytes", type=int, default=2 << 30)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per migration")
    ap.add_argument("--detached", action="store_true",
                    help="also (a2): the daemon's migration with `migrate --detach`, followed over D-Bus (no CLI during the stream)")
    ap.add_argument("--no-warm", action="store_true", help="no allocator warm-up before each measured migration")
    ap.add_argument("--accel", default=os.environ.get("LOCALMIGRATE_TEST_ACCEL", "tcg"))
    o = ap.parse_args()
    if o.sweep:
        sweep(o.sweep)
        return 0
    unknown = [m for m in o.modes if m not in MODES]
    if unknown:
        ap.error(f"--modes: unknown {','.join(unknown)} (known: {','.join(MODES)})")
    o.workdir = os.path.abspath(o.workdir)
    o.reps = o.reps or (1 if o.quick else 3)
    env = guest_env(o.guest_dir)
    o.kernel = env["GUEST_KERNEL_PVH"] if os.path.exists(env.get("GUEST_KERNEL_PVH", "")) else env["GUEST_KERNEL"]
    o.initrd = env["GUEST_INITRD"]
    o.cmdline = env["GUEST_CMDLINE_DEFAULT"]
    os.makedirs(bench.shm_dir_of(o.workdir), mode=0o700, exist_ok=True)
    sys.setswitchinterval(0.0005)

    def on_signal(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    rb = RemoteBench(o)
    try:
        res = rb.run()
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up, no results written")
        return 130
    finally:
        rb.close()
    results_dir = o.results or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    paths = remote_report.write_all(res, results_dir)
    print(remote_report.markdown(res))
    for p in paths:
        log(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
