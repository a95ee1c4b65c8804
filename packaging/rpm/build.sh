#!/usr/bin/env bash
# Builds localmigrate-<version>-1.x86_64.rpm with rpmbuild -bb (Debian's `rpm` package) in a private _topdir, from
# the self-contained publish tree that packaging/deb/build.sh left in DIR/publish (the same bits as the .deb);
# without one, or with --fresh, it runs packaging/publish.sh itself.
#
#   packaging/rpm/build.sh [--out DIR] [--fresh]      default DIR: /tmp/localmigrate-packages
#
# The last stdout line is the .rpm path.
set -euo pipefail

out=/tmp/localmigrate-packages
fresh=0
while (($#)); do
    case $1 in
        --out) out=$2; shift 2 ;;
        --fresh) fresh=1; shift ;;
        *) echo "usage: $0 [--out DIR] [--fresh]" >&2; exit 2 ;;
    esac
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v rpmbuild >/dev/null || { echo "rpm: rpmbuild is needed (apt-get install rpm)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The version lives in one place: the first line of the Debian changelog, "localmigrate (0.1.0) ...".
version=$(sed -n '1s/^localmigrate (\([^)]*\)).*/\1/p' "$repo/packaging/deb/debian/changelog")
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "rpm: cannot read the version from debian/changelog" >&2; exit 1; }
rpm_version=${version//-/.}

publish=$out/publish
if ((fresh)) || [[ ! -x $publish/localmigrated || ! -x $publish/localmigrate ]]; then
    bash "$repo/packaging/publish.sh" "$publish" "$version" >&2
else
    echo "rpm: reusing the publish tree $publish" >&2
fi

topdir=$(mktemp -d "$out/rpmbuild.XXXXXX")
trap 'rm -rf "$topdir"' EXIT
# --nodeps: BuildRequires name Fedora packages; Debian's rpm database is empty.
rpmbuild -bb --nodeps --target x86_64 \
    --define "_topdir $topdir" \
    --define "lm_version $rpm_version" \
    --define "lm_publishdir $publish" \
    --define "lm_srcroot $repo" \
    "$repo/packaging/rpm/localmigrate.spec" >&2
rpm=$(find "$topdir/RPMS" -name "localmigrate-$rpm_version-*.x86_64.rpm" | head -n1)
[[ -n $rpm ]] || { echo "rpm: rpmbuild produced no package" >&2; exit 1; }
mv -f "$rpm" "$out/"
echo "$out/$(basename "$rpm")"
