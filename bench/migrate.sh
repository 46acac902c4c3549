#!/usr/bin/env bash
# Benchmark of `recoverctl migrate` from a directory of N records (default
# 100,000, built from the real-Spark captures) into a real ZooKeeper, beside
# one create per round trip (Spark's own engine) and a bare go-zookeeper
# multi loader, in one run; phase times and peak RSS at two sizes. Writes
# the "Migrate into ZooKeeper" section of bench/README.md.
#   N=100000 ./bench/migrate.sh
# BIN=path times a binary built elsewhere; WRITE_README=0 only prints.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-100000}"
small="${SMALL:-$((n / 10))}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin="${BIN:-$work/recoverctl}"
[ -n "${BIN:-}" ] || go build -o "$bin" ./cmd/recoverctl
# 100,000 records of a few KB need a larger heap than the tests' servers,
# and the full JIT for a fair server.
export RECOVERCTL_ZK_JVM_OPTS="${RECOVERCTL_ZK_JVM_OPTS:--Xms1g -Xmx4g -XX:TieredStopAtLevel=4}"
figures=$(go run ./bench/cmd/migratebench -bin "$bin" -n "$n" -small "$small" -work "$work/run")
echo "$figures"
if [ "${WRITE_README:-1}" = 1 ]; then
	./bench/section.sh "Migrate into ZooKeeper" "$figures" "N=$n ./bench/migrate.sh"
fi
