#!/usr/bin/env bash
# The test command of the README: set-up, build, every test (unit and against real QEMU), the packaging
# test (builds and installs the packages, then a real QEMU package upgrade fires the trigger), then one
# summary line over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh

results=$(mktemp -d /tmp/lm-results.XXXXXX)
# Category=Bench: measurements that print figures (e.g. evacuating 8 guests), run by hand with --filter Category=Bench;
# speed is bench/'s business, never a pass/fail of the suite.
trap 'rm -rf "$results"' EXIT
status=0
dotnet test LocalMigrate.sln -c Release --filter "Category!=Bench" --logger "trx" --logger "console;verbosity=detailed" \
    --results-directory "$results" || status=$?

read -r passed failed skipped < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find(".//{*}Counters")
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(passed, failed, skipped)
PY
)
# CI keeps only the end of this script's output: the failures' details are printed again last (see below).
python3 - "$results" > "$results/failures.txt" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
for f in glob.glob(sys.argv[1] + "/*.trx"):
    for r in ET.parse(f).getroot().findall(".//{*}UnitTestResult"):
        if r.get("outcome") not in ("Failed", "Error", "Timeout"):
            continue
        print(f"FAILED {r.get('testName')} ({r.get('duration')})")
        text = lambda tag: "".join(e.text or "" for e in r.findall(".//{*}" + tag))
        # The message's start and the output's end (what happened last) say the most.
        for tag, keep, last in (("Message", 30, False), ("StackTrace", 12, False), ("StdOut", 60, True)):
            lines = text(tag).splitlines()
            if lines:
                shown = lines[-keep:] if last else lines[:keep]
                print(f"  --- {tag} ({len(lines)} lines, {'last' if last else 'first'} {len(shown)}):")
                for line in shown:
                    print("  " + line[:400])
PY
echo "xunit: $passed passed, $failed failed, $skipped skipped"

if [ -f tests/packaging/run.sh ] && [ "${LOCALMIGRATE_SKIP_PACKAGING:-}" != 1 ]; then
    bash tests/packaging/run.sh 2>&1 | tee "$results/packaging.log" || status=1
    if counts=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$results/packaging.log" | tail -n 1); then
        p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$counts")
        f=$(sed -E 's/^([A-Za-z]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$counts")
        passed=$((passed + p)); failed=$((failed + f))
    else
        failed=$((failed + 1)); status=1
    fi
fi

cat "$results/failures.txt"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
