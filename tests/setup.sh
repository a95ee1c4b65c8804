#!/usr/bin/env bash
# Everything the tests and the demo need on a fresh Debian 12 machine, as root. Idempotent and quick when
# already done: it installs only missing packages and the guest/QEMU caches are keyed on their inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-utils busybox-static cpio dbus-daemon dbus-bin gcc libc6-dev python3 iproute2 socat util-linux
          openssh-server openssh-client openssl iputils-ping  # the multi-host tests: sshd in a namespace, test keys and CAs, ping
          ansible-core)  # the fleet tests: ansible-playbook and ansible-doc against the collection in ansible/
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
    echo "setup: the .NET 10 SDK is needed (dotnet on PATH); it is not a Debian package" >&2
    exit 1
fi

echo "setup: test guest in $(bash tests/guest/build-guest.sh --print-dir)"
echo "setup: older QEMU for the upgrade test at $(bash tests/guest/fetch-qemu.sh '1:7.2+dfsg-7+deb12u15' | tail -n 1)"
echo "setup: QEMU 10.0 (bookworm-backports) for the 7.2 -> 10.0 tests at $(bash tests/guest/fetch-qemu.sh '1:10.0.2+ds-2+deb13u1~bpo12+1' bookworm-backports | tail -n 1)"
