# Sourced by scripts/test.sh and lab/run.sh: installs what BareLb's tests and lab need on a fresh Debian machine
# (run as root). Idempotent and quiet when everything is present.

ensure_prerequisites() {
  local missing=()
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
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
