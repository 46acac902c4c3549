#!/usr/bin/env bash
# Prepares the Spark releases recoverctl's end-to-end tests (e2e/) run, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl/spark, with the same
# testdata/spark/lib/prepare.sh the capture generator uses (the pyspark
# tarball comes from PyPI through pip when the cache lacks it).
# Idempotent and quiet: one line per release; the tool output only on failure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../testdata/spark/lib/prepare.sh
source "$ROOT/testdata/spark/lib/prepare.sh"

# Keep in step with `versions` in e2e/e2e_test.go (TestSetupSparkVersions checks).
VERSIONS=(3.5.8-2.12 4.0.5-2.13)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for vs in "${VERSIONS[@]}"; do
	if ! home=$(spark_home "${vs%-*}" "${vs#*-}" 2>"$log"); then
		echo "setup-spark: preparing Spark $vs failed:" >&2
		cat "$log" >&2
		exit 1
	fi
	echo "setup-spark: Spark $vs in ${home##*$'\n'}"
done
