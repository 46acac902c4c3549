#!/usr/bin/env bash
# Benchmark of `recoverctl ls -o json` over a ZooKeeper store of N records
# (default 100,000) built from the real-Spark captures, beside a sequential
# getData loop, a bare pipelined go-zookeeper reader and zkCli.sh, in one
# run. Writes the "ls over ZooKeeper" section of bench/README.md.
#   N=100000 ./bench/ls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-100000}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/recoverctl" ./cmd/recoverctl
# 100,000 records of a few KB need a larger heap than the tests' servers,
# and the full JIT for a fair server.
export RECOVERCTL_ZK_JVM_OPTS="${RECOVERCTL_ZK_JVM_OPTS:--Xms1g -Xmx4g -XX:TieredStopAtLevel=4}"
figures=$(go run ./bench/cmd/lsbench -bin "$work/recoverctl" -n "$n" -work "$work/run")
echo "$figures"
./bench/section.sh "ls over ZooKeeper" "$figures" "N=$n ./bench/ls.sh"
