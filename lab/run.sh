#!/usr/bin/env bash
# The lab: a bare-metal cluster network on this machine, built from network namespaces (N nodes and a client on one
# bridge, the API server in a namespace of its own), with the real barelb-controller and one barelb-speaker per node.
# It applies examples/, curls every LoadBalancer address from the client and prints who answered.
#
#   bash lab/run.sh                 # as root, on a fresh machine
#   bash lab/run.sh --failover      # also kill the owning node and print the outage
#   bash lab/run.sh --ipv6 | --dual-stack | --nodes 5 | --keep | --down
#
# Everything it creates (namespaces, links, processes) is removed on exit, on Ctrl-C and on a crash of any part,
# unless --keep is given; a later run with --down removes a kept lab.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/prerequisites.sh
. scripts/prerequisites.sh
ensure_prerequisites

echo "building (the first build on a fresh machine takes a minute or two)..."
dotnet build BareLb.sln -c Release --nologo -v quiet -clp:ErrorsOnly
exec lab/BareLb.Lab/bin/Release/net10.0/barelb-lab "$@"
