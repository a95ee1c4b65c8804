#!/bin/bash
# Unpack a given Debian build of qemu-system-x86 beside the installed one (never installed).
#
#   tests/guest/fetch-qemu.sh VERSION [SUITE]
#       e.g. 1:7.2+dfsg-7+deb12u15 (bookworm-security, already in the machine's sources)
#            1:10.0.2+ds-2+deb13u1~bpo12+1 bookworm-backports (the suite is added first: apt-suite.sh)
#
# Result: ${LOCALMIGRATE_QEMU_CACHE:-/var/cache/localmigrate/qemu}/<VERSION, ':' -> '_'>.<key>/ holding
# usr/bin/qemu-system-x86_64 and usr/lib/x86_64-linux-gnu/qemu/*.so (the modules of the SAME build,
# from qemu-system-common=<its exact version>), plus fetch.env. The last stdout line is the binary.
# <key> is a hash of this script: a tree built by another version of it lives in another directory, so two
# checkouts of the project (branches, worktrees) never replace each other's tree under a running test.
# Trees of other keys unused for 14 days (by the mtime of their fetch.env, touched on every use) are pruned.
#
# QEMU resolves its data and module dirs relative to its own executable (<exe dir>/../share/qemu,
# ../share/seabios, ../lib/ipxe/qemu, ../lib/x86_64-linux-gnu/qemu), not to the absolute /usr paths:
# - modules: 7.2's -accel tcg needs accel-tcg-x86_64.so and QEMU refuses one from another build ("could
#   not load module for type 'tcg-accel-ops'"), so qemu-system-common=<same build> is unpacked into
#   the same tree (10.0 has TCG built in; its other modules come from the same package);
# - firmware ("could not load PC BIOS 'bios-256k.bin'"): for each firmware package the build depends on
#   (qemu-system-data -> share/qemu, seabios -> share/seabios, ipxe-qemu -> lib/ipxe/qemu), when the
#   installed version satisfies the dependency the tree links to the installed files (x86 ROMs are identical
#   between deb12u15 and deb12u18 qemu-system-data), just as for an old QEMU process that keeps running after
#   its package was upgraded; when it does not (10.0 needs qemu-system-data 10.0 and seabios >> 1.16.3), a
#   version of that package that does, from the same suites, is unpacked into the tree. No -L option is needed.
# - libraries come from the system: the build's Depends are installed (apt-get install) if missing.
set -euo pipefail

(($# == 1 || $# == 2)) || { echo "usage: $0 VERSION [SUITE]" >&2; exit 2; }
version=$1 suite=${2:-}
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9.+:~-]*$ ]] || { echo "fetch-qemu: bad version '$version'" >&2; exit 2; }
[[ -z $suite || $suite =~ ^[a-z]+(-[a-z]+)?$ ]] || { echo "fetch-qemu: bad suite '$suite'" >&2; exit 2; }

