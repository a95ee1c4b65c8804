#!/bin/bash
# Make one more suite of the machine's own Debian mirror known to apt (e.g. bookworm-backports), in a sources file
# of its own that this script manages, and fetch that suite's index. Used by fetch-qemu.sh (QEMU 10.0 from
# bookworm-backports) and by the packaging test (which installs that QEMU through apt).
#
#   tests/guest/apt-suite.sh SUITE [--refresh]
#
# - The mirror is the one apt already uses for the suite's base (bookworm for bookworm-backports), read from
#   `apt-get indextargets`: no address is hard-coded, a machine behind its own mirror keeps using it.
# - The file is /etc/apt/sources.list.d/localmigrate-SUITE.sources (deb822), rewritten only when its content
#   would change. Backports are NotAutomatic in Debian (pin 100): the suite never upgrades anything by itself.
# - `apt-get update` runs for that file alone (the other lists stay as they are), and only when its index is
#   missing or --refresh is given.
# The last stdout line is the sources file.
set -euo pipefail

(($# == 1 || $# == 2)) || { echo "usage: $0 SUITE [--refresh]" >&2; exit 2; }
suite=$1 refresh=0
[[ ${2:-} == --refresh ]] && refresh=1
[[ $# == 1 || $refresh == 1 ]] || { echo "usage: $0 SUITE [--refresh]" >&2; exit 2; }
[[ $suite =~ ^[a-z]+(-[a-z]+)?$ ]] || { echo "apt-suite: bad suite '$suite'" >&2; exit 2; }
base=${suite%%-*}

exec 3>&1 1>&2                  # fd 3: the result line; everything else to stderr
log() { echo "apt-suite: $*"; }

file=/etc/apt/sources.list.d/localmigrate-$suite.sources
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' 2>/dev/null |
    awk -v base="$base" '$2 == base && $3 == "deb" { print $1; exit }')
if [[ -z $mirror ]]; then
    # The file of an earlier run may be the only stanza left naming it; otherwise apt knows no such mirror.
    mirror=$(sed -n 's/^URIs: *//p' "$file" 2>/dev/null | head -n 1)
    [[ -n $mirror ]] || { log "apt knows no mirror for suite '$base' (apt-get indextargets)"; exit 1; }
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
content="# Managed by LocalMigrate's tests/guest/apt-suite.sh: the $suite suite of the mirror this machine uses
# for $base. Remove this file to forget the suite.
Types: deb
URIs: $mirror
Suites: $suite
Components: main
$([[ -f $keyring ]] && echo "Signed-By: $keyring")"

exec 9>/var/lib/apt/lists/.localmigrate-apt-suite.lock
flock 9
if [[ ! -f $file || $(<"$file") != "$content" ]]; then
    log "writing $file ($mirror $suite)"
    printf '%s\n' "$content" >"$file.tmp"
    mv -f "$file.tmp" "$file"
    refresh=1
fi
# The lists apt keeps for this suite: <mirror without scheme, / -> _>_dists_<suite>_InRelease.
list=/var/lib/apt/lists/$(sed -E 's|^[a-z]+://||; s|/*$||; s|/|_|g' <<<"$mirror")_dists_${suite}_InRelease
if ((refresh)) || [[ ! -f $list ]]; then
    log "apt-get update for $suite"
    apt-get -o DPkg::Lock::Timeout=300 -qq update -o Dir::Etc::SourceList="$file" -o Dir::Etc::SourceParts=- \
        -o APT::Get::List-Cleanup=0
fi
echo "$file" >&3
