#!/usr/bin/env python3
"""Turns a benchmark result document into summaries, target verdicts, a Markdown table and an SVG plot.

    python3 bench/report.py RESULTS.json [--out DIR]    # re-render latest.md / latest.svg from a stored run
    python3 bench/report.py BASE.json --merge OTHER.json --out DIR   # single-VM migrations from OTHER, the rest from BASE
    python3 bench/report.py BASE.json --merge cpr-only-STAMP.json      # BASE with the cpr table of a `--only cpr` run
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

PREPARED = "+prepared"  # batch run key suffix: the same --parallel with every target started ahead
METHODS = {"daemon": "(a) localmigrate CLI", "dbus": "(a2) daemon via D-Bus, no CLI",
           "standby": "(a3) localmigrate CLI, target pre-spawned", "raw": "(b) raw QMP", "restart": "(c) restart"}
# figure -> label, sample key per method (absent: not applicable)
FIGURES = [
    ("downtimeMs", "QEMU downtime ms", {"daemon": "downtimeMs", "standby": "downtimeMs", "dbus": "downtimeMs", "raw": "downtimeMs"}),
    ("totalMs", "total ms", {"daemon": "totalMs", "standby": "totalMs", "dbus": "totalMs", "raw": "totalMs", "restart": "totalMs"}),
    ("wallMs", "wall ms", {"daemon": "cliWallMs", "standby": "cliWallMs", "dbus": "wallMs", "raw": "wallMs", "restart": "cliWallMs"}),
    ("qemuTotalMs", "QEMU total-time ms", {"daemon": "qemuTotalMs", "standby": "qemuTotalMs", "dbus": "qemuTotalMs", "raw": "qemuTotalMs"}),
    ("transferredBytes", "transferred", {"daemon": "transferredBytes", "standby": "transferredBytes", "dbus": "transferredBytes", "raw": "transferredBytes"}),
    ("pauseWallMs", "guest pause, wall ms", {"daemon": "pauseWallMs", "standby": "pauseWallMs", "dbus": "pauseWallMs", "raw": "pauseWallMs", "restart": "pauseWallMs"}),
    ("pauseUptimeMs", "guest pause, uptime ms", {"daemon": "pauseUptimeMs", "standby": "pauseUptimeMs", "dbus": "pauseUptimeMs", "raw": "pauseUptimeMs"}),
    ("stopToResumeMs", "STOP→RESUME ms", {"raw": "stopToResumeMs"}),
    ("baselinePauseWallMs", "noise before, ms", {"daemon": "baselinePauseWallMs", "standby": "baselinePauseWallMs", "dbus": "baselinePauseWallMs", "raw": "baselinePauseWallMs"}),
]


def summary(samples, key):
    vals = [s[key] for s in samples if not s.get("error") and s.get(key) is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def summarize(res):
    """Adds 'summary' (per method and figure), 'ratios' (a/b of medians) to every config; batch and daemon summaries."""
    for cfg in res["configs"]:
        cfg["summary"] = {}
        for method in METHODS:
            samples = cfg.get(method, [])
            if not samples and method not in ("daemon", "raw"):
                continue
            cfg["summary"][method] = {fig: summary(samples, keys[method]) for fig, _, keys in FIGURES if method in keys}
            cfg["summary"][method]["errors"] = [s["error"] for s in samples if s.get("error")]
        for method in ("daemon", "dbus", "standby"):
            phases = {}
            for sample in cfg.get(method, []):
                for k, v in (sample.get("phasesMs") or {}).items():
                    phases.setdefault(k, []).append({"v": v})
            cfg["summary"][method + "Phases"] = {k: summary(v, "v") for k, v in phases.items()}
        for key, method in (("ratios", "daemon"), ("ratiosDbus", "dbus"), ("ratiosStandby", "standby")):
            if not cfg.get(method):
                continue
            cfg[key] = {}
            for fig, _, _ in FIGURES:
                a, b = cfg["summary"][method].get(fig), cfg["summary"]["raw"].get(fig)
                cfg[key][fig] = round(a["median"] / b["median"], 3) if a and b and b["median"] else None
    b = res.get("batch")
    if b:
        b["summary"] = {"single": {k: summary(b["single"], k) for k in ("wallMs", "totalMs", "pauseWallMs")}}
        for par, runs in b["runs"].items():
            b["summary"][par] = {k: summary(runs, k) for k in ("wallMs", "worstPauseWallMs", "worstPauseUptimeMs",
                                                               "baselineWorstPauseWallMs", "maxDowntimeMs", "maxJobTotalMs")}
            b["summary"][par]["failedRuns"] = sum(1 for r in runs if r.get("error"))
            b["summary"][par]["counterGaps"] = sum(r.get("counterGaps") or 0 for r in runs)
            b["summary"][par]["bootIdChanges"] = sum(r.get("bootIdChanges") or 0 for r in runs)
    d = res.get("daemon", {})
    d["summary"] = {}
    for k in ("cliHelpMs", "listIdleMs", "list16Ms", "pingDaemonUs", "pingBusUs", "busctlPingMs"):
        if d.get(k):
            d["summary"][k] = summary([{"v": v} for v in d[k]], "v")
    if res.get("cpr"):
        summarize_cpr(res["cpr"])
    res["targets"] = targets(res)
    return res


# bench/cpr.py: QEMU 10.0 -> 10.0, x-ignore-shared vs cpr-transfer (raw QMP)
CPR_MODES = {"x": "(x) x-ignore-shared, file in /dev/shm", "c": "(c) cpr-transfer, file (share=on)",
             "m": "(m) cpr-transfer, memfd"}
CPR_FIGURES = [
    ("downtimeMs", "QEMU downtime ms"),
    ("qemuTotalMs", "QEMU total-time ms"),
    ("migrateToRunningMs", "migrate → target running ms"),
    ("totalMs", "target spawn → running ms"),
    ("transferredBytes", "transferred"),
    ("pauseWallMs", "guest pause, wall ms"),
    ("pauseUptimeMs", "guest pause, uptime ms"),
    ("stopToResumeMs", "STOP→RESUME ms"),
    ("baselinePauseWallMs", "noise before, ms"),
]


def summarize_cpr(doc):
    """Per size and mode: summaries; ratios c/x and m/x of medians; pooled (all sizes) per mode; the decision."""
    for cfg in doc["configs"]:
        cfg["summary"] = {m: {fig: summary(cfg.get(m, []), fig) for fig, _ in CPR_FIGURES} for m in CPR_MODES}
        for m in CPR_MODES:
            cfg["summary"][m]["errors"] = [s["error"] for s in cfg.get(m, []) if s.get("error")]
        cfg["ratios"] = {}
        for m in ("c", "m"):
            cfg["ratios"][m] = {}
            for fig, _ in CPR_FIGURES:
                a, b = cfg["summary"][m].get(fig), cfg["summary"]["x"].get(fig)
                cfg["ratios"][m][fig] = round(a["median"] / b["median"], 3) if a and b and b["median"] else None
    doc["pooled"] = {m: {fig: summary([s for c in doc["configs"] for s in c.get(m, [])], fig) for fig, _ in CPR_FIGURES}
                     for m in CPR_MODES}
    doc["decision"] = cpr_decision(doc)
    return doc


def cpr_decision(doc):
    """One sentence from the numbers: does cpr-transfer shorten the guest pause, and what does it cost?"""
    p = {m: med(doc["pooled"][m]["pauseWallMs"]) for m in CPR_MODES}
    q = {m: med(doc["pooled"][m]["qemuTotalMs"]) for m in CPR_MODES}
    r = {m: med(doc["pooled"][m]["migrateToRunningMs"]) for m in CPR_MODES}
    n = {m: (doc["pooled"][m]["pauseWallMs"] or {}).get("n", 0) for m in CPR_MODES}
    noise = med(doc["pooled"]["x"]["baselinePauseWallMs"])
    if None in p.values():
        return "No decision: a mode has no successful sample (see the errors column)."
    best = min(("c", "m"), key=lambda m: p[m])
    # shorter only if it beats x by more than 20 % and by more than the noise the guest saw before the requests
    bar = max(0.2 * p["x"], noise or 0)
    shorter = p["x"] - p[best] > bar
    pause = (f"pooled median guest pause, wall, {n['x']}/{n['c']}/{n['m']} samples over all sizes: "
             f"{p['x']:.1f} ms (x) / {p['c']:.1f} ms (c) / {p['m']:.1f} ms (m)")
    d = {m: med(doc["pooled"][m]["downtimeMs"]) for m in CPR_MODES}
    if None not in d.values():
        pause += f"; QEMU's own downtime {d['x']:g} / {d['c']:g} / {d['m']:g} ms"
    cost = ""
    if None not in q.values() and None not in r.values():
        cost = (f"; its QEMU total-time is {q['c']:.0f} / {q['m']:.0f} ms against {q['x']:.0f} ms and migrate → target "
                f"running {r['c']:.0f} / {r['m']:.0f} against {r['x']:.0f} ms, because the target's start-up runs inside the migration")
    tail = "cpr-transfer needs -machine aux-ram-share=on from the VM's start, which VMs booted on QEMU 7.2 (the upgrade case) do not have."
    if shorter:
        return f"cpr-transfer shortened the guest pause ({pause}){cost}; still, the daemon keeps x-ignore-shared: {tail}"
    return (f"The daemon keeps x-ignore-shared: cpr-transfer does not shorten the guest pause by more than the noise "
            f"(20 % of x or the noise before, {bar:.1f} ms) ({pause}){cost}; and {tail}")


def markdown_cpr(doc):
    lines = ["## QEMU 10.0 -> 10.0: x-ignore-shared vs cpr-transfer (raw QMP)", "",
             f"{doc.get('qemu')} (`{doc.get('binary')}`), no daemon, bench/cpr.py; {doc.get('reps')} repetition(s) per size "
             f"and mode, the three guests up together, order reversed every other repetition; load average "
             f"{doc['loadavgStart'][0]:.2f} at start, {(doc.get('loadavgEnd') or [0])[0]:.2f} at end; {doc.get('durationS', 0):.0f} s. "
             "(x) is the daemon's method; (c) and (m) need `-machine aux-ram-share=on` on the source from its start. "
             "*migrate → target running*: the source's `migrate` command until the script sees the target `running`; "
             "*target spawn → running* includes starting the target. Cells: median (min–max).", "",
             "| RAM | mode | " + " | ".join(label for _, label in CPR_FIGURES) + " | errors |",
             "|---|---|" + "---|" * (len(CPR_FIGURES) + 1)]
    for c in doc["configs"]:
        for m in CPR_MODES:
            s = c["summary"][m]
            errs = s["errors"]
            lines.append(f"| {ram(c['ramMiB'])} | {CPR_MODES[m]} | "
                         + " | ".join(cell(s.get(fig), fmt_bytes if fig == "transferredBytes" else fmt_num) for fig, _ in CPR_FIGURES)
                         + f" | {len(errs) and str(len(errs)) + ': ' + errs[0][:80].replace('|', '/') or ''} |")
        for m in ("c", "m"):
            lines.append(f"| {ram(c['ramMiB'])} | **{m}/x** | "
                         + " | ".join(fmt_num(c["ratios"][m].get(fig), 2) if c["ratios"][m].get(fig) is not None else "–"
                                      for fig, _ in CPR_FIGURES) + " | |")
    for m in CPR_MODES:
        s = doc["pooled"][m]
        lines.append(f"| all sizes | {CPR_MODES[m]} | "
                     + " | ".join(cell(s.get(fig), fmt_bytes if fig == "transferredBytes" else fmt_num) for fig, _ in CPR_FIGURES) + " | |")
    lines += ["", f"**Decision**: {doc['decision']}", ""]
    return lines


def cfg_of(res, mib, backing):
    return next((c for c in res["configs"] if c["ramMiB"] == mib and c["backing"] == backing), None)


def med(s):
    return s["median"] if s else None


def targets(res):
    """Issue 16's targets, each a ratio against raw QMP in the same run (or an absolute figure), per RAM size."""
    out = []
    configs = lambda backing: sorted((c for c in res["configs"] if c["backing"] == backing), key=lambda c: c["ramMiB"])  # noqa: E731

    def ratio_target(name, backing, fig, limit, methods=("daemon",)):
        parts, ok = [], None
        for c in configs(backing):
            b = med(c["summary"]["raw"].get(fig))
            got = [(m, med(c["summary"].get(m, {}).get(fig))) for m in methods]
            a = got[0][1]
            if a is None or not b:
                parts.append(f"{ram(c['ramMiB'])}: n/a")
                continue
            good = a / b <= limit
            ok = good if ok is None else ok and good
            parts.append(f"{ram(c['ramMiB'])}: {a:.1f} vs {b:.1f} ms = {a / b:.2f}x"
                         + "".join(f"; {METHODS[m][:4]} {v / b:.2f}x" for m, v in got[1:] if v is not None))
        out.append(verdict(name, ok, "; ".join(parts) or "not measured"))

    ratio_target("shared RAM: guest pause (wall), (a) CLI <= 1.2x raw QMP at every size", "shared", "pauseWallMs", 1.2,
                 ("daemon", "standby"))
    ratio_target("shared RAM: total, (a) CLI <= 1.2x raw QMP at every size", "shared", "totalMs", 1.2, ("daemon", "dbus", "standby"))
    ratio_target("private RAM: total, (a) CLI <= 1.1x raw QMP at every size", "private", "totalMs", 1.1, ("daemon", "dbus"))
    # request -> running on the new QEMU, 4 GiB shared (Cloud Hypervisor's published local-migration figure)
    big = next((c for c in reversed(configs("shared")) if c["ramMiB"] >= 4096), None)
    if big:
        figures = {m: med(big["summary"].get(m, {}).get("totalMs")) for m in ("daemon", "dbus", "standby")}
        best = min((v for v in figures.values() if v is not None), default=None)
        out.append(verdict("4 GiB shared RAM: request to running on the new QEMU < 50 ms", None if best is None else best < 50,
                           "; ".join(f"{METHODS[m]} {v:.0f} ms" for m, v in figures.items() if v is not None)))
    else:
        out.append(verdict("4 GiB shared RAM: request to running on the new QEMU < 50 ms", None, "no 4 GiB run (not in --quick)"))
    b = res.get("batch")
    w1 = med(b["summary"]["single"]["wallMs"]) if b else None
    walls = {key: med(b["summary"][key]["wallMs"]) for key in ("8", "8" + PREPARED) if b and b["summary"].get(key)} if w1 else {}
    walls = {k: v for k, v in walls.items() if v}
    if walls:
        best = min(walls.values())
        out.append(verdict(f"batch of {b['vms']} (shared) at --parallel 8: wall <= 1.5x one migration", best <= 1.5 * w1,
                           "; ".join(f"{'targets pre-spawned ' if k.endswith(PREPARED) else ''}{v:.0f} ms = {v / w1:.2f}x"
                                     for k, v in walls.items()) + f" (single `upgrade NAME` {w1:.0f} ms)"))
    else:
        out.append(verdict("batch at --parallel 8 <= 1.5x one migration", None, "not measured"))
    rss = res.get("daemon", {}).get("rss16KiB")
    out.append(verdict(f"daemon VmRSS with {b['vms'] if b else 16} VMs <= 64 MiB", None if rss is None else rss <= 64 * 1024,
                       "not measured" if rss is None else f"{rss / 1024:.1f} MiB (flatness over 1,000 migrations: "
                       "`bench/run.sh --memory`, memory-latest.md)"))
    return out


