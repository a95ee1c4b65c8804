#!/usr/bin/env bash
# Self-contained ReadyToRun publish of localmigrated and localmigrate into ONE directory: the tree that both packages
# ship as /usr/lib/localmigrate/ (debian/rules and rpm/build.sh call this; the rpm can reuse the deb's output).
#
#   packaging/publish.sh OUTDIR [VERSION]
#
# Uses the .NET SDK on PATH (not a Debian package) and restores from NuGet (network, or a warm ~/.nuget cache).
# Both apps are published with one --artifacts-path, so the project they share (LocalMigrate.Interop) is built once
# and the files the two publishes have in common are byte-identical; that is checked before they are merged (the
# runtime and Interop.dll are loaded by either apphost through its own .deps.json).
set -euo pipefail

(($# >= 1 && $# <= 2)) || { echo "usage: $0 OUTDIR [VERSION]" >&2; exit 2; }
out=$1
version=${2:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_GENERATE_ASPNET_CERTIFICATE=0
command -v dotnet >/dev/null || { echo "publish: the .NET 10 SDK (dotnet on PATH) is needed; it is not a Debian package" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lm-publish.XXXXXX")
trap 'rm -rf "$work"' EXIT

props=(-c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true
       # Invariant globalization is on (Directory.Build.props): only English resources are ever used.
       -p:SatelliteResourceLanguages=en
       --artifacts-path "$work/artifacts" -nodeReuse:false --disable-build-servers -v quiet -nologo)
[[ -n $version ]] && props+=(-p:Version="${version%%[-~+]*}" -p:InformationalVersion="$version")

for project in UpgradeDaemon Cli; do
    echo "publish: $project" >&2
    dotnet publish "$repo/src/$project/$project.csproj" "${props[@]}" -o "$work/$project" >&2
done

# Merge: the daemon's tree, then the CLI's files; a shared file must be the same bytes.
rm -rf "$out"
mkdir -p "$out"
cp -a "$work/UpgradeDaemon/." "$out/"
(cd "$work/Cli" && find . -type f -o -type l) | while read -r f; do
    if [[ -e $out/$f ]]; then
        cmp -s "$work/Cli/$f" "$out/$f" || { echo "publish: $f differs between the daemon's and the CLI's publish" >&2; exit 1; }
    else
        mkdir -p "$out/$(dirname "$f")"
        cp -a "$work/Cli/$f" "$out/$f"
    fi
done

# libcoreclrtraceptprovider.so is the LTTng tracepoint provider: it links liblttng-ust.so.0, which Debian 12 and
# current Fedora do not have (they ship liblttng-ust.so.1). CoreCLR loads it only if present and carries on
# without it, so it is dropped instead of giving the package an unsatisfiable dependency.
rm -f "$out/libcoreclrtraceptprovider.so"

# The runtime pack ships its IL assemblies mode 0755; only the two apphosts and createdump are programs.
find "$out" -type f -exec chmod 0644 {} +
chmod 0755 "$out/localmigrated" "$out/localmigrate" "$out/createdump"

for f in localmigrated localmigrate localmigrated.dll localmigrate.dll LocalMigrate.Interop.dll libcoreclr.so; do
    [[ -e $out/$f ]] || { echo "publish: $f missing from $out" >&2; exit 1; }
done
echo "publish: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1) in $out" >&2
