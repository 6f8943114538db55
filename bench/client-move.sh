#!/usr/bin/env bash
# Before and after BareLb moved onto the official KubernetesClient package, side by side in one run:
#   - start-up time (process start to "caches synced") and resident memory of barelb-controller and barelb-speaker,
#     each started ROUNDS times against one in-memory API server with a few hundred objects;
#   - the 10,000-Service benchmark's assigned/created ratio (bench/BareLb.Benchmarks services 10000).
# "Before" is the commit given (default: the last one with the hand-written client), built in a temporary worktree.
#
#   sudo bash bench/client-move.sh [BEFORE_COMMIT] [ROUNDS] [SERVICES]
#
# Everything runs inside one network namespace of its own (loopback only), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
before=${1:-291300d}
rounds=${2:-5}
services=${3:-10000}

work=$(mktemp -d /tmp/barelb-client-move.XXXXXX)
netns="blt-bench-$$-$RANDOM"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$netns" 2>/dev/null || true
  git -C "$root" worktree remove --force "$work/before" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$netns"
ip -n "$netns" link set lo up

echo "building after (working tree) and before ($before)..."
dotnet build "$root/BareLb.sln" -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
git -C "$root" worktree add --detach "$work/before" "$before" >/dev/null 2>&1
dotnet build "$work/before/BareLb.sln" -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null

bin() { echo "$1/src/$2/bin/Release/net10.0/$3"; }

# One API server (the current one) for both, with 300 Services, 50 Nodes and a pool, so that the informers have
# something to list.
ip netns exec "$netns" "$(bin "$root" ApiServer barelb-apiserver)" --bind 127.0.0.1 --port 6443 \
  --crds "$root/crds" --kubeconfig "$work/kubeconfig" >"$work/apiserver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$work/apiserver.log" && break; sleep 0.1; done
k() { ip netns exec "$netns" kubectl --kubeconfig "$work/kubeconfig" "$@"; }
k apply -f "$root/examples/00-namespaces.yaml" -f "$root/examples/10-pools.yaml" -f "$root/examples/20-l2advertisements.yaml" >/dev/null
{
  for i in $(seq 1 50); do printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-%s\n---\n' "$i"; done
  for i in $(seq 1 300); do
    printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s-%s\n  namespace: demo\nspec:\n  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n  ports:\n  - port: 80\n---\n' "$i"
  done
} | k apply -f - >/dev/null

# start-up: time from exec to the "caches synced" line, and VmRSS 3 s later.
measure() { # label program args...
  local label=$1; shift
  local total_ms=0 total_rss=0
  for _ in $(seq "$rounds"); do
    local log="$work/run.log"
    local start; start=$(date +%s%N)
    ip netns exec "$netns" "$@" >"$log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    local synced=""
    for _ in $(seq 600); do
      if grep -qi "caches synced" "$log"; then synced=$(date +%s%N); break; fi
      sleep 0.01
    done
    [ -n "$synced" ] || { echo "$label did not sync:"; tail -5 "$log"; exit 1; }
    sleep 3
    local rss; rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    total_ms=$((total_ms + (synced - start) / 1000000))
    total_rss=$((total_rss + rss))
  done
  printf '| %s | %d ms | %d MiB |\n' "$label" $((total_ms / rounds)) $((total_rss / rounds / 1024))
}

echo
echo "start-up (mean of $rounds) and resident memory, 300 Services, 50 Nodes:"
echo "| program | to caches synced | resident memory |"
echo "|---|---:|---:|"
common=(--kubeconfig "$work/kubeconfig" --namespace barelb-system)
measure "barelb-controller before" "$(bin "$work/before" Controller barelb-controller)" "${common[@]}" --leader-elect false
measure "barelb-controller after" "$(bin "$root" Controller barelb-controller)" "${common[@]}" --leader-elect false
measure "barelb-speaker before" "$(bin "$work/before" Speaker barelb-speaker)" "${common[@]}" --node-name node-1
measure "barelb-speaker after" "$(bin "$root" Speaker barelb-speaker)" "${common[@]}" --node-name node-1

echo
echo "$services Services to addresses (controller without a request limit):"
for side in before after; do
  dir=$root; [ "$side" = before ] && dir="$work/before"
  printf '%s: ' "$side"
  ip netns exec "$netns" dotnet "$dir/bench/BareLb.Benchmarks/bin/Release/net10.0/BareLb.Benchmarks.dll" services "$services" | grep -E "accepted|every Service|ratio" | tr '\n' ' '
  echo
done
