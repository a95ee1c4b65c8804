#!/usr/bin/env bash
# The demo of the README: a private D-Bus with the project's policy, localmigrated, the test guest booted under
# it on the installed QEMU 7.2, then `localmigrate upgrade --all --target-binary` onto QEMU 10.0 (Debian's
# bookworm-backports build, unpacked beside the installed one by tests/guest/fetch-qemu.sh): the guest keeps
# counting under a new QEMU pid and a new QEMU major version. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh >/dev/null
echo "== building (Release)"
dotnet build LocalMigrate.sln -c Release -v quiet -nologo | grep -E "error|Warn|Elapsed" || true
bin=$PWD/src/UpgradeDaemon/bin/Release/net10.0/localmigrated
cli=$PWD/src/Cli/bin/Release/net10.0/localmigrate
guest=$(bash tests/guest/build-guest.sh --print-dir)
qemu10=$(bash tests/guest/fetch-qemu.sh '1:10.0.2+ds-2+deb13u1~bpo12+1' bookworm-backports 2>/dev/null | tail -n 1)
kernel=$guest/vmlinux; [ -f "$kernel" ] || kernel=$guest/vmlinuz

demo=$(mktemp -d /tmp/lm-demo.XXXXXX)
shm=/dev/shm/lm-demo.${demo##*.}
daemon_pid="" bus_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && "$cli" stop demo --force >/dev/null 2>&1 || true
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
    pkill -f "$demo/run/" 2>/dev/null || true
    rm -rf "$demo" "$shm"
}
trap cleanup EXIT

cat > "$demo/bus.conf" <<CONF
<busconfig>
  <type>session</type>
  <listen>unix:path=$demo/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
  <include>$PWD/systemd/org.localmigrate1.conf</include>
</busconfig>
CONF
dbus-daemon --config-file="$demo/bus.conf" --nofork --print-address=1 > "$demo/bus.address" &
bus_pid=$!
for _ in $(seq 100); do [ -s "$demo/bus.address" ] && break; sleep 0.05; done
export LOCALMIGRATE_BUS=$(head -n1 "$demo/bus.address")

cat > "$demo/localmigrated.json" <<CONF
{ "defaultAccel": "${LOCALMIGRATE_TEST_ACCEL:-tcg}", "sharedMemoryDirectory": "$shm" }
CONF
echo "== starting localmigrated on a private bus"
"$bin" --bus "$LOCALMIGRATE_BUS" --config "$demo/localmigrated.json" --state-dir "$demo/state" --runtime-dir "$demo/run" > "$demo/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do "$cli" list >/dev/null 2>&1 && break; sleep 0.05; done

cat > "$demo/demo.json" <<CONF
{ "name": "demo", "memoryMiB": 256, "machine": "q35", "memoryBacking": "shared",
  "kernel": "$kernel", "initrd": "$guest/initrd.img", "cmdline": "console=ttyS0 quiet lm.pattern_mib=32" }
CONF
echo "== localmigrate define + start"
"$cli" define "$demo/demo.json"
"$cli" start demo
for _ in $(seq 200); do grep -q LMTICK "$demo/state/console/demo.log" 2>/dev/null && break; sleep 0.05; done
sleep 1
"$cli" list
qemu_of() { "$cli" status demo --json | python3 -c 'import json,sys; print("QEMU {qemuVersion}, binary {qemuBinary}, machine {machine}, pid {pid}".format(**json.load(sys.stdin)))'; }
echo "== before: $(qemu_of)"
echo "== the guest, before:"
"$cli" console demo --no-follow --lines 2
echo "== localmigrate upgrade --all --target-binary $qemu10"
"$cli" upgrade --all --target-binary "$qemu10"
"$cli" list
sleep 1
echo "== after: $(qemu_of)"
echo "   (listed as stale: it runs a binary other than its configured one, /usr/bin/qemu-system-x86_64; when a package"
echo "   upgrade puts 10.0 at that path, \`localmigrate upgrade --stale\` moves it and nothing stays stale)"
echo "== the guest, after (same boot id, counter never reset):"
"$cli" console demo --no-follow --lines 2
