#!/usr/bin/env python3
"""LocalMigrate memory benchmark: the daemon's resident memory with N VMs, and whether it stays flat over many local
migrations (issue 16's "RSS <= 64 MiB with 16 VMs, flat within 5 % from migration 100 to 1,000").

    python3 bench/memory.py --workdir DIR --daemon BIN --cli BIN --guest-dir DIR [--vms 16] [--migrations 1000]
    python3 bench/memory.py --sweep DIR

Normally started by `bash bench/run.sh --memory`, which sets up, publishes (self-contained ReadyToRun, as shipped)
and cleans up. Each sample is VmRSS, RssAnon and RssFile from /proc/<pid>/status; at the end /proc/<pid>/smaps is
summed per mapping (which assembly, the JIT's code heap, anonymous memory) to show where the memory is.
"""
import argparse
import collections
import datetime
import json
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from lmguest import guest_env  # noqa: E402


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def smaps_by_mapping(pid, top=15):
    rss, name = collections.Counter(), None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                path = parts[5] if len(parts) > 5 else "[anon]"
                name = os.path.basename(path) if path.startswith("/") else path
            elif parts and parts[0] == "Rss:":
                rss[name] += int(parts[1])
    return [{"mapping": k, "rssKiB": v} for k, v in rss.most_common(top)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweep", metavar="DIR")
    ap.add_argument("--workdir")
    ap.add_argument("--daemon")
    ap.add_argument("--cli")
    ap.add_argument("--guest-dir")
    ap.add_argument("--vms", type=int, default=16)
    ap.add_argument("--migrations", type=int, default=1000)
    ap.add_argument("--every", type=int, default=25, help="sample every N migrations")
    ap.add_argument("--ram", type=int, default=128, help="MiB per VM")
    ap.add_argument("--results")
    ap.add_argument("--accel", default=os.environ.get("LOCALMIGRATE_TEST_ACCEL", "tcg"))
    a = ap.parse_args()
    if a.sweep:
        bench.sweep(a.sweep)
        return 0
    env = guest_env(a.guest_dir)
    o = types.SimpleNamespace(workdir=os.path.abspath(a.workdir), daemon=a.daemon, cli=a.cli, accel=a.accel,
                              kernel=env["GUEST_KERNEL_PVH"] if os.path.exists(env.get("GUEST_KERNEL_PVH", "")) else env["GUEST_KERNEL"],
                              initrd=env["GUEST_INITRD"],
                              cmdline=env["GUEST_CMDLINE_DEFAULT"].replace("lm.pattern_mib=32", "lm.pattern_mib=0"))
    os.makedirs(bench.shm_dir_of(o.workdir), mode=0o700, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    d = bench.Daemon(o)
    res = {"startedAt": started.isoformat(timespec="seconds"), "vms": a.vms, "ramMiB": a.ram, "samples": []}
    try:
        res["fresh"] = status(d.proc.pid)
        names = [f"m{i:02d}" for i in range(a.vms)]
        for name in names:
            d.define(name, a.ram, "shared", o.cmdline)
            d.cli("start", name, timeout=120)
        time.sleep(5)
        res["withVms"] = status(d.proc.pid)
        bench.log(f"{a.vms} VMs up: {res['withVms']}")
        res["samples"].append({"migrations": 0, **res["withVms"]})
        for i in range(a.migrations):
            d.cli("migrate", names[i % a.vms], "--timeout", "300")
            if (i + 1) % a.every == 0:
                res["samples"].append({"migrations": i + 1, **status(d.proc.pid)})
                bench.log(f"after {i + 1} migrations: {res['samples'][-1]}")
        res["mappings"] = smaps_by_mapping(d.proc.pid)
    finally:
        d.close()
    res["tookS"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds())
    out_dir = a.results or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    with open(os.path.join(out_dir, "memory-latest.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = markdown(res)
    with open(os.path.join(out_dir, "memory-latest.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


def markdown(res):
    mib = lambda kib: f"{kib / 1024:.1f}"  # noqa: E731
    lines = [f"# LocalMigrate daemon memory, {res['startedAt']} ({res['vms']} VMs of {res['ramMiB']} MiB, "
             f"{res['samples'][-1]['migrations']} local migrations, {res['tookS']} s)", "",
             "| migrations | VmRSS MiB | RssAnon MiB | RssFile MiB | threads |", "|---|---|---|---|---|",
             f"| fresh, 0 VMs | {mib(res['fresh']['VmRSS'])} | {mib(res['fresh']['RssAnon'])} | {mib(res['fresh']['RssFile'])} | {res['fresh']['Threads']} |"]
    for s in res["samples"]:
        lines.append(f"| {s['migrations']} | {mib(s['VmRSS'])} | {mib(s['RssAnon'])} | {mib(s['RssFile'])} | {s['Threads']} |")
    after = [s for s in res["samples"] if s["migrations"] >= 100]
    if len(after) >= 2:
        lo, hi = min(s["VmRSS"] for s in after), max(s["VmRSS"] for s in after)
        lines += ["", f"From migration 100 on: {mib(lo)}–{mib(hi)} MiB, spread {100 * (hi - lo) / lo:.1f} % (target: within 5 %)."]
    lines += ["", f"With {res['vms']} VMs, before any migration: {mib(res['withVms']['VmRSS'])} MiB (target: <= 64 MiB).", "",
              "Where the memory is at the end (smaps, Rss per mapping):", "", "| mapping | MiB |", "|---|---|"]
    lines += [f"| {m['mapping']} | {mib(m['rssKiB'])} |" for m in res.get("mappings", [])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
