#!/usr/bin/env bash
# Every bulk path of recoverctl beside its floor, in one run, as one table
# (recoverctl's figure, the floor's, the ratio, the target, peak RSS; last
# line `targets met: M/N`), written to the "All bulk paths" section of
# bench/README.md with the machine's load at the start and the end.
#   ./bench/all.sh              # N=100000 records
#   N=20000 ./bench/all.sh      # a smaller run
#   WRITE=0 ./bench/all.sh      # print only
# Runs after scripts/test.sh on a fresh machine and installs nothing: Go,
# the JDK 17, ZooKeeper (internal/zktest's cache), the Spark releases of
# scripts/setup-spark.sh, tar and zstd are what setup put there. The JVM
# decode floors come from bench/decode.sh (shorter knobs: DECODE_WARMUP,
# DECODE_WARMUP_RECORDS, DECODE_ITERATIONS, DECODE_SECONDS) on the versions setup prepares.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-100000}
write=${WRITE:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tool in go java javac tar zstd /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "all.sh: $tool missing: run scripts/test.sh (or scripts/setup.sh) first" >&2; exit 1; }
done
load_start=$(uptime)
echo "== load at start: $load_start" >&2

go build -o "$work/recoverctl" ./cmd/recoverctl
go build -o "$work/allbench" ./bench/cmd/allbench

echo "== decode (bench/decode.sh)" >&2
WRITE=0 WARMUP=${DECODE_WARMUP:-10} WARMUP_RECORDS=${DECODE_WARMUP_RECORDS:-30000} ITERATIONS=${DECODE_ITERATIONS:-3} \
	SECONDS_PER_ITER=${DECODE_SECONDS:-3} ./bench/decode.sh >"$work/decode.md"

echo "== every other path (bench/cmd/allbench, N=$n)" >&2
# A heap for 100,000 records of ~3.5 KB held twice by the server at times,
# and the full JIT for a fair server.
export RECOVERCTL_ZK_JVM_OPTS="${RECOVERCTL_ZK_JVM_OPTS:--Xms1g -Xmx4g -XX:TieredStopAtLevel=4}"
table=$("$work/allbench" -bin "$work/recoverctl" -n "$n" -decode "$work/decode.md" -work "$work/run")
load_end=$(uptime)
figures=$(printf 'Load at the start: `%s`\n\nLoad at the end: `%s`\n\n%s' "$load_start" "$load_end" "$table")
echo "$figures"
if [[ $write == 1 ]]; then
	cmd="./bench/all.sh"
	[[ $n == 100000 ]] || cmd="N=$n ./bench/all.sh"
	./bench/section.sh "All bulk paths" "$figures" "$cmd"
fi
