#!/usr/bin/env bash
# Builds recoverctl and runs it on recovery state that a real Spark 3.5
# Master wrote (shipped in testdata/spark): what an operator sees of a dead
# cluster, with no JVM and no Spark installed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || { echo "demo: Go is required (https://go.dev/doc/install)" >&2; exit 1; }
mkdir -p bin
go build -o bin/recoverctl ./cmd/recoverctl
dir=testdata/spark/3.5.8-2.12/filesystem/records
set -x
bin/recoverctl status --fs "$dir"
bin/recoverctl ls --fs "$dir"
