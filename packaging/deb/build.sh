#!/usr/bin/env bash
# Builds localmigrate_<version>_amd64.deb. dpkg-buildpackage needs debian/ at the top of the source tree, so this
# stages the repository (tracked and untracked-but-not-ignored files) with packaging/deb/debian as debian/, then
# runs `dpkg-buildpackage -b -us -uc` there.
#
#   packaging/deb/build.sh [--out DIR]        default DIR: /tmp/localmigrate-packages
#
# Needs: dpkg-dev, debhelper (Build-Depends), the .NET 10 SDK on PATH, NuGet (network or a warm cache).
# Result in DIR: the .deb, .buildinfo, .changes, and publish/, the self-contained publish tree that
# packaging/rpm/build.sh reuses. The last stdout line is the .deb path.
set -euo pipefail

out=/tmp/localmigrate-packages
while (($#)); do
    case $1 in
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
    esac
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(dpkg-parsechangelog -l "$repo/packaging/deb/debian/changelog" -S Version)
stage=$out/build/localmigrate-$version
rm -rf "$out/build"
mkdir -p "$stage"

if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$stage"
else
    tar -C "$repo" --exclude=bin --exclude=obj --exclude=artifacts --exclude=.git -cf - . | tar -xf - -C "$stage"
fi
rm -rf "$stage/debian"
cp -a "$repo/packaging/deb/debian" "$stage/debian"

cd "$stage"
dpkg-checkbuilddeps
echo "deb: building localmigrate $version in $stage" >&2
# stdout of the build goes to stderr: stdout is reserved for the result line.
LOCALMIGRATE_PUBLISH_DIR=$out/publish dpkg-buildpackage -b -us -uc >&2

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
for f in "localmigrate_${version}_${arch}.deb" "localmigrate_${version}_${arch}.buildinfo" "localmigrate_${version}_${arch}.changes"; do
    mv -f "$out/build/$f" "$out/$f"
done
# The .changes names the files beside it; they now sit beside it in $out.
rm -rf "$out/build"
echo "$out/localmigrate_${version}_${arch}.deb"
