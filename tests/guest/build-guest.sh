#!/bin/bash
# Build the LocalMigrate test guest (Debian kernel + busybox/ticker initramfs) and cache it.
#
#   tests/guest/build-guest.sh [--print-dir]
#
# Cache: ${LOCALMIGRATE_GUEST_CACHE:-/var/cache/localmigrate/guest}/<key>/ with vmlinuz, initrd.img,
# guest.env (and vmlinux, the same kernel uncompressed for a faster PVH boot), where <key> hashes this script, init and ticker.c (an edit rebuilds). The last stdout
# line is that directory; with --print-dir it is the only stdout line (progress goes to stderr).
# Needs root (apt-get). The kernel package is downloaded and unpacked, never installed.
set -euo pipefail

usage() { echo "usage: $0 [--print-dir]" >&2; exit 2; }
print_dir=0
case $# in
0) ;;
1) [[ $1 == --print-dir ]] || usage; print_dir=1 ;;
*) usage ;;
esac

exec 3>&1                       # fd 3: the result line
((print_dir)) && exec 1>&2      # --print-dir: everything else goes to stderr
log() { echo "build-guest: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
inputs=("$here/build-guest.sh" "$here/init" "$here/ticker.c")
cache_root=${LOCALMIGRATE_GUEST_CACHE:-/var/cache/localmigrate/guest}
key=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
dir=$cache_root/$key

done_() { echo "$dir" >&3; exit 0; }

if [[ -f $dir/guest.env ]]; then     # fast path: no lock, no apt
    touch "$dir" 2>/dev/null || true  # mark as in use (see pruning below)
    done_
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
[[ -f $dir/guest.env ]] && done_     # another invocation built it while we waited

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

ensure_pkgs gcc libc6-dev binutils cpio gzip xz-utils grep

rm -rf "$cache_root"/.build.*        # left by a killed run (we hold the lock)
# Builds of other script versions unused for 14 days (each is ~75 MB).
find "$cache_root" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{16}' \
    -mtime +14 -exec rm -rf {} + 2>/dev/null || true
tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out root=$tmp/root
mkdir -p "$out" "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root}

# ---- kernel ------------------------------------------------------------------------------------
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '{ sub(/^ *\|?Depends: /, ""); } /^linux-image-6\.1\.0-[0-9]+-amd64$/ { print; exit }'
}
kpkg=$(kernel_pkg)
if [[ -z $kpkg ]]; then apt_update_once; kpkg=$(kernel_pkg); fi
[[ -n $kpkg ]] || { log "no linux-image-6.1.0-*-amd64 behind linux-image-amd64"; exit 1; }
log "kernel package $kpkg"
(cd "$tmp" && apt_download "$kpkg")
kdeb=$(ls "$tmp/${kpkg}"_*.deb)
kver=$(dpkg-deb -f "$kdeb" Version)
# dpkg-deb -x of the whole package writes ~400 MB of modules; take only /boot/vmlinuz-*.
mkdir "$tmp/k"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp/k" --wildcards './boot/vmlinuz-*'
cp "$tmp"/k/boot/vmlinuz-* "$out/vmlinuz"
# virtio-net and what it needs (all modules in Debian's kernel), for guests given lm.ip= (see init). The
# package has no modules.dep (depmod runs at install): read each module's depends= from its .modinfo and
# write /lib/modules/order, dependencies first, for busybox insmod.
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp/k" --wildcards './lib/modules/*/kernel/drivers/virtio/*.ko' \
    './lib/modules/*/kernel/drivers/net/virtio_net.ko' './lib/modules/*/kernel/drivers/net/net_failover.ko' \
    './lib/modules/*/kernel/net/core/failover.ko' './lib/modules/*/kernel/drivers/block/virtio_blk.ko'
mkdir -p "$root/lib/modules"
declare -A loaded=()
module_order() { # name -> appends it, after its dependencies, to $root/lib/modules/order
    local name=$1 ko dep deps
    [[ -n ${loaded[$name]:-} ]] && return 0
    ko=$(find "$tmp/k/lib/modules" -name "$name.ko" | head -1)
    [[ -n $ko ]] || { log "module $name not in $kpkg"; exit 1; }
    deps=$(strings "$ko" | sed -n 's/^depends=//p' | head -1)
    for dep in ${deps//,/ }; do module_order "$dep"; done
    install -m 0644 "$ko" "$root/lib/modules/$name.ko"
    echo "$name" >>"$root/lib/modules/order"
    loaded[$name]=1
}
module_order virtio_pci
module_order virtio_net
module_order virtio_blk     # for lm.disk= (the disk writer, see ticker.c)
log "modules: $(tr '\n' ' ' <"$root/lib/modules/order")"
rm -rf "$tmp/k" "$kdeb"
# Also the uncompressed ELF vmlinux: QEMU boots it through its PVH entry note, which skips the
# bzImage's real-mode setup and XZ decompression (~2.4 s less per boot under TCG).
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$out/vmlinuz" | head -1 | cut -d: -f1)
pvh=
# (xz stops at the end of its stream; tail then gets SIGPIPE, hence the process substitution.)
if [[ -n $off ]] && xz -dc --single-stream <(tail -c +"$((off + 1))" "$out/vmlinuz") >"$out/vmlinux" &&
    readelf -n "$out/vmlinux" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
    pvh=$dir/vmlinux            # XEN_ELFNOTE_PHYS32_ENTRY present
else
    log "no PVH vmlinux (kernel not XZ-compressed or no PVH note); GUEST_KERNEL_PVH left empty"
    rm -f "$out/vmlinux"
fi

# ---- busybox (the installed busybox-static, else the package unpacked) --------------------------
if [[ $(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null || true) == installed ]]; then
    bb=/bin/busybox
    bbver=$(dpkg-query -W -f='${Version}' busybox-static)
else
    # Installing busybox-static would remove a dynamic busybox other packages may want; unpack it.
    (cd "$tmp" && apt_download busybox-static)
    mkdir "$tmp/bb"
    dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/bb"
    bbver=$(dpkg-deb -f "$tmp"/busybox-static_*.deb Version)
    bb=$tmp/bb/bin/busybox
fi
log "busybox-static $bbver"
install -m 0755 "$bb" "$root/bin/busybox"
# Applet symlinks at their usual paths (bin/sh, sbin/ifconfig, usr/bin/...), never over busybox.
while read -r applet; do
    [[ -e $root/$applet || -L $root/$applet ]] && continue
    ln -s /bin/busybox "$root/$applet"
done < <("$root/bin/busybox" --list-full)

# ---- ticker + init -----------------------------------------------------------------------------
log "gcc -static -O2 ticker.c"
gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/ticker" "$here/ticker.c"
strip "$root/bin/ticker"
install -m 0755 "$here/init" "$root/init"

# ---- initramfs: gzip'd newc cpio, reproducible -------------------------------------------------
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$out/initrd.img"

cat >"$out/guest.env" <<EOF
# LocalMigrate test guest, built by tests/guest/build-guest.sh (key $key)
GUEST_KERNEL='$dir/vmlinuz'
GUEST_INITRD='$dir/initrd.img'
GUEST_KERNEL_PVH='$pvh'
GUEST_CMDLINE_DEFAULT='console=ttyS0 quiet panic=-1 lm.pattern_mib=32'
GUEST_KERNEL_PACKAGE='$kpkg=$kver'
GUEST_BUSYBOX_VERSION='$bbver'
EOF
chmod 0644 "$out"/*

# Publish all three files at once: rename the finished directory into place.
rm -rf "$dir"
mv -T "$out" "$dir"
log "built $dir"
done_
