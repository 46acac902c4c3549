#!/usr/bin/env bash
# Benchmark of recoverctl backup/restore: 100,000 records built from the
# real-Spark captures, from/to a real ZooKeeper and a directory, beside a
# bare go-zookeeper read floor, a bare multi-create floor and tar czf, all in
# one run. Writes its figures into the "Backup and restore" section of
# bench/README.md (replacing the previous figures of that section only).
#   N=100000 ./bench/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-100000}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/recoverctl" ./cmd/recoverctl

# zktest gives its servers -Xmx512m, too little for 100,000 records of
# ~3.5 KB held twice; this wrapper raises the heap for the bench only.
cat >"$work/java" <<'JAVA'
#!/usr/bin/env bash
args=()
for a in "$@"; do [ "$a" = "-Xmx512m" ] && a="-Xmx3g"; args+=("$a"); done
exec "${REAL_JAVA}" "${args[@]}"
JAVA
chmod +x "$work/java"
REAL_JAVA="${RECOVERCTL_ZK_JAVA:-$(command -v java)}"
export REAL_JAVA RECOVERCTL_ZK_JAVA="$work/java"

figures=$(go run ./bench/cmd/backupbench -bin "$work/recoverctl" -n "$n" -work "$work/run")
echo "$figures"

readme=bench/README.md
begin='<!-- backup-bench:begin -->'
end='<!-- backup-bench:end -->'
section=$(printf '%s\n\n%s\n\n%s\n\n%s\n' "$begin" "Produced by \`bench/backup.sh\` (N=$n)." "$figures" "$end")
touch "$readme"
if grep -qF "$begin" "$readme"; then
	SECTION="$section" python3 - "$readme" "$begin" "$end" <<'PY'
import os, sys
p, b, e = sys.argv[1:]
s = open(p).read()
i, j = s.index(b), s.index(e) + len(e)
open(p, "w").write(s[:i] + os.environ["SECTION"].rstrip("\n") + s[j:])
PY
else
	printf '\n## Backup and restore\n\n%s\n' "$section" >>"$readme"
fi
echo "figures written to $readme"