exec 3>&1 1>&2                  # fd 3: the result line; everything else to stderr
log() { echo "fetch-qemu: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${LOCALMIGRATE_QEMU_CACHE:-/var/cache/localmigrate/qemu}
key=$(cat "$here/fetch-qemu.sh" "$here/apt-suite.sh" | sha256sum | cut -c1-16)
dir=$cache_root/${version//[^A-Za-z0-9.+~-]/_}.$key
bin=$dir/usr/bin/qemu-system-x86_64

cached() { [[ -x $bin && -f $dir/fetch.env ]] && grep -qx "FETCH_KEY=$key" "$dir/fetch.env"; }
done_() { touch -c "$dir/fetch.env" 2>/dev/null || true; echo "$bin" >&3; exit 0; }   # mtime: last use

cached && done_                 # fast path: no lock, no apt

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
cached && done_

# ---- apt helpers: update only when something is missing or a download fails -------------------
apt_updated=0
apt_update_once() {
    ((apt_updated)) && return 0
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt_updated=1
}
ensure_pkgs() {
    local p missing=()
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
}
apt_download() { # into the current directory
    apt-get -qq -o APT::Sandbox::User=root download "$@" ||
        { apt_update_once && apt-get -qq -o APT::Sandbox::User=root download "$@"; }
}
# Package names of a .deb's Depends: first alternative, versions dropped, our own qemu-* left out.
deb_depends() {
    dpkg-deb -f "$1" Depends | tr ',' '\n' |
        sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' | grep -v -E '^$|^qemu-system-(common|data)$'
}

rm -rf "$cache_root"/.fetch.*        # left by a killed run (we hold the lock)
# Trees of other script versions: kept while used in the last 14 days (a test of another checkout may run them).
for old in "$cache_root"/*/; do
    old=${old%/}
    [[ $old == "$dir" || -n $(find "$old/fetch.env" -mtime -14 2>/dev/null) ]] || rm -rf "$old"
done
[[ -z $suite ]] || bash "$here/apt-suite.sh" "$suite" >/dev/null
tmp=$(mktemp -d "$cache_root/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

log "apt-get download qemu-system-x86=$version"
apt_download "qemu-system-x86=$version"
xdeb=$(ls qemu-system-x86_*.deb)
# The exact qemu-system-common of this build (a binNMU can give it a different version string).
common_version=$(dpkg-deb -f "$xdeb" Depends | tr ',' '\n' |
    sed -nE 's/^ *qemu-system-common \(= ([^)]+)\).*/\1/p')
[[ -n $common_version ]] || { log "no 'qemu-system-common (= ...)' in Depends of $xdeb"; exit 1; }
log "apt-get download qemu-system-common=$common_version"
apt_download "qemu-system-common=$common_version"
cdeb=$(ls qemu-system-common_*.deb)

# Runtime libraries come from the system: make sure they are installed.
firmware=(qemu-system-data seabios ipxe-qemu)
mapfile -t deps < <({ deb_depends "$xdeb"; deb_depends "$cdeb"; } | sort -u | grep -vxF -f <(printf '%s\n' "${firmware[@]}"))
ensure_pkgs "${deps[@]}"

mkdir tree
dpkg-deb -x "$xdeb" tree
dpkg-deb -x "$cdeb" tree

# Firmware: the installed package when its version satisfies the build's dependency, else one that does.
# The constraint of package $1 in the build's Depends, as "OP VERSION" (empty when unversioned or absent).
constraint() {
    dpkg-deb -f "$xdeb" Depends | tr ',' '\n' | sed -nE "s/^ *$1 \(([<>=]+) ([^)]+)\).*/\1 \2/p" | head -n 1
}
satisfies() { # VERSION "OP VERSION"
    [[ -n $1 ]] || return 1
    [[ -z $2 ]] || dpkg --compare-versions "$1" $2
}
# From the versions apt knows (newest first): the one of this build's source if there is one, else the newest that fits.
pick_version() { # PACKAGE "OP VERSION"
    local v same=${common_version%+b[0-9]*}
    mapfile -t known < <(apt-cache madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
    for v in "${known[@]}"; do [[ $v == "$same" ]] && satisfies "$v" "$2" && { echo "$v"; return; }; done
    for v in "${known[@]}"; do satisfies "$v" "$2" && { echo "$v"; return; }; done
    return 1
}
declare -A fw_dir=([qemu-system-data]=/usr/share/qemu [seabios]=/usr/share/seabios [ipxe-qemu]=/usr/lib/ipxe/qemu)
fw_from=()
declare -A fw_linked=()
for pkg in "${firmware[@]}"; do
    want=$(constraint "$pkg")
    have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$pkg" 2>/dev/null | sed -n 's/^installed //p' || true)
    if satisfies "$have" "$want"; then
        fw_from+=("$pkg=$have (installed, linked)") fw_linked[$pkg]=1
        continue
    fi
    [[ -n $have ]] || { ensure_pkgs "$pkg"; have=$(dpkg-query -W -f='${Version}' "$pkg"); }
    if satisfies "$have" "$want"; then
        fw_from+=("$pkg=$have (installed, linked)") fw_linked[$pkg]=1
        continue
    fi
    v=$(pick_version "$pkg" "$want") || { apt_update_once; v=$(pick_version "$pkg" "$want"); } ||
        { log "no version of $pkg satisfies '$want' (installed: ${have:-none})"; exit 1; }
    log "apt-get download $pkg=$v (installed ${have:-none} does not satisfy '$want')"
    mkdir fw.$pkg
    (cd fw.$pkg && apt_download "$pkg=$v")
    dpkg-deb -x fw.$pkg/*.deb tree
    fw_from+=("$pkg=$v (unpacked)")
done
rm -rf tree/usr/share/doc tree/usr/share/doc-base tree/usr/share/man tree/usr/share/lintian tree/usr/share/applications \
    tree/usr/share/icons tree/etc
# Linked firmware: a directory the tree lacks becomes a link; one it has (qemu-system-common puts
# trace-events-all and vhost-user/ into usr/share/qemu) gets a link per installed entry it lacks.
for pkg in "${firmware[@]}"; do
    [[ -n ${fw_linked[$pkg]:-} ]] || continue
    d=${fw_dir[$pkg]}
    mkdir -p "tree${d%/*}"
    if [[ ! -e tree$d ]]; then
        ln -s "$d" "tree$d"
    else
        for f in "$d"/*; do
            [[ -e tree$f || -L tree$f ]] || ln -s "$f" "tree$f"
        done
    fi
done
for f in share/seabios/bios-256k.bin share/qemu/linuxboot_dma.bin share/qemu/pvh.bin share/qemu/kvmvapic.bin \
    lib/ipxe/qemu/efi-e1000e.rom; do
    [[ -e tree/usr/$f ]] || { log "missing tree/usr/$f"; exit 1; }
done
tbin=$tmp/tree/usr/bin/qemu-system-x86_64

if ldd "$tbin" tree/usr/lib/x86_64-linux-gnu/qemu/*.so | grep 'not found'; then
    log "unresolved libraries (above)"
    exit 1
fi
# Smoke test: TCG (7.2: the module of this build) loads and a q35 machine with its BIOS comes up.
smoke=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-version"}' '{"execute":"quit"}' |
    timeout 30 "$tbin" -accel tcg -machine q35 -nodefaults -no-user-config -display none -S \
        -chardev stdio,id=qmp -mon chardev=qmp,mode=control 2>&1) ||
    { log "smoke test failed: $smoke"; exit 1; }
grep -q '"package"' <<<"$smoke" || { log "smoke test failed: $smoke"; exit 1; }

cat >tree/fetch.env <<EOF
# Unpacked by tests/guest/fetch-qemu.sh; not installed. Modules in usr/lib/x86_64-linux-gnu/qemu.
QEMU_PACKAGE_VERSION='$version'
QEMU_COMMON_VERSION='$common_version'
QEMU_SUITE='$suite'
QEMU_FIRMWARE='${fw_from[*]}'
QEMU_BINARY='$bin'
FETCH_KEY=$key
EOF

# Publish atomically: the tree appears complete or not at all. Replacing a tree from an older
# script version moves it aside first (running QEMUs keep their open binary).
if [[ -e $dir ]]; then mv -T "$dir" "$tmp/old"; fi
mv -T "$tmp/tree" "$dir"
log "unpacked $dir"
done_
