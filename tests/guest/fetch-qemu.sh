#!/bin/bash
# Unpack a given Debian build of qemu-system-x86 beside the installed one (never installed).
#
#   tests/guest/fetch-qemu.sh VERSION        e.g. 1:7.2+dfsg-7+deb12u15 (bookworm-security)
#
# Result: ${LOCALMIGRATE_QEMU_CACHE:-/var/cache/localmigrate/qemu}/<VERSION, ':' -> '_'>/ holding
# usr/bin/qemu-system-x86_64 and usr/lib/x86_64-linux-gnu/qemu/*.so (the modules of the SAME build,
# from qemu-system-common=<its exact version>), plus fetch.env. The last stdout line is the binary.
#
# QEMU 7.2 resolves its data and module dirs relative to its own executable (<exe dir>/../share/qemu,
# ../share/seabios, ../lib/ipxe/qemu, ../lib/x86_64-linux-gnu/qemu), not to the absolute /usr paths:
# - modules: -accel tcg needs accel-tcg-x86_64.so and QEMU refuses one from another build ("could
#   not load module for type 'tcg-accel-ops'"), so qemu-system-common=<same build> is unpacked into
#   the same tree;
# - firmware ("could not load PC BIOS 'bios-256k.bin'"): the tree gets symlinks to the installed
#   /usr/share/qemu, /usr/share/seabios and /usr/lib/ipxe/qemu (x86 ROMs are identical between
#   deb12u15 and deb12u18 qemu-system-data), just as for an old QEMU process that keeps running
#   after its package was upgraded. No -L option is needed.
set -euo pipefail

(($# == 1)) || { echo "usage: $0 VERSION" >&2; exit 2; }
version=$1
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9.+:~-]*$ ]] || { echo "fetch-qemu: bad version '$version'" >&2; exit 2; }

exec 3>&1 1>&2                  # fd 3: the result line; everything else to stderr
log() { echo "fetch-qemu: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${LOCALMIGRATE_QEMU_CACHE:-/var/cache/localmigrate/qemu}
key=$(sha256sum <"$here/fetch-qemu.sh" | cut -c1-16)
dir=$cache_root/${version//[^A-Za-z0-9.+~-]/_}
bin=$dir/usr/bin/qemu-system-x86_64

cached() { [[ -x $bin && -f $dir/fetch.env ]] && grep -qx "FETCH_KEY=$key" "$dir/fetch.env"; }
done_() { echo "$bin" >&3; exit 0; }

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

# Runtime libraries and firmware come from the system: make sure they are installed.
mapfile -t deps < <({ deb_depends "$xdeb"; deb_depends "$cdeb"; } | sort -u)
ensure_pkgs qemu-system-data "${deps[@]}"

mkdir tree
dpkg-deb -x "$xdeb" tree
dpkg-deb -x "$cdeb" tree
rm -rf tree/usr/share/doc tree/usr/share/doc-base tree/usr/share/man tree/usr/share/lintian tree/etc
# Firmware: qemu-system-common already puts a few files into usr/share/qemu (trace-events-all,
# vhost-user/); keep those, link every other entry of the installed dir one by one.
mkdir -p tree/usr/share/qemu tree/usr/lib/ipxe
for f in /usr/share/qemu/*; do
    [[ -e tree$f || -L tree$f ]] || ln -s "$f" "tree$f"
done
ln -s /usr/share/seabios tree/usr/share/seabios
ln -s /usr/lib/ipxe/qemu tree/usr/lib/ipxe/qemu
for f in share/seabios/bios-256k.bin share/qemu/linuxboot_dma.bin share/qemu/pvh.bin share/qemu/kvmvapic.bin \
    lib/ipxe/qemu/efi-e1000e.rom lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so; do
    [[ -e tree/usr/$f ]] || { log "missing tree/usr/$f"; exit 1; }
done
tbin=$tmp/tree/usr/bin/qemu-system-x86_64

if ldd "$tbin" tree/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so | grep 'not found'; then
    log "unresolved libraries (above)"
    exit 1
fi
# Smoke test: the module of this build loads and a q35 machine with TCG comes up.
smoke=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-version"}' '{"execute":"quit"}' |
    timeout 30 "$tbin" -accel tcg -machine q35 -nodefaults -no-user-config -display none -S \
        -chardev stdio,id=qmp -mon chardev=qmp,mode=control 2>&1) ||
    { log "smoke test failed: $smoke"; exit 1; }
grep -q '"package"' <<<"$smoke" || { log "smoke test failed: $smoke"; exit 1; }

cat >tree/fetch.env <<EOF
# Unpacked by tests/guest/fetch-qemu.sh; not installed. Modules in usr/lib/x86_64-linux-gnu/qemu.
QEMU_PACKAGE_VERSION='$version'
QEMU_COMMON_VERSION='$common_version'
QEMU_BINARY='$bin'
FETCH_KEY=$key
EOF

# Publish atomically: the tree appears complete or not at all. Replacing a tree from an older
# script version moves it aside first (running QEMUs keep their open binary).
if [[ -e $dir ]]; then mv -T "$dir" "$tmp/old"; fi
mv -T "$tmp/tree" "$dir"
log "unpacked $dir"
done_
