#!/usr/bin/env bash
# The project's one test command, for people and for CI (.ci/run calls it):
# installs what is missing, lints, runs every test (the ZooKeeper ones against
# a real server that the tests start), then a short fuzz run of each target.
# With CI=true a skipped test fails the run: every test must really run there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"

echo "== gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
[ -z "$unformatted" ] || { echo "gofmt needed on:"; echo "$unformatted"; exit 1; }
go vet ./...
staticcheck ./...
# gen-docs is built only by scripts/release.sh (-tags gendocs)
go vet -tags gendocs ./cmd/recoverctl
staticcheck -tags gendocs ./cmd/recoverctl

echo "== go test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -count=1 -v -timeout 20m ./... 2>&1 | tee "$log" | grep -E '^(=== RUN|--- (FAIL|SKIP)|FAIL|ok|panic|PASS)' | grep -v '^=== RUN'
status=${PIPESTATUS[0]}
set -e
skips=$(grep -c -- '--- SKIP' "$log" || true)
passes=$(grep -c -- '--- PASS' "$log" || true)
fails=$(grep -c -- '--- FAIL' "$log" || true)
if [ "$status" -ne 0 ]; then
	echo "== failures:"; grep -B2 -A30 -- '--- FAIL' "$log" | head -200
	# go test -v streams t.Log/t.Error lines as they happen, away from the
	# --- FAIL line: show what the tests said.
	echo "== test messages:"; grep -E '^\s+[A-Za-z0-9_]+\.go:[0-9]+:' "$log" | grep -v -e 'zktest: real' -e 'sparktest: real' | tail -80
fi
if [ "${CI:-}" = "true" ] && [ "$skips" -gt 0 ]; then
	echo "== tests skipped under CI=true (not allowed):"; grep -A3 -- '--- SKIP' "$log"
	status=1
fi
[ "$status" -eq 0 ] || { echo "go test: $passes passed, $fails failed, $skips skipped"; exit 1; }
echo "== go test -race (the packages that start goroutines: a short run)"
# The race detector finds what the tests exercise; these cover the bulk
# readers, the write engine, the listing and the commands that run them.
race() { go test -race -count=1 -timeout 20m "$@" 2>&1 | grep -E '^(ok|FAIL|---|panic|WARNING: DATA RACE)' || true; }
race_failed=0
for args in "./store/ ./store/fs/ ./store/rocksdb/ ./plan/ ./inventory/ ./livemaster/" \
	"-run ^(TestConformance|TestEachRecordMultiRead|TestReadAll)\$ ./store/zk/" \
	"-run ^(TestStatusLeaderElection|TestLsMatchesMasterJSON|TestMigrateCommand|TestRestoreKilledHalfwayResumes)\$ ./cmd/recoverctl/"; do
	# shellcheck disable=SC2086
	out=$(race $args)
	echo "$out"
	if echo "$out" | grep -qE '^(FAIL|---|panic|WARNING: DATA RACE)'; then race_failed=1; fi
done
[ "$race_failed" -eq 0 ] || { echo "go test -race failed"; exit 1; }

echo "== real servers the tests started"
echo "ZooKeeper: $(grep -c 'zktest: real ZooKeeper server serving' "$log" || true) standalone servers, $(grep -c 'zktest: real ZooKeeper ensemble' "$log" || true) ensembles"
echo "Spark: $(grep -c 'sparktest: real Spark Master' "$log" || true) Masters and $(grep -c 'sparktest: real Spark Worker' "$log" || true) Workers"

echo "== fuzz (short)"
fuzz() { # package target seconds
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$3" -fuzzminimizetime 3s "$1" >/dev/null || { echo "fuzz $1 $2 found a failure"; go test -run '^$' -fuzz "^$2\$" -fuzztime 1x "$1"; exit 1; }
	echo "fuzz $1 $2: ok ($3)"
}
grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sort -u | while IFS=: read -r file fn; do
	fuzz "./$(dirname "${file#./}")" "${fn#func }" "${FUZZTIME:-15s}"
done
echo "tests: $passes passed, $fails failed, $skips skipped"
