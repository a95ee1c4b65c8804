#!/usr/bin/env python3
"""Summaries, target verdicts and the Markdown table of the remote benchmark (bench/remote.py).

    python3 bench/remote_report.py RESULTS.json [--out DIR]    # re-render remote-latest.md from a stored run
"""
import argparse
import json
import os
import statistics
import sys
import time

THROUGHPUT_TARGET = 0.9
FIGURES = ["daemonsCpuMs", "cliCpuMs", "cliWallMs", "totalMs", "qemuTotalMs", "downtimeMs", "throughputMiBps", "pauseWallMs", "baselinePauseWallMs",
           "stopToResumeMs", "transferredBytes"]


def throughput(sample):
    """MiB/s: RAM bytes sent over QEMU's own total-time (the same span on both sides, from `migrate` to completed)."""
    b, t = sample.get("transferredBytes"), sample.get("qemuTotalMs")
    return round(b / 1048576 / (t / 1000), 1) if b and t else None


def summary(samples, key):
    vals = [s[key] for s in samples if not s.get("error") and s.get(key) is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def params_match(mode_samples):
    """Every raw sample's parameters equal the daemon's source read-back (as strings) for the compared keys."""
    daemon = [s["parameters"]["source"] for s in mode_samples["daemon"] if not s.get("error") and s.get("parameters")]
    raw = [s["parameters"] for s in mode_samples["raw"] if not s.get("error") and s.get("parameters")]
    if not daemon or not raw:
        return None
    norm = lambda d: {k: None if v is None else str(v) for k, v in d.items()}  # noqa: E731
    return all(norm(r) == norm(daemon[0]) for r in raw) and all(norm(d) == norm(daemon[0]) for d in daemon)


def summarize(res):
    limit = res["meta"]["downtimeLimitMs"]
    res["vethMiBps"] = statistics.median([v["MiBps"] for v in res["veth"]]) if res.get("veth") else None
    for cfg in res["configs"]:
        cfg["summary"] = {}
        for mode, ms in cfg["modes"].items():
            for method in ("daemon", "raw", "detached"):
                for s in ms.get(method, []):
                    s["throughputMiBps"] = throughput(s)
                    cpu = s.get("daemonCpuMs") or {}
                    if cpu.get("source") is not None and cpu.get("target") is not None:
                        s["daemonsCpuMs"] = cpu["source"] + cpu["target"]
            sm = {m: {f: summary(ms[m], f) for f in FIGURES} for m in ("daemon", "raw", "detached") if m in ms}
            med = lambda m, f: (sm[m][f] or {}).get("median")  # noqa: E731
            a, b = med("daemon", "throughputMiBps"), med("raw", "throughputMiBps")
            sm["throughputRatio"] = round(a / b, 3) if a and b else None
            if "detached" in sm:
                a2 = med("detached", "throughputMiBps")
                sm["detachedThroughputRatio"] = round(a2 / b, 3) if a2 and b else None
            sm["throughputOk"] = sm["throughputRatio"] is not None and sm["throughputRatio"] >= THROUGHPUT_TARGET
            worst = lambda m: max((s["downtimeMs"] for s in ms[m] if not s.get("error") and s.get("downtimeMs") is not None), default=None)  # noqa: E731
            sm["worstDowntimeMs"] = {"daemon": worst("daemon"), "raw": worst("raw")}
            sm["downtimeOk"] = sm["worstDowntimeMs"]["daemon"] is not None and sm["worstDowntimeMs"]["daemon"] <= limit
            sm["errors"] = {m: sum(1 for s in ms[m] if s.get("error")) for m in ("daemon", "raw")}
            sm["paramsMatch"] = params_match(ms)
            sm["vethFraction"] = {m: round(med(m, "throughputMiBps") / res["vethMiBps"], 3) if med(m, "throughputMiBps") and res["vethMiBps"] else None
                                  for m in ("daemon", "raw")}
            cfg["summary"][mode] = sm
    return res


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}".replace(",", " ")


def cell(s, digits=0):
    if not s:
        return "–"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt(s["median"], digits)
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"


