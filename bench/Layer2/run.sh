#!/usr/bin/env bash
# ARP replies per second on real AF_PACKET sockets, in one run, side by side:
#   kernel  the node's kernel answering for an address of its own (198.51.100.1)
#   ours    Layer2Announcer (test host "respond") answering for an address on no interface (198.51.100.10)
# A client namespace floods ARP requests over a veth pair for SECONDS per phase (test host "load") and counts the
# replies; then a paced phase at RATE requests/s checks what share is answered below saturation. Also prints the
# responder process's allocations per answered request. As root:  bash bench/Layer2/run.sh [SECONDS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
rate=${2:-20000}

dotnet build tests/Layer2.TestHost -c Release -nologo -v quiet -clp:ErrorsOnly
host=tests/Layer2.TestHost/bin/Release/net10.0/BareLb.Layer2.TestHost.dll
tag=$$-$RANDOM
client=blt-benchc-$tag
node=blt-benchn-$tag
cleanup() {
  for ns in "$node" "$client"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
ip netns add "$client"
ip netns add "$node"
ip -n "$client" link add eth0 type veth peer name eth0 netns "$node"
for ns in "$client" "$node"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
done
ip -n "$client" addr add 198.51.100.200/24 dev eth0
ip -n "$node" addr add 198.51.100.1/24 dev eth0

coproc responder { ip netns exec "$node" dotnet "$host" respond --exclude lo 2>&1; }
disown "$responder_PID" 2>/dev/null || true
# Plain duplicates: bash closes the coproc's own descriptors in subshells such as $(...).
exec {from_responder}<&"${responder[0]}" {to_responder}>&"${responder[1]}"
expect() {
  local line
  while IFS= read -r -t 60 line <&"$from_responder"; do
    if [[ "$line" == $1* ]]; then
      echo "$line"
      return 0
    fi
  done
  echo "responder did not print '$1'" >&2
  exit 1
}
ask() { echo "$1" >&"$to_responder"; expect "$2"; }
expect ready >/dev/null
ask "own 198.51.100.10" applied >/dev/null

load() { ip netns exec "$client" dotnet "$host" load --interface eth0 --target "$1" --seconds "$seconds" ${2:+--rate $2}; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo "== flat out, $seconds s each, one veth pair, $(nproc) cores (load average: $(cut -d' ' -f1 /proc/loadavg))"
kernel=$(load 198.51.100.1); echo "kernel: $kernel"
before_gc=$(ask gc "gc " | field allocated)
before_answered=$(ask counters "counters " | field answered)
ours=$(load 198.51.100.10); echo "ours:   $ours"
after_gc=$(ask gc "gc " | field allocated)
after_answered=$(ask counters "counters " | field answered)
k=$(echo "$kernel" | field replies_per_s)
o=$(echo "$ours" | field replies_per_s)
awk -v k="$k" -v o="$o" 'BEGIN { printf "ratio ours/kernel (replies/s): %.2f\n", (k > 0 ? o / k : 0) }'
awk -v b="$((after_gc - before_gc))" -v n="$((after_answered - before_answered))" \
  'BEGIN { printf "responder process: %d requests answered, %d bytes allocated, %.3f bytes per answered request\n", n, b, (n > 0 ? b / n : 0) }'

echo "== paced at $rate requests/s, $seconds s each"
echo "kernel: $(load 198.51.100.1 "$rate")"
echo "ours:   $(load 198.51.100.10 "$rate")"
ask counters "counters "
echo quit >&"$to_responder"
