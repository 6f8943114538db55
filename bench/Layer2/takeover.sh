#!/usr/bin/env bash
# Takeover latency as a client sees it: ownership of 198.51.100.10 and 2001:db8::10 moves back and forth between two
# nodes (test host "respond"), ROUNDS times; each round releases the old owner (as if it had died), then tells the
# new one, and measures from that command to the client's kernel neighbour entries showing the new owner's MAC
# (timestamps of `ip -ts monitor neigh` in the client). Prints every sample and the percentiles.
# As root:  bash bench/Layer2/takeover.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-20}

dotnet build tests/Layer2.TestHost -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
host=tests/Layer2.TestHost/bin/Release/net10.0/BareLb.Layer2.TestHost.dll
tag=$$-$RANDOM
sw=blt-tosw-$tag
client=blt-toc-$tag
nodes=(blt-ton1-$tag blt-ton2-$tag)
dir=$(mktemp -d)
cleanup() {
  for ns in "${nodes[@]}" "$client" "$sw"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 type bridge forward_delay 0 stp_state 0
ip -n "$sw" link set br0 up
port=0
attach() {
  port=$((port + 1))
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip -n "$sw" link add "p$port" type veth peer name eth0 netns "$1"
  ip -n "$sw" link set "p$port" master br0
  ip -n "$sw" link set "p$port" up
  ip -n "$1" link set eth0 up
  ip -n "$1" addr add "$2" dev eth0
  ip -n "$1" addr add "$3" dev eth0 nodad
}
attach "$client" 198.51.100.200/24 2001:db8::c1/64
attach "${nodes[0]}" 198.51.100.1/24 2001:db8::1/64
attach "${nodes[1]}" 198.51.100.2/24 2001:db8::2/64

macs=()
for i in 0 1; do
  mkfifo "$dir/in$i"
  ip netns exec "${nodes[$i]}" dotnet "$host" respond --exclude lo <"$dir/in$i" >"$dir/out$i" 2>&1 &
  disown
  macs+=("$(ip netns exec "${nodes[$i]}" cat /sys/class/net/eth0/address)")
done
exec {to0}>"$dir/in0" {to1}>"$dir/in1"
fds=("$to0" "$to1")
applied=(0 0)

wait_for() {  # file pattern
  for _ in $(seq 1 1000); do
    if grep -q -- "$2" "$1"; then return 0; fi
    sleep 0.01
  done
  echo "timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  exit 1
}
own() {  # node-index addresses...
  local i=$1; shift
  applied[$i]=$((applied[$i] + 1))
  echo "own $*" >&"${fds[$i]}"
  wait_for "$dir/out$i" "applied ${applied[$i]} in"
}
wait_for "$dir/out0" ready
wait_for "$dir/out1" ready

own 0 198.51.100.10 2001:db8::10
ip netns exec "$client" ping -c 1 -W 1 198.51.100.10 >/dev/null || true
ip netns exec "$client" ping -6 -c 1 -W 1 2001:db8::10 >/dev/null || true
ip -n "$client" -ts monitor neigh >"$dir/monitor" &
disown
sleep 0.3

samples=()
owner=0
for round in $(seq 1 "$rounds"); do
  next=$((1 - owner))
  own "$owner"
  seen=$(wc -l <"$dir/monitor")
  t0=$(date +%s%N)
  own "$next" 198.51.100.10 2001:db8::10
  for address in "198.51.100.10" "2001:db8::10"; do
    for _ in $(seq 1 500); do
      line=$(tail -n +"$((seen + 1))" "$dir/monitor" | grep -m1 -- "\] $address dev eth0 lladdr ${macs[$next]}" || true)
      [ -n "$line" ] && break
      sleep 0.01
    done
    [ -n "$line" ] || { echo "round $round: $address never moved to ${macs[$next]}" >&2; exit 1; }
    stamp=$(echo "$line" | sed 's/^\[\([^]]*\)\].*/\1/')
    t1=$(date -d "$stamp" +%s%N)
    samples+=("$(( (t1 - t0) / 1000 ))")
    echo "round $round $address: $(( (t1 - t0) / 1000 )) us"
  done
  owner=$next
  sleep 0.2
done

printf '%s\n' "${samples[@]}" | sort -n | awk '
  { v[NR] = $1 }
  END {
    n = NR
    i50 = int((n - 1) * 0.50) + 1; i99 = int((n - 1) * 0.99) + 1
    printf "%d samples (IPv4 and IPv6): min %.1f ms, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", n, v[1] / 1000, v[i50] / 1000, v[i99] / 1000, v[n] / 1000
  }'
echo quit >&"$to0"
echo quit >&"$to1"
