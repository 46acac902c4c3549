#!/bin/sh
# Rebuilds the test streams (*.ser) and their JVM-side descriptions (*.json)
# in this directory with the JVM's own ObjectOutputStream. Needs javac/java
# 17+ and, for the scala*_ streams, Maven to fetch scala-library 2.12 and 2.13.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
opens="--add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED
       --add-opens java.base/java.net=ALL-UNNAMED --add-opens java.base/java.lang.reflect=ALL-UNNAMED"
javac -d "$build" "$here/Gen.java"
java $opens -cp "$build" Gen "$here"

repo=${MAVEN_REPO:-$HOME/.m2/repository}
for v in 2.12.18 2.13.14; do
    jar=$repo/org/scala-lang/scala-library/$v/scala-library-$v.jar
    [ -f "$jar" ] || mvn -q dependency:get -Dartifact=org.scala-lang:scala-library:$v -Dtransitive=false
done
j212=$repo/org/scala-lang/scala-library/2.12.18/scala-library-2.12.18.jar
j213=$repo/org/scala-lang/scala-library/2.13.14/scala-library-2.13.14.jar
javac -nowarn -d "$build" -cp "$build:$j213" "$here/ScalaGen.java"
java $opens -cp "$build:$j212" ScalaGen "$here" scala212_
java $opens -cp "$build:$j213" ScalaGen "$here" scala213_
