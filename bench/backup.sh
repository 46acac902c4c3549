#!/usr/bin/env bash
# Benchmark of recoverctl backup/restore: 100,000 records built from the
# real-Spark captures, from/to a real ZooKeeper and a directory, beside a
# bare go-zookeeper read floor, a bare multi-create floor and tar czf, all in
# one run. Writes the "Backup and restore" section of bench/README.md.
#   N=100000 ./bench/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-100000}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/recoverctl" ./cmd/recoverctl

# 100,000 records of ~3.5 KB are held twice by the server at one point:
# a larger heap than the tests' servers, and the full JIT for a fair server.
export RECOVERCTL_ZK_JVM_OPTS="${RECOVERCTL_ZK_JVM_OPTS:--Xms1g -Xmx4g -XX:TieredStopAtLevel=4}"
figures=$(go run ./bench/cmd/backupbench -bin "$work/recoverctl" -n "$n" -work "$work/run")
echo "$figures"
./bench/section.sh "Backup and restore" "$figures" "N=$n ./bench/backup.sh"
