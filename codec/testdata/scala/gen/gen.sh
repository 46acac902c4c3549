#!/usr/bin/env bash
# Regenerates codec/testdata/scala/<scala>/*.ser from the scala-library (and, where
# present, spark-core) jars cached by testdata/spark/lib/prepare.sh and by Maven.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl/spark"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
gen() { # gen NAME CLASSPATH
  local cp=$2
  mkdir -p "$build/$1"
  javac -nowarn -d "$build/$1" -cp "$cp" "$here/Gen.java"
  java -cp "$build/$1:$cp" Gen "$out/$1"
}
gen 2.11 "$(ls "$cache"/2.4.8-2.11/jars/scala-library-*.jar):$(ls "$cache"/2.4.8-2.11/jars/spark-core_*.jar)"
gen 2.12 "$(ls "$cache"/3.5.8-2.12/jars/scala-library-*.jar):$(ls "$cache"/3.5.8-2.12/jars/spark-core_*.jar)"
gen 2.13 "$(ls "$cache"/4.0.5-2.13/jars/scala-library-*.jar):$(ls "$cache"/4.0.5-2.13/jars/spark-core_*.jar)"
