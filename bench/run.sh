#!/usr/bin/env bash
# The LocalMigrate benchmark in one command (see bench/README.md):
#
#     bash bench/run.sh [--quick] [extra options of bench/bench.py, e.g. --reps 7 --ram 256,1024]
#
# Sets up the machine (tests/setup.sh: QEMU, dbus-daemon, the test guest), publishes localmigrated and localmigrate
# as the packages ship them (packaging/publish.sh) under $LOCALMIGRATE_BENCH_ARTIFACTS (default /tmp/art-bench), then measures local migrations under
# TCG: localmigrate through its CLI, the same migration with raw QMP and no daemon, and a restart; a batch upgrade;
# the daemon's own figures. Writes bench/results/<timestamp>.json, latest.json, latest.md, latest.svg and prints
# the Markdown. Every QEMU, daemon, dbus-daemon and /dev/shm file it starts is removed on exit, also on Ctrl-C.
#
#     bash bench/run.sh --remote [--quick] [extra options of bench/remote.py, e.g. --reps 5 --modes tcp,tls-x509]
#
# The remote benchmark instead: two network namespaces joined by a veth, a daemon and an sshd in each, a test CA;
# remote migrations per stream mode beside raw QEMU and the raw veth throughput. Writes bench/results/remote-*.
#
#     bash bench/run.sh --memory [--vms 16] [--migrations 1000]
#
# The daemon's resident memory with N VMs and over many local migrations. Writes bench/results/memory-latest.*.
#
#     bash bench/run.sh --net [--quick] [extra options of bench/net.py, e.g. --reps 20]
#
# The network benchmark: the test guest on a bridge (in a namespace) through a daemon-made tap, migrated locally N
# times under ping -i 0.01 and a TCP echo stream: ICMP replies lost and the longest TCP stall per migration beside
# QEMU's downtime and the guest-observed pause. Writes bench/results/net-*.
set -euo pipefail
cd "$(dirname "$0")/.."
script=bench/bench.py
if [ "${1:-}" = "--remote" ]; then
    shift
    script=bench/remote.py
elif [ "${1:-}" = "--memory" ]; then
    shift
    script=bench/memory.py
elif [ "${1:-}" = "--net" ]; then
    shift
    script=bench/net.py
fi

echo "== setup (tests/setup.sh)" >&2
bash tests/setup.sh >&2
art=${LOCALMIGRATE_BENCH_ARTIFACTS:-/tmp/art-bench}
[ "$script" = bench/remote.py ] && art=${LOCALMIGRATE_BENCH_ARTIFACTS:-/tmp/art-bench-remote}
[ "$script" = bench/net.py ] && art=${LOCALMIGRATE_BENCH_ARTIFACTS:-/tmp/art-bench-net}
# What is measured is what ships: the packages' self-contained ReadyToRun build (packaging/publish.sh). A plain
# `dotnet build` would JIT every method of the CLI at each start and charge that CPU to the migration it drives.
echo "== publishing localmigrated and localmigrate (self-contained, ReadyToRun) in $art/publish" >&2
bash packaging/publish.sh "$art/publish" >&2
daemon=$art/publish/localmigrated
cli=$art/publish/localmigrate
[ -x "$daemon" ] && [ -x "$cli" ] || { echo "bench: publish output not found at $daemon / $cli" >&2; exit 1; }
guest=$(bash tests/guest/build-guest.sh --print-dir)

work=$(mktemp -d /tmp/lm-bench.XXXXXX)
bench_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
    # Ends every process whose command line names $work (all of them started by this run), removes $work and
    # /dev/shm/<basename of $work>.
    python3 "$script" --sweep "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
# In the background + wait, so that a signal reaches the trap at once instead of after the run.
python3 "$script" --workdir "$work" --daemon "$daemon" --cli "$cli" --guest-dir "$guest" "$@" &
bench_pid=$!
wait "$bench_pid"
bench_pid=""
echo "== benchmark took $(( $(date +%s) - start )) s" >&2
