#!/usr/bin/env bash
# Regenerates codec/classes/classdesc/<spark>-<scala>.json: the class descriptors (serialVersionUID, fields,
# flags, readObject/readResolve...) that a Master of each Spark release would use to read recovery records,
# computed by ObjectStreamClass.lookup inside a JVM that has that release's jars on its class path.
#
#   testdata/classdesc/gen.sh                 every release below whose jars are in the cache
#   testdata/classdesc/gen.sh 3.5.8-2.12      one release
#
# Jars come from testdata/spark/lib/prepare.sh (pyspark tarballs, Maven Central for 3.x/2.13), cached under
# ${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl; nothing is downloaded into the repository. The class list is
# testdata/classdesc/seeds.txt; the gadget classes of codec/classes/gadgets.json are only probed for presence
# (Class.forName without initialization), never looked up or instantiated.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/codec/classes/classdesc"
source "$ROOT/testdata/spark/lib/prepare.sh"
JAVA17=${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64}
RELEASES=(2.4.8-2.11 2.4.8-2.12 3.0.3-2.12 3.1.3-2.12 3.2.4-2.12 3.4.4-2.12 3.5.8-2.12 3.5.8-2.13 4.0.5-2.13 4.3.0-2.13)
(($#)) && RELEASES=("$@")

BUILD=$(mktemp -d /tmp/recoverctl-classdesc.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
"$JAVA17/bin/javac" --release 17 -d "$BUILD" "$HERE/gen/ClassDescGen.java"
jq -r '.gadgets[] | (.probe // .pattern) | select(test("[*]") | not)' "$ROOT/codec/classes/gadgets.json" | sort -u >"$BUILD/probes.txt"
mkdir -p "$OUT"
for vs in "${RELEASES[@]}"; do
  ver=${vs%-*} scala=${vs#*-}
  home=$(spark_home "$ver" "$scala")
  # ObjectStreamClass.lookup needs no Spark runtime, so Java 17 reads every release's jars (3.0-3.2 included);
  # JDK classes' descriptors are the same on 11 and 17 (they declare their serialVersionUIDs).
  "$JAVA17/bin/java" -cp "$BUILD:$home/jars/*" ClassDescGen "$ver" "$scala" "$HERE/seeds.txt" "$BUILD/probes.txt" "$OUT/$vs.json"
  echo "$vs: $(grep -c '"name"' "$OUT/$vs.json") classes -> $OUT/$vs.json" >&2
done
