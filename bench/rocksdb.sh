#!/usr/bin/env bash
# Benchmark of `recoverctl ls -o json --rocksdb` against what a Spark 4
# Master does at recovery with the same store: rocksdbjni iterating the
# database and Spark's JavaSerializer deserializing each value, warmed, with
# Spark 4.0.5's own jars (scripts/setup-spark.sh prepares them). The store
# is N records of the real 4.0.5 ROCKSDB capture (bench/cmd/rocksdbgen,
# written by store/rocksdb's writer). recoverctl runs as a fresh process
# each time (start-up, decoding, JSON to /dev/null); the JVM side is timed
# per pass after a warm-up pass, in the same process: the comparison is
# generous to the JVM. Passes alternate (JVM, Go, JVM, Go, ...) so that a
# changing load falls on both; the medians are compared.
#   N=100000 PASSES=3 ./bench/rocksdb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-100000}
passes=${PASSES:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../testdata/spark/lib/prepare.sh
source testdata/spark/lib/prepare.sh
home=$(spark_home 4.0.5 2.13)
cp="$work/jvm:$home/jars/*"
javac -cp "$cp" -d "$work/jvm" bench/jvm/RocksBench.java bench/jvm/DecodeBench.java
read -r -a opts <<<"$(java -cp "$cp" DecodeBench module-options)"
go build -o "$work/recoverctl" ./cmd/recoverctl
go build -o "$work/rocksdbgen" ./bench/cmd/rocksdbgen
"$work/rocksdbgen" -n "$n" -out "$work/db" >&2
size=$(du -sm "$work/db" | cut -f1)
loadavg() { cut -d' ' -f1 /proc/loadavg; }
load_start=$(loadavg)
go_s=() jvm_s=() rss=()
for ((i = 1; i <= passes; i++)); do
	# One warm-up pass, one timed pass, in its own JVM: Spark's recovery
	# reads the store once, but the JIT gets every chance here.
	t=$(java "${opts[@]}" -Xms1g -Xmx1g -cp "$cp" RocksBench "$work/db" 1 1 2>/dev/null | awk '/^pass/ {print $3}')
	jvm_s+=("$t")
	out=$({ /usr/bin/time -f "%e %M" "$work/recoverctl" ls -o json --rocksdb "$work/db" >/dev/null; } 2>&1 | tail -1)
	go_s+=("${out% *}")
	rss+=("${out#* }")
	echo "pass $i: JVM ${t}s, recoverctl ${out% *}s (peak RSS ${out#* } KB), load $(loadavg)" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
g=$(median "${go_s[@]}") j=$(median "${jvm_s[@]}") r=$(median "${rss[@]}")
ratio=$(awk -v g="$g" -v j="$j" 'BEGIN {printf "%.2f", j/g}')
table=$(
	cat <<TABLE
| reader ($n records, ${size} MB database, Spark 4.0.5 records) | seconds (median of $passes) | records/s |
|---|---:|---:|
| JVM: rocksdbjni 9.8.4 iteration + JavaSerializer.deserialize, warmed | $j | $(awk -v n="$n" -v s="$j" 'BEGIN {printf "%.0f", n/s}') |
| recoverctl ls -o json --rocksdb (a fresh process, JSON included) | $g | $(awk -v n="$n" -v s="$g" 'BEGIN {printf "%.0f", n/s}') |

recoverctl / JVM records/s: **$ratio** (target: at least 2). recoverctl's peak RSS: $((r / 1024)) MiB. Load average $load_start at the start, $(loadavg) at the end.
TABLE
)
echo "$table"
if [[ ${WRITE:-1} == 1 ]]; then
	./bench/section.sh "ls over RocksDB" "$table" "N=$n PASSES=$passes ./bench/rocksdb.sh"
fi