def verdict(name, ok, detail):
    return {"target": name, "result": "n/a" if ok is None else "PASS" if ok else "FAIL", "detail": detail}


def fmt_num(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and not v.is_integer() or digits:
        return f"{v:.{digits}f}" if digits else (f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}")
    return f"{int(v)}"


def fmt_bytes(v):
    if v is None:
        return "–"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= div:
            return f"{v / div:.3g} {unit}"
    return f"{int(v)} B"


def cell(s, fmt=fmt_num):
    if not s:
        return "–"
    if s["min"] == s["max"]:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def markdown(res):
    m = res["meta"]
    if m.get("only") == "cpr":
        return "\n".join([f"# LocalMigrate benchmark, {m['started']}: bench/cpr.py only ({m['mode']}, {m['reps']} repetition(s))", "",
                          f"accel {m['accel']}, {m['cpus']} CPUs, {round((m['memTotalKiB'] or 0) / 1048576)} GiB RAM, host kernel "
                          f"{m['kernel']}; guest `{os.path.basename(m['guestKernel'])}` `{m['guestCmdline']}`; console lines stamped by "
                          f"{m['consoleStamping']}; allocator {'warmed (64 MiB)' if m.get('warmed') else 'not warmed'} before each "
                          "migration (see bench/README.md).", "", *markdown_cpr(res["cpr"])])
    lines = [f"# LocalMigrate benchmark, {m['started']} ({m['mode']}, {m['reps']} repetition(s))", "",
             f"{m['qemu']}, accel {m['accel']}, {m['cpus']} CPUs, {round((m['memTotalKiB'] or 0) / 1048576)} GiB RAM, "
             f"host kernel {m['kernel']}; guest `{os.path.basename(m['guestKernel'])}` `{m['guestCmdline']}`; console lines "
             f"stamped by {m['consoleStamping']}; load average at start {m['loadavgStart'][0]:.2f}, at end "
             f"{(m.get('loadavgEnd') or [0])[0]:.2f}; run took {m.get('durationS', 0):.0f} s.", "",
             *([f"**Merged document**: {m['mergedFrom']}", ""] if m.get("mergedFrom") else []),
             f"Protocol: {'the page allocator warmed (RAM size + 64 MiB touched and freed) right before every measured migration; ' if m.get('warmed') else 'no allocator warm-up (cold pages); '}"
             f"every guest migrated once, unmeasured, before the measured ones; rest before each: {m.get('restS', 0):g} s "
             "(see bench/README.md).", "",
             "Cells: median (min–max). *total*: request to target running ((a) the daemon's totalMs, (b) target spawn to "
             "target `running`, (c) stop request to the new boot's first tick). *wall*: (a) `localmigrate migrate` process, "
             "(b) including quitting the source, (c) `stop --force` + `start` commands. *guest pause*: largest gap between "
             "consecutive ticks around the operation minus the 10 ms period, by host arrival time (wall) or by the guest's "
             "uptime field; *noise before*: the same wall figure over the quiet second before the request.", "",
             "## Single VM", "",
             "| RAM | backing | method | " + " | ".join(label for _, label, _ in FIGURES) + " | errors |",
             "|---|---|---|" + "---|" * (len(FIGURES) + 1)]
    for c in res["configs"]:
        for method in METHODS:
            s = c["summary"].get(method)
            if s is None:
                continue
            cells = [cell(s.get(fig), fmt_bytes if fig == "transferredBytes" else fmt_num) if method in keys else "n/a"
                     for fig, _, keys in FIGURES]
            errs = s["errors"]
            lines.append(f"| {ram(c['ramMiB'])} | {c['backing']} | {METHODS[method]} | " + " | ".join(cells)
                         + f" | {len(errs) and str(len(errs)) + ': ' + errs[0][:80].replace('|', '/') or ''} |")
        for key, label in (("ratios", "**a/b**"), ("ratiosDbus", "**a2/b**"), ("ratiosStandby", "**a3/b**")):
            if c.get(key):
                lines.append(f"| {ram(c['ramMiB'])} | {c['backing']} | {label} | "
                             + " | ".join(fmt_num(c[key].get(fig), 2) if c[key].get(fig) is not None else "–" for fig, _, _ in FIGURES)
                             + " | |")
    phase_names = ["created", "Begin", "Prepare", "Perform", "Finish", "Confirm"]
    lines += ["", "## Where (a)'s time goes (from the daemon's log, ms, median (min–max))", "",
              "| RAM | backing | via | job created → Begin | Begin | Prepare (target QEMU up) | Perform (QEMU migrates) | Finish | Confirm (source quits) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in res["configs"]:
        for method, via in (("daemon", "CLI"), ("dbus", "D-Bus"), ("standby", "CLI, pre-spawned target")):
            ph = c["summary"].get(method + "Phases")
            if ph:
                lines.append(f"| {ram(c['ramMiB'])} | {c['backing']} | {via} | " + " | ".join(cell(ph.get(k)) for k in phase_names) + " |")
    b = res.get("batch")
    if b:
        lines += ["", f"## Batch: {b['vms']} VMs of {b['ramMiB']} MiB ({b['backing']}, lm.pattern_mib={b['patternMiB']}), "
                  "`localmigrate upgrade --all --parallel N`", "",
                  "| N | wall ms | worst guest pause, wall ms | worst guest pause, uptime ms | noise before (worst VM), ms | "
                  "max downtime ms | slowest job total ms | failed runs | counter gaps / reboots |",
                  "|---|---|---|---|---|---|---|---|---|"]
        s1 = b["summary"]["single"]
        lines.append(f"| one VM (`upgrade {'b00'}`) | {cell(s1['wallMs'])} | {cell(s1['pauseWallMs'])} | | | | "
                     f"{cell(s1['totalMs'])} | | |")
        for par in b["runs"]:
            s = b["summary"][par]
            label = f"{par.removesuffix(PREPARED)}, targets pre-spawned (`upgrade --prepare --all`, untimed)" if par.endswith(PREPARED) else par
            lines.append(f"| {label} | {cell(s['wallMs'])} | {cell(s['worstPauseWallMs'])} | {cell(s['worstPauseUptimeMs'])} | "
                         f"{cell(s['baselineWorstPauseWallMs'])} | {cell(s['maxDowntimeMs'])} | {cell(s['maxJobTotalMs'])} | "
                         f"{s['failedRuns']} | {s['counterGaps']} / {s['bootIdChanges']} |")
    d = res.get("daemon", {})
    ds = d.get("summary", {})
    lines += ["", "## Daemon", "",
              "| figure | value |", "|---|---|",
              f"| VmRSS, 0 VMs (fresh) | {kib(d.get('rssIdleKiB'))} |",
              f"| VmRSS, {b['vms'] if b else 16} VMs | {kib(d.get('rss16KiB'))} |",
              f"| VmRSS at the end (all VMs gone) | {kib(d.get('rssEndKiB'))} |",
              f"| `localmigrate --help` (CLI start-up, no D-Bus), 20 runs, ms | {cell(ds.get('cliHelpMs'))} |",
              f"| `localmigrate list`, 0 VMs, 20 runs, ms | {cell(ds.get('listIdleMs'))} |",
              f"| `localmigrate list`, {b['vms'] if b else 16} VMs, 20 runs, ms | {cell(ds.get('list16Ms'))} |",
              f"| Peer.Ping to org.localmigrate1, in-process client, 200 calls, µs | {cell(ds.get('pingDaemonUs'))} |",
              f"| Peer.Ping to the bus itself (dbus-daemon floor), 200 calls, µs | {cell(ds.get('pingBusUs'))} |",
              f"| `busctl call ... Peer Ping`, one process per call, {len(d.get('busctlPingMs') or [])} calls, ms | "
              f"{cell(ds.get('busctlPingMs'), lambda v: f'{v:.2f}')} |"]
    if res.get("cpr"):
        lines += ["", *markdown_cpr(res["cpr"])]
    lines += ["", "## Targets", "", "| target | result | detail |", "|---|---|---|"]
    for t in res["targets"]:
        lines.append(f"| {t['target']} | **{t['result']}** | {t['detail']} |")
    lines += ["", "![total time against RAM size](latest.svg)", ""]
    return "\n".join(lines)


def ram(mib):
    return f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"


def kib(v):
    return "–" if v is None else f"{v / 1024:.1f} MiB"


def svg(res):
    """Total time against RAM size, log-log, one line per method and backing, min–max bars."""
    W, H, L, R, T, B = 880, 460, 70, 320, 40, 50
    series = []
    colors = {"daemon": "#1f77b4", "dbus": "#9467bd", "standby": "#ff7f0e", "raw": "#2ca02c", "restart": "#d62728"}
    for method in METHODS:
        for backing in ("shared", "private"):
            pts = []
            for c in sorted((c for c in res["configs"] if c["backing"] == backing), key=lambda c: c["ramMiB"]):
                s = c["summary"].get(method, {}).get("totalMs")
                if s and s["median"] > 0:
                    pts.append((c["ramMiB"], s["median"], s["min"], s["max"]))
            if pts:
                series.append((method, backing, pts))
    xs = sorted({p[0] for _, _, pts in series for p in pts}) or [256]
    ys = [v for _, _, pts in series for p in pts for v in p[1:] if v > 0] or [1, 10]
    x0, x1 = math.log2(xs[0]) - 0.5, math.log2(xs[-1]) + 0.5
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    y1 = max(y1, y0 + 1)
    px = lambda x: L + (math.log2(x) - x0) / (x1 - x0) * (W - L - R)  # noqa: E731
    py = lambda y: T + (y1 - math.log10(max(y, 10 ** y0))) / (y1 - y0) * (H - T - B)  # noqa: E731
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="14">Total time of a local migration or restart vs guest RAM (TCG, median, min–max)</text>']
    for e in range(y0, y1):
        for k in (2, 5):
            y = py(k * 10 ** e)
            o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#f0f0f0"/>')
            o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#999" font-size="10">{k * 10 ** e:g}</text>')
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g} ms</text>')
    for x in xs:
        o.append(f'<line x1="{px(x):.1f}" y1="{T}" x2="{px(x):.1f}" y2="{H - B}" stroke="#eee"/>')
        o.append(f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{ram(x)}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#444"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">guest RAM</text>')
    for i, (method, backing, pts) in enumerate(series):
        col, dash = colors[method], "" if backing == "shared" else ' stroke-dasharray="6,4"'
        path = " ".join(f"{'M' if j == 0 else 'L'}{px(p[0]):.1f},{py(p[1]):.1f}" for j, p in enumerate(pts))
        o.append(f'<path d="{path}" fill="none" stroke="{col}" stroke-width="2"{dash}/>')
        for x, m, lo, hi in pts:
            o.append(f'<line x1="{px(x):.1f}" y1="{py(lo):.1f}" x2="{px(x):.1f}" y2="{py(hi):.1f}" stroke="{col}"/>')
            marker = (f'<circle cx="{px(x):.1f}" cy="{py(m):.1f}" r="4" fill="{col}"/>' if backing == "shared" else
                      f'<rect x="{px(x) - 4:.1f}" y="{py(m) - 4:.1f}" width="8" height="8" fill="white" stroke="{col}" stroke-width="2"/>')
            o.append(marker)
        ly = T + 14 + i * 20
        o.append(f'<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 45}" y2="{ly}" stroke="{col}" stroke-width="2"{dash}/>')
        o.append(f'<text x="{W - R + 52}" y="{ly + 4}">{METHODS[method]}, {backing}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def write_all(res, directory):
    summarize(res)
    os.makedirs(directory, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    paths = []
    text = json.dumps(res, indent=1)
    for name in (f"{stamp}.json", "latest.json"):
        paths.append(os.path.join(directory, name))
        with open(paths[-1], "w") as f:
            f.write(text + "\n")
    paths.append(os.path.join(directory, "latest.md"))
    with open(paths[-1], "w") as f:
        f.write(markdown(res))
    paths.append(os.path.join(directory, "latest.svg"))
    with open(paths[-1], "w") as f:
        f.write(svg(res))
    return paths


def write_cpr_only(res, directory):
    """A `--only cpr` run: cpr-only-<timestamp>.json and .md; latest.* stay as they are (merge it with --merge)."""
    summarize(res)
    os.makedirs(directory, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    paths = [os.path.join(directory, f"cpr-only-{stamp}.json"), os.path.join(directory, f"cpr-only-{stamp}.md")]
    with open(paths[0], "w") as f:
        f.write(json.dumps(res, indent=1) + "\n")
    with open(paths[1], "w") as f:
        f.write(markdown(res) + "\n")
    return paths


def merge(base, override, base_name, override_name):
    """The single-VM migration samples ((a), (a2), (b)) of `override` replace those of `base` for the configs
    it has; everything else (restarts, batch, daemon figures) stays from `base`. Provenance goes into meta.
    An override with bench/cpr.py results (e.g. a `--only cpr` run, which has no configs) replaces `cpr`."""
    out = json.loads(json.dumps(base))
    parts = []
    if override.get("cpr"):
        out["cpr"] = override["cpr"]
        parts.append(f"QEMU 10.0 x-ignore-shared vs cpr-transfer from `{override_name}` (started {override['meta']['started']}, "
                     f"{override['cpr'].get('durationS', 0):.0f} s)")
    if not override.get("configs"):
        out["meta"]["mergedFrom"] = "; ".join(parts + [f"everything else from `{base_name}` (started {base['meta']['started']})"])
        return out
    for oc in override["configs"]:
        bc = next((c for c in out["configs"] if c["ramMiB"] == oc["ramMiB"] and c["backing"] == oc["backing"]), None)
        if bc is None:
            out["configs"].append(oc)
            continue
        for k in ("daemon", "dbus", "raw", "loadavg", "daemonArgv", "rawArgvReplacements"):
            bc[k] = oc[k]
    for k in ("warmed", "restS", "reps"):
        out["meta"][k] = override["meta"].get(k)
    out["meta"]["mergedFrom"] = "; ".join(parts + [
        f"migrations (a), (a2), (b) from `{override_name}` (started {override['meta']['started']}, "
        f"{override['meta']['durationS']:.0f} s); restarts (c), batch and daemon figures from "
        f"`{base_name}` (started {base['meta']['started']}, {base['meta']['durationS']:.0f} s)"])
    out["meta"]["durationS"] = base["meta"]["durationS"] + override["meta"]["durationS"]
    out["meta"]["loadavgEnd"] = override["meta"].get("loadavgEnd")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out", help="write latest.md and latest.svg here (default: print the Markdown)")
    ap.add_argument("--merge", metavar="OVERRIDE.json", help="take the single-VM migrations from this run (see merge())"
                    "; with --out, writes <timestamp>.json, latest.json, latest.md, latest.svg there")
    o = ap.parse_args()
    with open(o.results) as f:
        res = json.load(f)
    if o.merge:
        with open(o.merge) as f:
            res = merge(res, json.load(f), os.path.basename(o.results), os.path.basename(o.merge))
        if o.out:
            for p in write_all(res, o.out):
                print(f"wrote {p}")
            return 0
    res = summarize(res)
    if o.out:
        os.makedirs(o.out, exist_ok=True)
        with open(os.path.join(o.out, "latest.md"), "w") as f:
            f.write(markdown(res))
        with open(os.path.join(o.out, "latest.svg"), "w") as f:
            f.write(svg(res))
    else:
        print(markdown(res))


if __name__ == "__main__":
    sys.exit(main())
