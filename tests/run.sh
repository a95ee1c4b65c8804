#!/usr/bin/env bash
# The test command of the README: set-up, build, every test (unit and against real QEMU), then one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh

results=$(mktemp -d /tmp/lm-results.XXXXXX)
status=0
dotnet test LocalMigrate.sln -c Release --logger "trx" --logger "console;verbosity=normal" \
    --results-directory "$results" || status=$?

# One plain closing line over every test assembly: "N passed, N failed, N skipped".
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find(".//{*}Counters")
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$results"
exit $status
