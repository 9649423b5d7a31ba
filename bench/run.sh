#!/bin/sh
# make bench: installs what the benchmarks need, then runs bench/run.py.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh bench
exec python3 bench/run.py "$@"
