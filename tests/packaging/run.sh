#!/usr/bin/env bash
# End-to-end packaging test (CI: after the dotnet tests). As root on Debian 12; installs what it needs with apt-get.
#
#   tests/packaging/run.sh [--no-qemu-swap] [--prebuilt DIR]
#
# 1. builds the .deb (packaging/deb/build.sh) and the .rpm (packaging/rpm/build.sh, same publish tree) and checks
#    them: files, conffiles, the dpkg trigger, the rpm file trigger, lintian (errors fail), rpmlint (errors other
#    than no-signature fail);
# 2. installs the .deb here, without systemd as PID 1;
# 3. the real thing: QEMU 1:7.2+dfsg-7+deb12u15 (bookworm-security) becomes the installed version; the INSTALLED
#    daemon runs on the system bus (a dbus-daemon --system is started if none runs: this also proves the
#    installed D-Bus policy) with private state/runtime dirs and TCG; two test VMs (shared and private RAM) boot;
#    then apt-get installs the current bookworm QEMU, which fires the dpkg trigger, whose hook runs
#    `localmigrate upgrade --stale`. Asserted: the transaction exits 0; both VMs run under new pids on
#    /usr/bin/qemu-system-x86_64 (not " (deleted)"), running, not stale; both guests kept counting with the same
#    boot id; the hook logged what it did;
#    then the upgrade users actually face: apt-get installs QEMU 10.0 from bookworm-backports (the suite of this
#    machine's mirror, added by tests/guest/apt-suite.sh) with the firmware it needs (seabios 1.16.3); the trigger
#    moves both VMs from 7.2 to 10.0, their machine type still the pc-q35-7.2 pinned at define time. The same
#    checks, plus QEMU 10.0 in `list` and the machine type;
# 4. cleans up (also on failure): VMs, daemon, the bus it started, every package the 10.0 transaction changed back
#    to its version before (apt's own plan of that transaction, recorded before it ran), QEMU back to the current
#    bookworm version, the backports sources file removed if this test added it, `apt-get purge localmigrate`.
# --no-qemu-swap: step 3 without touching the QEMU packages (for machines where other tests use QEMU): the VMs run
#    a private copy of the deb12u15 build (tests/guest/fetch-qemu.sh), the copy is replaced the way dpkg replaces
#    a file, and the trigger is fired with dpkg-trigger. The 10.0 step needs the real packages: it is skipped.
# --prebuilt DIR: use the .deb and .rpm in DIR instead of building them.
# The last line is "N passed, N failed"; the exit status is non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

OLD=1:7.2+dfsg-7+deb12u15
NEW=${LM_PKGTEST_QEMU_NEW:-1:7.2+dfsg-7+deb12u18+b3}
MAJOR=${LM_PKGTEST_QEMU_MAJOR:-1:10.0.2+ds-2+deb13u1~bpo12+1}
MAJOR_SUITE=bookworm-backports
swap=1 prebuilt=""
while (($#)); do
    case $1 in
        --no-qemu-swap) swap=0; shift ;;
        --prebuilt) prebuilt=$2; shift 2 ;;
        *) echo "usage: $0 [--no-qemu-swap] [--prebuilt DIR]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || { echo "pkgtest: must run as root" >&2; exit 2; }

