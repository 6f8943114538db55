#!/usr/bin/env bash
# The Membership figures of docs/benchmarks.md, from one command. As root (the second part creates network
# namespaces). About six minutes on two cores.
#
#   bash bench/Membership/run.sh                       # 30 kills, 60 s of 10% loss
#   TRIALS=5 LOSS_SECONDS=20 bash bench/Membership/run.sh
#   SKIP_MICRO=1 bash bench/Membership/run.sh          # without the BenchmarkDotNet part
set -euo pipefail
cd "$(dirname "$0")/../.."

dotnet build tests/Membership.Tests -c Release --nologo -v quiet -clp:ErrorsOnly

# Prints what the tests wrote (distributions, rates), and fails if a test failed.
run_tests() {
  local log
  log=$(mktemp)
  local status=0
  dotnet test tests/Membership.Tests -c Release --no-build --nologo --filter "$1" \
    --logger "console;verbosity=detailed" >"$log" 2>&1 || status=$?
  awk '/Standard Output Messages:/{f=1;next} /^ *$/{f=0} f' "$log" | sed 's/^ */  /'
  grep -E '^\s+Failed ' "$log" || true
  rm -f "$log"
  return "$status"
}

echo "== Simulation: the protocol alone, fake clock, 50-500 us latency, seeded random loss"
run_tests "FullyQualifiedName~SimulationTests"

echo
echo "== Real UDP between network namespaces: 3 nodes on a bridge, the test host in each"
BARELB_MEMBERSHIP_TRIALS="${TRIALS:-30}" BARELB_MEMBERSHIP_LOSS_SECONDS="${LOSS_SECONDS:-60}" \
  run_tests "FullyQualifiedName~MembershipNetnsTests"

if [ -z "${SKIP_MICRO:-}" ]; then
  echo
  echo "== CPU and allocations per datagram (BenchmarkDotNet)"
  dotnet run -c Release --project bench/Membership -- --filter '*' >/dev/null
  cat BenchmarkDotNet.Artifacts/results/BareLb.Membership.Benchmarks.PacketPathBenchmarks-report-github.md
fi