def markdown(res):
    summarize(res)
    m = res["meta"]
    limit = m["downtimeLimitMs"]
    out = [f"# LocalMigrate remote benchmark ({m['mode']}, {m['started']})", "",
           f"Two network namespaces joined by one veth, a localmigrated (own dbus-daemon) in each, sshd in each; guest: the "
           f"test guest, private RAM (`memory-backend-ram`), TCG, busy (verifies a 32 MiB pattern every 10 ms). Every mode "
           f"with `--max-downtime {limit}` and `--max-bandwidth-mib {m['maxBandwidthMiB']}`; raw QEMU with the same "
           f"downtime-limit, max-bandwidth, capabilities, multifd parameters and TLS objects. {m['reps']} round trip(s) "
           f"(a→b and b→a) per mode and size: {2 * m['reps']} samples per method; medians (min–max). Host: {m['cpus']} CPUs, "
           f"{m['qemu']}, load {fmt(m['loadavgStart'][0], 2)} → {fmt((m.get('loadavgEnd') or [None])[0], 2)}, "
           f"{fmt(m.get('durationS'))} s.", "",
           f"**Raw veth TCP** (socat → dd, a→b, {len(res['veth'])}×): median {fmt(res['vethMiBps'])} MiB/s "
           f"({', '.join(fmt(v['MiBps']) for v in res['veth'])}).", "",
           "Throughput = RAM bytes transferred / QEMU total-time (source `query-migrate`). (a) = `localmigrate migrate --to URI "
           "--json` (CLI wall: the whole command; daemon total: its `totalMs`, job created → Finish, before Confirm); "
           "(b) = raw QMP, two QEMUs started by the script with the daemon's command line. Guest pause: largest gap between "
           "the guest's 10 ms console ticks (stamped on arrival, both hosts' console logs merged), minus 10 ms. "
           "STOP→RESUME: QEMU's own event timestamps (source STOP, target RESUME), raw only. CPU: utime+stime the source and "
           "destination daemons used during the migration (together), and the `localmigrate migrate` process's own. *Same "
           "params*: max-bandwidth, downtime-limit, multifd-channels, multifd-compression of the raw source equal the "
           "daemon's source read-back in every sample.", ""]
    for cfg in res["configs"]:
        out += [f"## {cfg['ramMiB']} MiB", "",
                "| mode | (a) MiB/s | (b) MiB/s | a/b | ≥ 0.9 | (a) downtime ms | (b) downtime ms | (a) ≤ "
                f"{limit} | (a) QEMU total ms | (b) QEMU total ms | (a) daemon total ms | (a) CLI wall ms | (a) guest pause ms | "
                "(b) guest pause ms | (b) STOP→RESUME ms | (b) of veth | same params | (a) CPU ms: daemons / CLI |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for mode, sm in cfg["summary"].items():
            a, b = sm["daemon"], sm["raw"]
            errs = "" if not any(sm["errors"].values()) else f" ({sm['errors']['daemon']}+{sm['errors']['raw']} failed)"
            out.append("| " + " | ".join([
                m.get("modeLabels", {}).get(mode, mode) + errs, cell(a["throughputMiBps"]), cell(b["throughputMiBps"]), fmt(sm["throughputRatio"], 2),
                "yes" if sm["throughputOk"] else "**no**", cell(a["downtimeMs"]), cell(b["downtimeMs"]),
                "yes" if sm["downtimeOk"] else "**no**", cell(a["qemuTotalMs"]), cell(b["qemuTotalMs"]), cell(a["totalMs"]),
                cell(a["cliWallMs"]), cell(a["pauseWallMs"]), cell(b["pauseWallMs"]), cell(b["stopToResumeMs"]),
                fmt(sm["vethFraction"]["raw"], 2), {True: "yes", False: "**no**", None: "–"}[sm["paramsMatch"]],
                f"{cell(a['daemonsCpuMs'])} / {cell(a['cliCpuMs'])}",
            ]) + " |")
        out.append("")
        detached = [(mode, sm) for mode, sm in cfg["summary"].items() if "detached" in sm]
        if detached:
            out += ["(a2) the same migration with `migrate --detach`, followed over D-Bus by the benchmark (no CLI process "
                    "during the stream):", "",
                    "| mode | (a2) MiB/s | (b) MiB/s | a2/b | (a2) downtime ms | (a2) QEMU total ms | (a2) guest pause ms | (a2) CPU ms: daemons |",
                    "|---|---|---|---|---|---|---|---|"]
            for mode, sm in detached:
                d = sm["detached"]
                out.append("| " + " | ".join([m.get("modeLabels", {}).get(mode, mode), cell(d["throughputMiBps"]),
                                              cell(sm["raw"]["throughputMiBps"]), fmt(sm["detachedThroughputRatio"], 2),
                                              cell(d["downtimeMs"]), cell(d["qemuTotalMs"]), cell(d["pauseWallMs"]),
                                              cell(d["daemonsCpuMs"])]) + " |")
            out.append("")
        noise = [s["baselinePauseWallMs"] for ms in cfg["modes"].values() for x in ("daemon", "raw") for s in ms[x]
                 if not s.get("error") and s.get("baselinePauseWallMs") is not None]
        if noise:
            out += [f"Noise (largest tick gap in the quiet second before each migration): median {fmt(statistics.median(noise))} ms, "
                    f"max {fmt(max(noise))} ms.", ""]
        for mode, ms in cfg["modes"].items():
            if cfg["summary"][mode]["paramsMatch"] is False:
                raw = next((x["parameters"] for x in ms["raw"] if x.get("parameters")), {})
                for i, d in enumerate(x for x in ms["daemon"] if x.get("parameters")):
                    diff = {k: v for k, v in d["parameters"]["source"].items() if str(raw.get(k)) != str(v)}
                    if diff:
                        out.append(f"- {mode}: daemon sample {i + 1} source parameters {diff} (raw: "
                                   f"{ {k: raw.get(k) for k in diff} }; capabilities {d.get('capabilities', {}).get('source')})")
        errors = [(mode, x, s["error"]) for mode, ms in cfg["modes"].items() for x in ("daemon", "raw") for s in ms[x] if s.get("error")]
        for mode, x, e in errors:
            out.append(f"- {mode} {x}: {e}")
        if errors:
            out.append("")
    return "\n".join(out)


def write_all(res, directory):
    os.makedirs(directory, exist_ok=True)
    summarize(res)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    paths = []
    for name in (f"remote-{stamp}.json", "remote-latest.json"):
        p = os.path.join(directory, name)
        with open(p, "w") as f:
            json.dump(res, f, indent=1)
        paths.append(p)
    p = os.path.join(directory, "remote-latest.md")
    with open(p, "w") as f:
        f.write(markdown(res) + "\n")
    paths.append(p)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out")
    o = ap.parse_args()
    with open(o.results) as f:
        res = json.load(f)
    if o.out:
        print("\n".join(write_all(res, o.out)))
    else:
        print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
