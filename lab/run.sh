#!/usr/bin/env bash
# The lab: runs barelb-apiserver, barelb-controller and barelb-speaker in a private network namespace, applies
# crds/ and examples/ with kubectl, and prints what they did. On a fresh machine, as root:  bash lab/run.sh
# Everything it starts is stopped, and the namespace removed, on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/prerequisites.sh
. scripts/prerequisites.sh
ensure_prerequisites
dotnet build BareLb.sln -c Release --nologo -v quiet -clp:ErrorsOnly

bin() { echo "$root/src/$1/bin/Release/net10.0/$2"; }
work=$(mktemp -d /tmp/barelb-lab.XXXXXX)
netns="barelb-lab-$$-$RANDOM"
pids=()

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Everything runs on the loopback of a namespace of our own, so nothing touches the machine's network.
if ip netns add "$netns" 2>/dev/null; then
  ip -n "$netns" link set lo up
  wrap=(ip netns exec "$netns")
  echo "== network namespace $netns"
else
  echo "== network namespaces unavailable here (ip netns add failed): using the host's loopback only"
  wrap=()
fi
in_ns() { "${wrap[@]}" "$@"; }
# Started without a shell function in between, so $! is the program itself (ip netns exec execs it) and the
# cleanup's kill reaches it.
spawn() {
  local log=$1; shift
  "${wrap[@]}" "$@" >"$log" 2>&1 &
  pids+=($!)
}

port=6443
kubeconfig="$work/kubeconfig"
k() { in_ns kubectl --kubeconfig "$kubeconfig" "$@"; }

echo "== starting barelb-apiserver"
spawn "$work/apiserver.log" "$(bin ApiServer barelb-apiserver)" --bind 127.0.0.1 --port "$port" --kubeconfig "$kubeconfig"
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/apiserver.log" 2>/dev/null && break
  sleep 0.1
done
grep "listening on" "$work/apiserver.log" || { cat "$work/apiserver.log"; exit 1; }

echo "== kubectl apply -f crds/"
k apply -f crds/
echo "== kubectl apply -f examples/"
k apply -f examples/

# A node for the speaker, marked Ready the way a kubelet would (through the status subresource).
node=lab-node-1
k apply -f - <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
YAML
k patch node "$node" --subresource=status --type=merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"lab node"}]}}' >/dev/null

echo "== starting barelb-controller and barelb-speaker"
spawn "$work/controller.log" "$(bin Controller barelb-controller)" --kubeconfig "$kubeconfig" --namespace barelb-system --identity lab-controller
spawn "$work/speaker.log" "$(bin Speaker barelb-speaker)" --kubeconfig "$kubeconfig" --namespace barelb-system --node-name "$node"

echo "== waiting for every LoadBalancer Service to get its addresses"
want=$(k get svc -A -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
for i in $(seq 1 300); do
  have=$(k get svc -A -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' | grep -c . || true)
  [ "$have" -ge "$want" ] && break
  sleep 0.1
done
echo "$have of $want LoadBalancer Services have an address"
sleep 1 # let pool status and the speaker's plan settle

echo; echo "== kubectl get ipaddresspools -n barelb-system"
k get ipaddresspools -n barelb-system
echo; echo "== kubectl get svc -A"
k get svc -A
echo; echo "== kubectl get events -A (controller)"
k get events -A --sort-by=.lastTimestamp -o custom-columns=NAMESPACE:.metadata.namespace,OBJECT:.involvedObject.name,TYPE:.type,REASON:.reason,MESSAGE:.message
echo; echo "== controller log"
sed 's/^/  /' "$work/controller.log" | tail -n 40
echo; echo "== speaker log"
sed 's/^/  /' "$work/speaker.log" | tail -n 40

if [ "$have" -lt "$want" ]; then
  echo "lab: only $have of $want Services got an address" >&2
  exit 1
fi
echo; echo "lab: done"
