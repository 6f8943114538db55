#!/usr/bin/env bash
# Runs every BareLb test. On a fresh machine, as root:  bash scripts/test.sh
# It installs what the tests need, builds the solution, runs all test projects and ends with one line
# "N passed, N failed, N skipped". Exit status is non-zero if anything failed or no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/prerequisites.sh
. scripts/prerequisites.sh
ensure_prerequisites

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build BareLb.sln -c Release --nologo -v quiet -clp:ErrorsOnly

status=0
# One test project at a time: the network tests (namespaces, real daemons, failover timings) must not compete with
# each other for the two cores; they come last, the end-to-end suite (the lab) at the very end.
network=(Layer2 Membership Bgp EndToEnd)
projects=()
for dir in tests/*.Tests; do
  name=$(basename "$dir" .Tests)
  [[ " ${network[*]} " == *" $name "* ]] || projects+=("$dir")
done
for name in "${network[@]}"; do projects+=("tests/$name.Tests"); done
for project in "${projects[@]}"; do
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$(basename "$project").trx" --logger "console;verbosity=normal" \
    --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true || status=$?
done

# One closing line over all assemblies, summed from the TRX counters.
passed=0; failed=0; skipped=0; total=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(get total)))
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # xunit's skipped tests are counted in total but neither executed nor notExecuted.
  skipped=$((skipped + $(get total) - $(get executed) + $(get notExecuted)))
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$total" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
# CI runs as root with network namespaces: a skipped test there means a capability went missing, which is a failure.
if [ "$skipped" -ne 0 ] && [ -n "${CI:-}" ]; then
  echo "CI: $skipped test(s) skipped; every test must run in CI (see the skip reasons above)" >&2
  status=1
fi
if [ "$failed" -ne 0 ] && [ "$status" -eq 0 ]; then
  status=1
fi
exit "$status"
