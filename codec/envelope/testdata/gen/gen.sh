#!/bin/sh
# Regenerates codec/envelope/testdata/samples/<version>/ from the jars a pyspark source tarball
# ships, so the samples carry the exact framing of that Spark release.
# Usage (from the repo root): sh codec/envelope/testdata/gen/gen.sh 4.0.5 4.3.0
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wheels=${WHEELS:-/root/.cache/recoverctl/wheels}
cache=${CACHE:-/root/.cache/recoverctl/jars}
for v in "$@"; do
  jars=$cache/$v
  if [ ! -d "$jars" ]; then
    tmp=$(mktemp -d)
    tar xzf "$wheels/pyspark-$v.tar.gz" -C "$tmp" --wildcards '*/jars/*.jar'
    mkdir -p "$jars"
    find "$tmp" -name '*.jar' -exec mv {} "$jars/" \;
    rm -rf "$tmp"
  fi
  build=$(mktemp -d)
  javac -nowarn -d "$build" -cp "$jars/*" "$here/Gen.java"
  out=$here/../samples/$v
  rm -rf "$out"
  java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
    -cp "$build:$jars/*" Gen "$out"
  rm -rf "$build"
done