work=$(mktemp -d /tmp/lm-pkgtest.XXXXXX)
shm=/dev/shm/lm-pkgtest.${work##*.}
passed=0 failed=0
daemon_pid="" bus_pid="" bus_socket_ours=0 qemu_touched=0 installed_by_us=0 cleaned=0
vm_pids=()
major_restore=() major_remove=() suite_file=""
names=(lmpkg-shared lmpkg-private)
unset LOCALMIGRATE_BUS DBUS_SYSTEM_BUS_ADDRESS
export DEBIAN_FRONTEND=noninteractive

say() { echo "pkgtest: $*"; }
ok() { passed=$((passed + 1)); echo "ok     $*"; }
bad() { failed=$((failed + 1)); echo "FAILED $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
known() { local s; s=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null); [[ -n $s && $s != not-installed ]]; }
lm() { timeout -k 5 120 /usr/bin/localmigrate "$@"; }
json_field() { python3 -c 'import json,sys; d={x["name"]:x for x in json.load(sys.stdin)}; print(d.get(sys.argv[1],{}).get(sys.argv[2],""))' "$1" "$2"; }
# Same as /usr/bin/qemu-system-x86_64 minus the epoch-less arch:all binNMU suffix: qemu-system-data has no +bN.
data_version() { echo "${1%+b[0-9]*}"; }

qemu_specs() {   # the QEMU packages that are swapped: those installed of x86, common, data, gui
    local v=$1 p
    for p in qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui; do
        [[ $p != qemu-system-x86 ]] && ! installed "$p" && continue
        if [[ $p == qemu-system-data ]]; then echo "$p=$(data_version "$v")"; else echo "$p=$v"; fi
    done
}

# The packages that put QEMU $MAJOR in place: qemu_specs, plus each firmware package whose installed version does
# not satisfy the build's Depends (seabios >> 1.16.3), at the newest version of the suite that does.
major_specs() {
    local pkg dep op want have v
    qemu_specs "$MAJOR"
    for pkg in seabios ipxe-qemu; do
        dep=$(apt-cache show "qemu-system-x86=$MAJOR" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' |
            sed -nE "s/^ *$pkg \(([<>=]+) ([^)]+)\).*/\1 \2/p")
        [[ -n $dep ]] || continue
        read -r op want <<<"$dep"
        have=$(version_of "$pkg")
        [[ -n $have ]] && dpkg --compare-versions "$have" "$op" "$want" && continue
        v=$(apt-cache madison "$pkg" | awk -F'|' -v s="$MAJOR_SUITE" '$3 ~ " "s"/" { gsub(/ /, "", $2); print $2; exit }')
        [[ -n $v ]] && echo "$pkg=$v"
    done
}

# Console of a VM: "<boot-id> <last counter> <lines> <boot-ids> <LMREADY count> <corrupt count>"
console_summary() {
    python3 - "$1" <<'PY'
import re, sys
ids, last, n, ready, corrupt = [], 0, 0, 0, 0
for raw in open(sys.argv[1], errors="replace"):
    line = raw.strip("\r\n")
    m = re.fullmatch(r"LMTICK (\d+) (\S+) ([0-9a-f]{8})", line)
    if m:
        n += 1; last = int(m.group(1))
        if m.group(3) not in ids: ids.append(m.group(3))
    ready += line.startswith("LMREADY ")
    corrupt += line.startswith("LMPATTERN CORRUPT")
print(ids[-1] if ids else "-", last, n, len(ids), ready, corrupt)
PY
}

cleanup() {
    ((cleaned)) && return
    cleaned=1
    set +e
    say "cleanup"
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        for n in "${names[@]}"; do lm stop "$n" --force >/dev/null 2>&1; done
        kill "$daemon_pid"
        for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$daemon_pid" 2>/dev/null
    fi
    # QEMU processes outlive the daemon: any of ours still alive (by pid, from the instance records) is killed.
    for f in "$work"/run/*/instance.json; do
        [[ -f $f ]] && vm_pids+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pid",""))' "$f" 2>/dev/null)")
    done
    for p in "${vm_pids[@]}"; do
        [[ $p =~ ^[0-9]+$ ]] && [[ $(readlink "/proc/$p/exe" 2>/dev/null) == *qemu-system-x86_64* ]] && kill -9 "$p" 2>/dev/null
    done
    if [[ -n $bus_pid ]]; then
        kill "$bus_pid" 2>/dev/null; wait "$bus_pid" 2>/dev/null
    fi
    ((bus_socket_ours)) && rm -f /run/dbus/system_bus_socket
    if ((${#major_restore[@]} + ${#major_remove[@]})); then
        say "restoring what the $MAJOR transaction changed: ${major_restore[*]} ${major_remove[*]/%/ (remove)}"
        if ((${#major_restore[@]})); then
            apt_get install --allow-downgrades --no-install-recommends "${major_restore[@]}" >"$work/apt-restore-major.log" 2>&1 \
                || { say "restoring failed:"; tail -n 20 "$work/apt-restore-major.log"; }
        fi
        if ((${#major_remove[@]})); then
            apt_get purge "${major_remove[@]}" >>"$work/apt-restore-major.log" 2>&1 \
                || { say "removing failed:"; tail -n 20 "$work/apt-restore-major.log"; }
        fi
    fi
    if ((qemu_touched)) && [[ $(version_of qemu-system-x86) != "$NEW" ]]; then
        say "restoring QEMU $NEW"
        mapfile -t specs < <(qemu_specs "$NEW")
        apt_get install --allow-downgrades --no-install-recommends "${specs[@]}" >"$work/apt-restore.log" 2>&1 \
            || { say "restoring QEMU failed:"; tail -n 20 "$work/apt-restore.log"; }
    fi
    if [[ -n $suite_file ]]; then
        rm -f "$suite_file" /var/lib/apt/lists/*_dists_"${MAJOR_SUITE}"_*
        apt-get -o DPkg::Lock::Timeout=600 -qq check >/dev/null 2>&1   # rebuilds apt's cache without the suite
    fi
    if ((installed_by_us)) && dpkg-query -W localmigrate >/dev/null 2>&1; then
        apt_get purge localmigrate >"$work/apt-purge.log" 2>&1 || { say "purge failed:"; tail -n 20 "$work/apt-purge.log"; }
    fi
    rm -rf "$shm" "$work"
}
finish() {
    cleanup
    # The machine is as before: checked after cleanup, counted like every other check.
    if ((qemu_touched)); then
        check "restore: qemu-system-x86 is $NEW again" test "$(version_of qemu-system-x86)" = "$NEW"
    fi
    if ((${#major_restore[@]} + ${#major_remove[@]})); then
        local spec wrong=()
        for spec in "${major_restore[@]}"; do [[ $(version_of "${spec%%=*}") == "${spec#*=}" ]] || wrong+=("$spec"); done
        for spec in "${major_remove[@]}"; do ! installed "$spec" || wrong+=("$spec installed"); done
        check "restore: every package the $MAJOR transaction changed is back (${major_restore[*]})${wrong:+ (wrong: ${wrong[*]})}" \
            test ${#wrong[@]} -eq 0
    fi
    if [[ -n $suite_file ]]; then
        check "restore: $suite_file (added by this test) is gone" test ! -e "$suite_file"
    fi
    if ((installed_by_us)); then
        check "restore: localmigrate purged (no package, no /usr/lib/localmigrate, no /etc/localmigrate)" \
            bash -c '! known localmigrate && [[ ! -e /usr/lib/localmigrate && ! -e /etc/localmigrate ]]'
    fi
    echo "$passed passed, $failed failed"
    ((failed == 0))
    exit $?
}
export -f known
trap 'say "interrupted"; bad "interrupted"; finish' INT TERM
trap 'cleanup' EXIT

# ---- set-up ----------------------------------------------------------------------------------------------------
need=(dpkg-dev debhelper lintian rpm rpmlint dbus dbus-daemon dbus-bin python3 util-linux coreutils)
missing=()
for p in "${need[@]}"; do installed "$p" || missing+=("$p"); done
installed qemu-system-x86 || missing+=("qemu-system-x86=$NEW")
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt_get update >/dev/null
    apt_get install --no-install-recommends "${missing[@]}" >"$work/apt-setup.log" 2>&1 || { tail -n 30 "$work/apt-setup.log"; bad "set-up: apt-get install ${missing[*]}"; finish; }
fi
for v in "$OLD" "$NEW"; do
    apt-cache show "qemu-system-x86=$v" >/dev/null 2>&1 || { apt_get update >/dev/null; break; }
done
check "set-up: QEMU $OLD and $NEW are both available" bash -c "apt-cache show qemu-system-x86=$OLD >/dev/null 2>&1 && apt-cache show qemu-system-x86=$NEW >/dev/null 2>&1"
if ((swap)); then
    [[ -e /etc/apt/sources.list.d/localmigrate-$MAJOR_SUITE.sources ]] || suite_file=/etc/apt/sources.list.d/localmigrate-$MAJOR_SUITE.sources
    bash tests/guest/apt-suite.sh "$MAJOR_SUITE" >/dev/null 2>"$work/apt-suite.log" || cat "$work/apt-suite.log"
    apt-cache show "qemu-system-x86=$MAJOR" >/dev/null 2>&1 || bash tests/guest/apt-suite.sh "$MAJOR_SUITE" --refresh >/dev/null
    check "set-up: QEMU $MAJOR is available from $MAJOR_SUITE" bash -c "apt-cache show 'qemu-system-x86=$MAJOR' >/dev/null 2>&1"
fi
if known localmigrate; then
    say "localmigrate is installed already: purging it first"
    apt_get purge localmigrate >/dev/null 2>&1
fi
guest=$(bash tests/guest/build-guest.sh --print-dir | tail -n 1)
kernel=$guest/vmlinux
[[ -f $kernel ]] || kernel=$guest/vmlinuz
check "set-up: test guest in $guest" test -f "$kernel" -a -f "$guest/initrd.img"

# ---- 1. build and inspect ----------------------------------------------------------------------------------------
out=$work/packages
if [[ -n $prebuilt ]]; then
    deb=$(ls "$prebuilt"/localmigrate_*_amd64.deb 2>/dev/null | tail -n 1)
    rpm=$(ls "$prebuilt"/localmigrate-*.x86_64.rpm 2>/dev/null | tail -n 1)
    changes=${deb%.deb}.changes
    say "prebuilt packages: $deb $rpm"
else
    start=$SECONDS
    deb=$(bash packaging/deb/build.sh --out "$out" 2>"$work/deb-build.log" | tail -n 1)
    deb_s=$((SECONDS - start))
    [[ -f $deb ]] || { tail -n 40 "$work/deb-build.log"; }
    check "build: .deb in ${deb_s}s: $(basename "$deb")" test -f "$deb"
    changes=${deb%.deb}.changes
    start=$SECONDS
    rpm=$(bash packaging/rpm/build.sh --out "$out" 2>"$work/rpm-build.log" | tail -n 1)
    rpm_s=$((SECONDS - start))
    [[ -f $rpm ]] || { tail -n 40 "$work/rpm-build.log"; }
    check "build: .rpm in ${rpm_s}s (reusing the deb's publish tree): $(basename "$rpm")" test -f "$rpm"
fi
[[ -f $deb ]] || finish

contents=$(dpkg-deb -c "$deb")
missing_files=()
for f in ./usr/lib/localmigrate/localmigrated ./usr/lib/localmigrate/localmigrate ./usr/lib/localmigrate/qemu-upgrade-hook \
         ./usr/lib/localmigrate/libcoreclr.so ./usr/lib/localmigrate/localmigrated.dll ./usr/lib/localmigrate/localmigrate.dll \
         ./lib/systemd/system/localmigrated.service ./usr/share/dbus-1/system.d/org.localmigrate1.conf \
         ./usr/lib/tmpfiles.d/localmigrate.conf ./etc/localmigrate/localmigrated.json \
         ./usr/share/man/man8/localmigrate.8.gz ./usr/share/man/man8/localmigrated.8.gz; do
    grep -q " $f\$" <<<"$contents" || missing_files+=("$f")
done
check "deb: every file present${missing_files:+ (missing: ${missing_files[*]})}" test ${#missing_files[@]} -eq 0
check "deb: /usr/bin/localmigrate and /usr/sbin/localmigrated link into /usr/lib/localmigrate" \
    bash -c 'grep -q " ./usr/bin/localmigrate -> ../lib/localmigrate/localmigrate$" <<<"$1" && grep -q " ./usr/sbin/localmigrated -> ../lib/localmigrate/localmigrated$" <<<"$1"' _ "$contents"
unit_exec=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/localmigrated.service | sed -n 's/^ExecStart=//p')
check "deb: the unit's ExecStart ($unit_exec) is a file of the package" grep -q " .${unit_exec}\$" <<<"$contents"
check "deb: the apphosts are executable, the IL assemblies are not" \
    bash -c 'grep -q "^-rwxr-xr-x .* ./usr/lib/localmigrate/localmigrated$" <<<"$1" && ! grep -q "^-rwx.*\.dll$" <<<"$1"' _ "$contents"
triggers=$(dpkg-deb -I "$deb" triggers 2>/dev/null)
check "deb: dpkg trigger interest-noawait /usr/bin/qemu-system-x86_64" grep -qx "interest-noawait /usr/bin/qemu-system-x86_64" <<<"$triggers"
check "deb: postinst runs the hook on 'triggered'" bash -c 'dpkg-deb -I "$1" postinst | grep -A8 "triggered)" | grep -q "^ *\(/usr/lib/localmigrate/qemu-upgrade-hook\)"' _ "$deb"
check "deb: /etc/localmigrate/localmigrated.json is a conffile" bash -c 'dpkg-deb -I "$1" conffiles | grep -qx /etc/localmigrate/localmigrated.json' _ "$deb"
deps=$(dpkg-deb -f "$deb" Depends)
check "deb: Depends has libsystemd0, libssl3 and dbus ($deps)" bash -c '[[ $1 == *libsystemd0* && $1 == *libssl3* && $1 == *dbus* ]]' _ "$deps"
if [[ -f $changes ]]; then lint_target=$changes; else lint_target=$deb; fi
lintian --pedantic --info "$lint_target" >"$work/lintian.txt" 2>&1
lintian_rc=$?
grep -E "^[EWIPX]:" "$work/lintian.txt" | sed 's/^/    lintian: /'
# (--show-overrides would make lintian exit 2 for an overridden error: the overrides are listed from the package.)
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/lintian/overrides/localmigrate 2>/dev/null | grep -v '^#' | sed 's/^/    lintian override: /'
check "deb: lintian: no errors (exit $lintian_rc)" bash -c '[[ $1 == 0 ]] && ! grep -q "^E:" "$2"' _ "$lintian_rc" "$work/lintian.txt"

if [[ -f $rpm ]]; then
    scripts=$(rpm -qp --scripts --filetriggers "$rpm" 2>/dev/null)
    check "rpm: %transfiletriggerin on /usr/bin/qemu-system-x86_64 and /usr/libexec/qemu-kvm" \
        bash -c 'grep "^transfiletriggerin scriptlet" <<<"$1" | grep -q "/usr/bin/qemu-system-x86_64" && grep "^transfiletriggerin scriptlet" <<<"$1" | grep -q "/usr/libexec/qemu-kvm"' _ "$scripts"
    check "rpm: the file trigger runs the hook, never failing" bash -c 'grep -A3 "^transfiletriggerin scriptlet" <<<"$1" | grep -q "/usr/lib/localmigrate/qemu-upgrade-hook .*|| :"' _ "$scripts"
    files=$(rpm -qpl "$rpm" 2>/dev/null)
    missing_files=()
    for f in /usr/lib/localmigrate/localmigrated /usr/lib/localmigrate/localmigrate /usr/lib/localmigrate/qemu-upgrade-hook \
             /usr/bin/localmigrate /usr/sbin/localmigrated /usr/lib/systemd/system/localmigrated.service \
             /usr/share/dbus-1/system.d/org.localmigrate1.conf /usr/lib/tmpfiles.d/localmigrate.conf \
             /etc/localmigrate/localmigrated.json /usr/share/man/man8/localmigrate.8.gz /usr/share/man/man8/localmigrated.8.gz; do
        grep -qx "$f" <<<"$files" || missing_files+=("$f")
    done
    check "rpm: every file present${missing_files:+ (missing: ${missing_files[*]})}" test ${#missing_files[@]} -eq 0
    check "rpm: /etc/localmigrate/localmigrated.json is %config" bash -c 'rpm -qpc "$1" | grep -qx /etc/localmigrate/localmigrated.json' _ "$rpm"
    check "rpm: same version as the deb" test "$(rpm -qp --qf '%{VERSION}' "$rpm" 2>/dev/null)" = "$(dpkg-deb -f "$deb" Version)"
    check "rpm: requires libsystemd.so.0 and libssl.so.3, provides none of the private runtime libraries" \
        bash -c 'r=$(rpm -qpR "$1"); p=$(rpm -qp --provides "$1"); grep -q "^libsystemd.so.0()(64bit)" <<<"$r" && grep -q "^libssl.so.3()(64bit)" <<<"$r" && ! grep -q "\.so" <<<"$p"' _ "$rpm"
    if command -v rpmlint >/dev/null; then
        rpmlint -c packaging/rpm/rpmlint.toml "$rpm" >"$work/rpmlint.txt" 2>&1
        grep -E "^localmigrate|checked" "$work/rpmlint.txt" | sed 's/^/    rpmlint: /'
        # An unsigned local build: signing is the distributor's step (rpmsign).
        check "rpm: rpmlint: no errors but no-signature" bash -c '! grep ": E: " "$1" | grep -vq ": E: no-signature"' _ "$work/rpmlint.txt"
    fi
else
    bad "rpm: no package to inspect"
fi

# ---- 2. install without systemd -------------------------------------------------------------------------------------
[[ -d /run/systemd/system ]] && say "note: systemd runs as PID 1 here" || say "no systemd as PID 1 (/run/systemd/system absent)"
installed_by_us=1
apt_get install "$deb" >"$work/apt-install.log" 2>&1
install_rc=$?
sed 's/^/    apt: /' "$work/apt-install.log" | grep -v "Reading database" | tail -n 12
check "install: apt-get install $(basename "$deb") exits 0" test $install_rc -eq 0
check "install: localmigrate is installed" installed localmigrate
((install_rc == 0)) || finish
check "install: localmigrate --version is $(dpkg-deb -f "$deb" Version)" test "$(lm --version 2>&1)" = "$(dpkg-deb -f "$deb" Version)"
check "install: localmigrated --help (through /usr/sbin) exits 0" bash -c '/usr/sbin/localmigrated --help >/dev/null'
lm list >/dev/null 2>&1
check "install: without a daemon the CLI exits 3" test $? -eq 3

# ---- 3. the QEMU upgrade with two live VMs ------------------------------------------------------------------------
if ((swap)); then
    # Download both builds first, so that the window in which QEMU is swapped holds only dpkg's work.
    mapfile -t old_specs < <(qemu_specs "$OLD")
    mapfile -t new_specs < <(qemu_specs "$NEW")
    mapfile -t major_specs < <(major_specs)
    apt_get install --download-only --allow-downgrades --no-install-recommends "${old_specs[@]}" >"$work/apt-download.log" 2>&1 &&
        apt_get install --download-only --reinstall --allow-downgrades --no-install-recommends "${new_specs[@]}" >>"$work/apt-download.log" 2>&1 &&
        apt_get install --download-only --no-install-recommends "${major_specs[@]}" >>"$work/apt-download.log" 2>&1
    check "qemu: the three builds downloaded (${old_specs[*]}; ${new_specs[*]}; ${major_specs[*]})" test $? -eq 0

    # Other tests use QEMU on this machine: wait (at most 10 min) until no QEMU but ours has run for 20 s.
    say "waiting until no other QEMU runs for 20 s"
    quiet_since=$SECONDS deadline=$((SECONDS + 600))
    while ((SECONDS < deadline)); do
        others=()
        for p in $(pgrep -f qemu-system-x86_64); do
            [[ $(readlink "/proc/$p/exe" 2>/dev/null) == *qemu-system-x86_64* ]] && others+=("$p")
        done
        ((${#others[@]})) && quiet_since=$SECONDS
        ((SECONDS - quiet_since >= 20)) && break
        sleep 2
    done
    check "qemu: no other QEMU for 20 s (waited $((SECONDS - deadline + 600)) s)" test $((SECONDS - quiet_since)) -ge 20
    ((SECONDS - quiet_since >= 20)) || finish    # never swap QEMU under someone else's VMs
    swap_start=$SECONDS
    qemu_touched=1
    apt_get install --allow-downgrades --no-install-recommends "${old_specs[@]}" >"$work/apt-downgrade.log" 2>&1
    rc=$?
    check "qemu: downgrade to $OLD exits 0" test $rc -eq 0
    check "qemu: qemu-system-x86 $OLD installed" test "$(version_of qemu-system-x86)" = "$OLD"
    grep -E "localmigrate upgrade hook|Processing triggers for localmigrate" "$work/apt-downgrade.log" | sed 's/^/    downgrade: /'
    check "qemu: the trigger fired on the downgrade and found no daemon" grep -q "localmigrate upgrade hook: localmigrated is not running" "$work/apt-downgrade.log"
    [[ $(version_of qemu-system-x86) == "$OLD" ]] || finish
    qemu_binary=/usr/bin/qemu-system-x86_64
else
    old_tree=$(bash tests/guest/fetch-qemu.sh "$OLD" | tail -n 1)
    cp -a "$(dirname "$(dirname "$(dirname "$old_tree")")")" "$work/qemu"
    qemu_binary=$work/qemu/usr/bin/qemu-system-x86_64
    check "qemu: private copy of the $OLD build at $qemu_binary" test -x "$qemu_binary"
fi

# The system bus: the running one, else a dbus-daemon --system of Debian's dbus package (it reads the policy the
# .deb installed into /usr/share/dbus-1/system.d).
if dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1; then
    say "using the running system bus"
else
    [[ -S /run/dbus/system_bus_socket ]] && rm -f /run/dbus/system_bus_socket   # left by a bus that is gone
    mkdir -p /run/dbus
    dbus-daemon --system --nofork --nopidfile >"$work/system-bus.log" 2>&1 &
    bus_pid=$!
    bus_socket_ours=1
    for _ in $(seq 100); do
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
check "bus: the system bus answers" bash -c 'dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null'

cat >"$work/localmigrated.json" <<CONF
{ "defaultAccel": "tcg", "sharedMemoryDirectory": "$shm" }
CONF
/usr/lib/localmigrate/localmigrated --config "$work/localmigrated.json" --state-dir "$work/state" --runtime-dir "$work/run" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 300); do lm list >/dev/null 2>&1 && break; sleep 0.1; done
check "daemon: the installed localmigrated serves org.localmigrate1 on the system bus" bash -c 'timeout 60 localmigrate list >/dev/null'
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/localmigrate list >/dev/null 2>&1
check "policy: a non-root user may read (list exits 0)" test $? -eq 0
check "policy: a non-root user may not own org.localmigrate1" bash -c '! setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.RequestName string:org.localmigrate1 uint32:0 >/dev/null 2>&1'

for n in "${names[@]}"; do
    backing=${n#lmpkg-}
    qemu_field=""
    ((swap)) || qemu_field="\"qemu\": \"$qemu_binary\","
    cat >"$work/$n.json" <<CONF
{ "name": "$n", "memoryMiB": 256, "machine": "q35", "memoryBacking": "$backing", $qemu_field
  "kernel": "$kernel", "initrd": "$guest/initrd.img", "cmdline": "console=ttyS0 quiet lm.pattern_mib=16" }
CONF
    check "vm: define and start $n ($backing RAM)" bash -c 'timeout 120 localmigrate define "$1" >/dev/null && timeout 120 localmigrate start "$2" >/dev/null' _ "$work/$n.json" "$n"
done
policy_rc=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/localmigrate stop lmpkg-shared >/dev/null 2>&1; echo $?)
check "policy: a non-root user may not stop a VM (exit 4, access denied)" test "$policy_rc" -eq 4
for n in "${names[@]}"; do
    for _ in $(seq 600); do grep -q "^LMTICK" "$work/state/console/$n.log" 2>/dev/null && break; sleep 0.1; done
done
sleep 1
list=$(lm list --json)
declare -A old_pid old_boot old_count
pinned_machine=pc-q35-7.2   # "q35" in the definitions; every QEMU here is 7.2 when they are defined
for n in "${names[@]}"; do
    old_pid[$n]=$(json_field "$n" pid <<<"$list")
    vm_pids+=("${old_pid[$n]}")
    read -r old_boot[$n] old_count[$n] _ <<<"$(console_summary "$work/state/console/$n.log")"
    check "vm: $n runs QEMU $OLD (pid ${old_pid[$n]}, boot ${old_boot[$n]}, tick ${old_count[$n]})" \
        bash -c '[[ $1 == *"$2"* && $3 -gt 0 ]]' _ "$(json_field "$n" qemuVersion <<<"$list")" "$OLD" "${old_count[$n]}"
done
lm list | sed 's/^/    /'

# The upgrade. The hook's log is compared before/after.
hook_log=/var/log/localmigrate/upgrade-hook.log
hook_lines=$({ wc -l <"$hook_log"; } 2>/dev/null || echo 0)
start_ns=$(date +%s%N)
if ((swap)); then
    apt_get install --no-install-recommends "${new_specs[@]}" >"$work/apt-upgrade.log" 2>&1
    rc=$?
    say "QEMU was swapped for $((SECONDS - swap_start)) s"
else
    cp "$qemu_binary" "$qemu_binary.dpkg-new" && mv -f "$qemu_binary.dpkg-new" "$qemu_binary"   # as dpkg replaces a file
    { dpkg-trigger --no-await /usr/bin/qemu-system-x86_64 && dpkg --triggers-only localmigrate; } >"$work/apt-upgrade.log" 2>&1
    rc=$?
fi
trigger_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
say "the transaction took $trigger_ms ms; its trigger output:"
grep -E "localmigrate upgrade hook|Processing triggers for localmigrate|^(Unpacking|Setting up) qemu" "$work/apt-upgrade.log" | sed 's/^/    /'
check "upgrade: the package transaction exited 0" test $rc -eq 0
((swap)) && check "upgrade: qemu-system-x86 $NEW installed" test "$(version_of qemu-system-x86)" = "$NEW"
check "upgrade: the trigger ran the hook in the transaction" grep -q "localmigrate upgrade hook: running: localmigrate upgrade --stale" "$work/apt-upgrade.log"

# After a transaction: each VM moved (new pid) onto /usr/bin's QEMU of version $2, running, not stale, its guest
# still counting with the same boot id; the hook logged it. $1 labels the checks. Updates old_pid/old_count.
check_moved() {
    local label=$1 version=$2 n pid exe boot count ticks boots ready corrupt machine new_hook
    # Let the guests tick on the new QEMU (a console line every 10 ms): 50 ticks more than before, at most 60 s.
    for n in "${names[@]}"; do
        for _ in $(seq 600); do
            read -r _ count _ <<<"$(console_summary "$work/state/console/$n.log")"
            ((count > old_count[$n] + 50)) && break
            sleep 0.1
        done
    done
    list=$(lm list --json)
    lm list | sed 's/^/    /'
    for n in "${names[@]}"; do
        pid=$(json_field "$n" pid <<<"$list")
        vm_pids+=("$pid")
        check "$label: $n has a new pid (${old_pid[$n]} -> $pid)" bash -c '[[ $1 =~ ^[0-9]+$ && $1 -gt 0 && $1 != "$2" ]]' _ "$pid" "${old_pid[$n]}"
        check "$label: $n is running and not stale" bash -c '[[ $1 == running && $2 == False ]]' _ "$(json_field "$n" state <<<"$list")" "$(json_field "$n" stale <<<"$list")"
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
        check "$label: /proc/$pid/exe is $qemu_binary ($exe)" test "$exe" = "$qemu_binary"
        ((swap)) && check "$label: $n runs QEMU $version" bash -c '[[ $1 == *"$2"* ]]' _ "$(json_field "$n" qemuVersion <<<"$list")" "$version"
        machine=$(lm status "$n" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["machine"])')
        check "$label: $n keeps the machine type pinned at define time ($machine)" test "$machine" = "$pinned_machine"
        read -r boot count ticks boots ready corrupt <<<"$(console_summary "$work/state/console/$n.log")"
        check "$label: $n kept counting without a reboot (boot $boot, tick ${old_count[$n]} -> $count, $ticks ticks, $boots boot id(s), $ready LMREADY, $corrupt corrupt)" \
            bash -c '[[ $1 == "$2" && $3 -gt $(($4 + 50)) && $5 == 1 && $6 -le 1 && $7 == 0 ]]' _ "$boot" "${old_boot[$n]}" "$count" "${old_count[$n]}" "$boots" "$ready" "$corrupt"
        grep -q "^LMTICK" "$work/state/console/$n.log" || tail -n 5 "$work/state/console/$n.log"
        old_pid[$n]=$pid old_count[$n]=$count
    done
    new_hook=$(tail -n +"$((hook_lines + 1))" "$hook_log" 2>/dev/null)
    check "$label: hook log: $hook_log says what it did" bash -c 'grep -q "running: localmigrate upgrade --stale" <<<"$1" && grep -q "lmpkg-shared.completed" <<<"$1" && grep -q "lmpkg-private.completed" <<<"$1" && grep -q "done: every stale VM" <<<"$1"' _ "$new_hook"
    grep "lmpkg-.*completed" <<<"$new_hook" | sed 's/^/    hook: /'
    hook_lines=$({ wc -l <"$hook_log"; } 2>/dev/null || echo 0)
}
check_moved after "$NEW"

# ---- 3b. the major upgrade: QEMU 10.0 from bookworm-backports, through the same trigger -------------------------
if ((swap)); then
    # apt's own plan, recorded before it runs, says what to put back: "Inst PKG [OLD] (NEW ...)", no [OLD] when new.
    plan=$(apt-get install -s --no-install-recommends "${major_specs[@]}" 2>&1)
    mapfile -t major_restore < <(sed -nE 's/^Inst ([^ ]+) \[([^]]+)\].*/\1=\2/p' <<<"$plan")
    mapfile -t major_remove < <(sed -nE 's/^Inst ([^ ]+) \(.*/\1/p' <<<"$plan")
    say "the $MAJOR transaction will change: ${major_restore[*]} ${major_remove[*]/%/ (new)}"
    start_ns=$(date +%s%N)
    apt_get install --no-install-recommends "${major_specs[@]}" >"$work/apt-major.log" 2>&1
    rc=$?
    trigger_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
    say "the transaction to QEMU $MAJOR took $trigger_ms ms; its trigger output:"
    grep -E "localmigrate upgrade hook|Processing triggers for localmigrate|^(Unpacking|Setting up) (qemu|seabios)" "$work/apt-major.log" | sed 's/^/    /'
    check "major: the package transaction to $MAJOR exited 0" test $rc -eq 0
    check "major: qemu-system-x86 $MAJOR installed" test "$(version_of qemu-system-x86)" = "$MAJOR"
    check "major: the trigger ran the hook in the transaction" grep -q "localmigrate upgrade hook: running: localmigrate upgrade --stale" "$work/apt-major.log"
    check_moved major "$MAJOR"
fi
lm jobs | sed 's/^/    /'
# The rpm's file trigger cannot fire on Debian, but its body can run here, against the live daemon: with nothing
# stale any more it must find nothing to do and exit 0.
if [[ -f $rpm ]]; then
    body=$(rpm -qp --filetriggers "$rpm" 2>/dev/null | sed -n '/^transfiletriggerin scriptlet/,$p' | tail -n +2)
    rpm_out=$(printf '/usr/bin/qemu-system-x86_64\n/usr/libexec/qemu-kvm\n' | sh -c "$body" 2>&1)
    rc=$?
    sed 's/^/    rpm trigger: /' <<<"$rpm_out"
    check "rpm: the %transfiletriggerin body, run here, reaches the daemon, finds nothing stale and exits 0" \
        bash -c '[[ $1 == 0 ]] && grep -q "nothing to upgrade" <<<"$2"' _ "$rc" "$rpm_out"
fi

finish
