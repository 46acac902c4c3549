#!/usr/bin/env bash
# section.sh TITLE FIGURES COMMAND: replaces the "## TITLE" section of
# bench/README.md (or appends it) with FIGURES, the command that made them,
# the date and the machine's load.
set -euo pipefail
cd "$(dirname "$0")"
title=$1 figures=$2 command=$3
body=$(printf '## %s\n\nMeasured %s with `%s` on %s (%s cores, load average %s).\n\n%s\n' \
	"$title" "$(date -u +%Y-%m-%d)" "$command" "$(uname -m)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$figures")
[ -f README.md ] || printf '# Benchmarks\n\nEach section is written by the script it names; run it again to refresh.\n' > README.md
python3 - "$title" "$body" <<'PY'
import re, sys
title, body = sys.argv[1], sys.argv[2]
text = open("README.md").read()
pat = re.compile(r"^## " + re.escape(title) + r"\n.*?(?=^## |\Z)", re.S | re.M)
if pat.search(text):
    text = pat.sub(lambda m: body + "\n\n", text)
else:
    text = text.rstrip("\n") + "\n\n" + body + "\n"
open("README.md", "w").write(text)
PY
