#!/usr/bin/env bash
# Captures the OPEN and UPDATE messages FRR, BIRD and GoBGP send to our speaker, for the decoder tests.
# Run as root from the repository root after building tests/Bgp.Tests (Release):
#   bash tests/Bgp.Tests/TestData/capture.sh
# Each daemon runs in its own namespace pair (198.51.100.0/24, 2001:db8::/64), advertises 203.0.113.0/24 and
# 2001:db8:ff::/48 with communities to our test host, and tcpdump records port 179 on the node side. The daemon's
# half of the stream is cut into BGP messages and written as one hex line per message to <daemon>.hex.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
host=$(ls "$here"/../bin/Release/net10.0/barelb-bgp-testhost.dll)
work=$(mktemp -d)
chmod 755 "$work"
tag=cap$$
trap 'for ns in r-$tag n-$tag; do for p in $(ip netns pids $ns 2>/dev/null); do kill -9 $p 2>/dev/null || true; done; ip netns del $ns 2>/dev/null || true; done; rm -rf "$work"' EXIT

setup() {
  ip netns add r-$tag; ip netns add n-$tag
  ip -n r-$tag link set lo up; ip -n n-$tag link set lo up
  ip -n r-$tag link add eth0 type veth peer name eth0 netns n-$tag
  ip -n r-$tag addr add 198.51.100.1/24 dev eth0; ip -n r-$tag addr add 2001:db8::1/64 dev eth0 nodad
  ip -n n-$tag addr add 198.51.100.10/24 dev eth0; ip -n n-$tag addr add 2001:db8::10/64 dev eth0 nodad
  ip -n r-$tag link set eth0 up; ip -n n-$tag link set eth0 up
}

teardown() {
  for ns in r-$tag n-$tag; do for p in $(ip netns pids $ns); do kill -9 $p 2>/dev/null || true; done; ip netns del $ns; done
}

speaker() {
  ip netns exec n-$tag dotnet "$host" --local-asn 64512 --peer-asn 64513 --peer 198.51.100.1 --source 198.51.100.10 \
    --router-id 198.51.100.10 --hold 9 --graceful-restart --next-hop-v6 2001:db8::10 \
    --route "198.51.100.100/32;c=65000:1" --route "2001:db8:1::100/128" < <(sleep 6) > "$work/speaker.log" 2>&1 &
}

capture() { # $1 = daemon name; the daemon must already be running in r-$tag
  ip netns exec n-$tag tcpdump -i eth0 -U -w "$work/$1.pcap" tcp port 179 > /dev/null 2>&1 &
  sleep 0.5
  speaker
  sleep 5
  kill %tcpdump 2>/dev/null || pkill -f "$work/$1.pcap" || true
  sleep 0.5
  python3 "$here/extract.py" "$work/$1.pcap" 198.51.100.1 "$1 $2" > "$here/$1.hex"
  echo "$1: $(grep -vc '^#' "$here/$1.hex") messages"
}

# FRR
setup
mkdir -p "$work/frr" && chown frr:frr "$work/frr"
cat > "$work/frr/bgpd.conf" <<CONF
frr defaults traditional
router bgp 64513
 bgp router-id 198.51.100.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 198.51.100.10 remote-as 64512
 address-family ipv4 unicast
  network 203.0.113.0/24 route-map tag
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:ff::/48 route-map tag
  neighbor 198.51.100.10 activate
 exit-address-family
route-map tag permit 10
 set community 64513:7 no-export
 set large-community 64513:7:7
CONF
touch "$work/frr/zebra.conf"; chown frr:frr "$work/frr"/*
ip netns exec r-$tag /usr/lib/frr/zebra -d -f "$work/frr/zebra.conf" -i "$work/frr/zebra.pid" -z "$work/frr/zs" --vty_socket "$work/frr" -P 0 -u frr -g frr
sleep 0.5
ip netns exec r-$tag /usr/lib/frr/bgpd -d -f "$work/frr/bgpd.conf" -i "$work/frr/bgpd.pid" -z "$work/frr/zs" --vty_socket "$work/frr" -P 0 -u frr -g frr
sleep 1
capture frr "$(/usr/lib/frr/bgpd --version | head -1)"
teardown

# BIRD
setup
cat > "$work/bird.conf" <<CONF
router id 198.51.100.1;
protocol device { }
protocol static s4 { ipv4; route 203.0.113.0/24 blackhole { bgp_community.add((64513,7)); bgp_large_community.add((64513,7,7)); }; }
protocol static s6 { ipv6; route 2001:db8:ff::/48 blackhole { bgp_community.add((64513,7)); bgp_large_community.add((64513,7,7)); }; }
protocol bgp node {
  local 198.51.100.1 as 64513; neighbor 198.51.100.10 as 64512; graceful restart on;
  ipv4 { import all; export where proto = "s4"; next hop self; };
  ipv6 { import all; export where proto = "s6"; next hop address 2001:db8::1; };
}
CONF
ip netns exec r-$tag bird -c "$work/bird.conf" -s "$work/bird.ctl" -P "$work/bird.pid"
sleep 1
capture bird "$(bird --version 2>&1)"
teardown

# GoBGP
setup
cat > "$work/gobgpd.toml" <<CONF
[global.config]
  as = 64513
  router-id = "198.51.100.1"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "198.51.100.10"
    peer-as = 64512
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
CONF
ip netns exec r-$tag gobgpd -f "$work/gobgpd.toml" --api-hosts 127.0.0.1:50051 > "$work/gobgpd.log" 2>&1 &
sleep 1.5
ip netns exec r-$tag gobgp -u 127.0.0.1 -p 50051 global rib add 203.0.113.0/24 community 64513:7 large-community 64513:7:7 -a ipv4
ip netns exec r-$tag gobgp -u 127.0.0.1 -p 50051 global rib add 2001:db8:ff::/48 community 64513:7 large-community 64513:7:7 -a ipv6
capture gobgp "$(gobgpd --version)"
teardown
