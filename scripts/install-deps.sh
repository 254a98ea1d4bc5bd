#!/usr/bin/env bash
# Installs what punt needs from Debian's packages and the npm registry.
# Idempotent and fast when everything is already present.
#   scripts/install-deps.sh          build + test dependencies (`make test`)
#   scripts/install-deps.sh --run    only what `make run` needs
#   scripts/install-deps.sh --bench  build + test + the benchmarks' (`make bench`)
set -euo pipefail
cd "$(dirname "$0")/.."

# libgtest-dev: CMakeLists.txt requires GTest at configure time, so `make run`
# needs it too.
build_pkgs=(g++ cmake make pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev libgtest-dev)
test_pkgs=(googletest nodejs npm python3 openssl curl)
# The benchmarks' receiver and load tool, Google Benchmark, and the sqlite3
# shell (the latency goal reads punt's own record from its database).
bench_pkgs=(libbenchmark-dev nginx wrk sqlite3)

mode=${1:-}
want=("${build_pkgs[@]}")
if [[ "$mode" != "--run" ]]; then want+=("${test_pkgs[@]}"); fi
if [[ "$mode" == "--bench" ]]; then want+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian's packages (e.g. a preinstalled Node.js).
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the nginx it installs, on port 80 of every address. The
  # benchmarks start their own (127.0.0.1, a private config): stop that one.
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
  fi
fi

if [[ "$mode" != "--run" ]]; then
  scripts/install-node-tools.sh
fi
