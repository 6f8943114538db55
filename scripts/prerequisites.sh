# Sourced by scripts/test.sh and lab/run.sh: installs what BareLb's tests and lab need on a fresh Debian machine
# (run as root). Idempotent and quiet when everything is present.

ensure_prerequisites() {
  local missing=()
  # command:package pairs. The network tests drive real peers (FRR, BIRD, GoBGP, keepalived) and real
  # client tools (arping, ndisc6, curl) inside network namespaces; SharpPcap needs libpcap for client captures.
  local pair
  for pair in ip:iproute2 curl:curl nft:nftables arping:arping ndisc6:ndisc6 tcpdump:tcpdump ping:iputils-ping \
      vtysh:frr bird:bird2 gobgpd:gobgpd keepalived:keepalived; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || [ -x "/usr/lib/frr/${pair%%:*}" ] || missing+=("${pair#*:}")
  done
  [ -e /usr/lib/x86_64-linux-gnu/libpcap.so.0.8 ] || ldconfig -p 2>/dev/null | grep -q 'libpcap.so.0.8' || missing+=(libpcap0.8)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "the .NET 10 SDK (dotnet) is required and is not on PATH" >&2
    return 1
  fi
  # kubectl is not in Debian's archive; the machine image ships it. Tests that drive kubectl fail with a
  # message naming it when it is absent, rather than skipping.
  if ! command -v kubectl >/dev/null 2>&1; then
    echo "warning: kubectl is not on PATH; the kubectl tests will fail" >&2
  fi
  dotnet restore "${BARELB_ROOT:-.}/BareLb.sln" --nologo -v quiet
}
