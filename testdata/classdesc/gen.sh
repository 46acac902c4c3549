#!/usr/bin/env bash
# Regenerates codec/classes/classdesc/: the class descriptors (serialVersionUID, fields, flags,
# readObject/readResolve...) that a Master of each Spark release would use to read recovery records, computed
# by ObjectStreamClass.lookup inside a JVM that has that release's jars on its class path, for every Spark
# release on Maven Central from 2.4.0 on and every Scala line it was published for.
#
#   testdata/classdesc/gen.sh                  every release (the list is Maven Central's metadata)
#   testdata/classdesc/gen.sh 3.5.8-2.12 ...   re-dump these; the other releases' dumps come from the cache
#
# Per release, Maven resolves (POMs only) spark-core's runtime dependency tree, versions as its parent POM
# manages them, then fetches only the jars whose classes a record can name or whose methods those classes'
# signatures mention (ObjectStreamClass computes a default serialVersionUID from every declared member, so
# those types must load): Spark's modules, scala-library, json4s-ast, slf4j/log4j; plus the gadget libraries
# of codec/classes/gadgets.json that the tree holds, so that their presence is probed on that class path
# (the POM's default profile: for 3.0/3.1 that is Hadoop 2.7's dependencies, where the binary distribution
# testdata/spark uses is Hadoop 3.2's). ClassDescGen fails when a lookup fails for any other reason than
# "not found", so a missing jar cannot pass for a missing class. A release Central lists but cannot serve
# is skipped, unless testdata/spark holds captures of it: then the full distribution of
# testdata/spark/lib/prepare.sh (pyspark) is used (4.0.5 and 4.3.0 today).
# Everything is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl (Maven repository m2/, work tree
# classdesc/); nothing is downloaded into the repository. Needs: mvn, jq, go, JDK 17, pip (fallback only).
#
# JDK classes' descriptors come from the one JDK that runs the dump (JAVA17); the tables record its version.
# testdata/classdesc/pack (Go) then stores each distinct class descriptor and each distinct table once,
# zstd-compressed, with an index mapping release -> table, and lists the releases covered (and those not)
# in codec/classes/classdesc/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/codec/classes/classdesc"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl"
M2="$CACHE/m2"
WORK="$CACHE/classdesc"
JAVA17=${JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64}
DEP_PLUGIN_VERSION=3.6.1
THREADS=${THREADS:-8}
source "$ROOT/testdata/spark/lib/prepare.sh" # spark_home, for the fallback in dump # Maven's downloads are latency-bound, not CPU-bound
mkdir -p "$WORK"
# Spark's POMs declare repositories of their own (a Google Cloud mirror among them) that this machine cannot
# reach; everything comes from Maven Central.
cat >"$WORK/settings.xml" <<'XML'
<settings><mirrors><mirror><id>central-only</id><mirrorOf>*</mirrorOf><url>https://repo.maven.apache.org/maven2</url></mirror></mirrors></settings>
XML
mvn_() { mvn -B -q -s "$WORK/settings.xml" -Dmaven.repo.local="$M2" "$@"; }

# releases: every X.Y.Z >= 2.4.0 (no previews) in the Maven metadata of spark-core_<scala>, one "X.Y.Z-scala"
# a line, and the releases of the captures (Central's spark-core_2.13 metadata lacks 4.0.5); a release Maven
# cannot resolve is dropped with a message and listed in the README as not covered.
releases() {
  local meta="$WORK/metadata"
  mkdir -p "$meta"
  local stamp="$meta/.fetched"
  if [[ ! -f $stamp || -n $(find "$stamp" -mtime +6) ]]; then
    {
      echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
      echo '<groupId>recoverctl</groupId><artifactId>spark-releases</artifactId><version>1</version><packaging>pom</packaging><dependencies>'
      for s in 2.11 2.12 2.13; do
        echo "<dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_$s</artifactId><version>[2.4.0,)</version><type>pom</type><exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>"
      done
      echo '</dependencies></project>'
    } >"$meta/pom.xml"
    # Resolving the ranges writes the metadata; what the tree goal does after that does not matter.
    mvn_ -U -f "$meta/pom.xml" "org.apache.maven.plugins:maven-dependency-plugin:$DEP_PLUGIN_VERSION:tree" >&2 || true
    for s in 2.11 2.12 2.13; do
      [[ -s $M2/org/apache/spark/spark-core_$s/maven-metadata-central.xml ]] || { echo "no Maven metadata for spark-core_$s" >&2; exit 1; }
    done
    touch "$stamp"
  fi
  {
    for s in 2.11 2.12 2.13; do
      sed -n 's/.*<version>\([0-9]*\.[0-9]*\.[0-9]*\)<\/version>.*/\1/p' \
        "$M2/org/apache/spark/spark-core_$s/maven-metadata-central.xml" | sed "s/\$/-$s/"
    done
    ls "$ROOT/testdata/spark" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+-2\.1[123]$'
  } | awk -F'[.-]' '$1 > 2 || ($1 == 2 && $2 >= 4)' | sort -u | sort -V
}

# The group:artifact pairs (any Scala suffix) whose jars the dump needs.
NEEDED_RE='^(org\.apache\.spark:spark-[a-z-]*_2\.1[123]|org\.scala-lang:scala-library|org\.json4s:json4s-ast_2\.1[123]|org\.slf4j:slf4j-api|org\.apache\.logging\.log4j:log4j-(api|core)|log4j:log4j)$'
gadget_libraries() {
  jq -r '.gadgets[].library | split(" ")[0] | select(test(":"))' "$ROOT/codec/classes/gadgets.json" | sort -u
}

# reactor DIR MODULE...: an aggregator POM over DIR/<module>/pom.xml, run with the goal given after "--".
reactor() {
  local dir=$1; shift
  local mods=()
  while (($#)) && [[ $1 != -- ]]; do mods+=("$1"); shift; done
  shift
  ((${#mods[@]})) || return 0
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>recoverctl</groupId><artifactId>reactor</artifactId><version>1</version><packaging>pom</packaging><modules>'
    printf '<module>%s</module>\n' "${mods[@]}"
    echo '</modules></project>'
  } >"$dir/pom.xml"
  # -fae: a release Maven cannot resolve must not stop the others.
  mvn_ -T "$THREADS" -fae -f "$dir/pom.xml" "$@" >&2 || true
}

plugin_xml() { # plugin_xml CONFIGURATION
  echo "<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>$DEP_PLUGIN_VERSION</version><configuration>$1</configuration></plugin></plugins></build>"
}

# 1. Dependency trees (POMs only). spark-core's parent (spark-parent) manages the versions of its own
# dependencies; not importing it as a BOM keeps a release Maven cannot resolve a failure of that module
# alone instead of the reactor's.
tree_poms() {
  local todo=()
  for vs in "$@"; do
    local ver=${vs%-*} scala=${vs#*-} d="$WORK/tree/$vs"
    [[ -s $d/tree.txt ]] && continue
    mkdir -p "$d"
    cat >"$d/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>recoverctl</groupId><artifactId>tree-$vs</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_$scala</artifactId><version>$ver</version></dependency></dependencies>
$(plugin_xml '<outputFile>${project.basedir}/tree.txt</outputFile><outputType>text</outputType><scope>runtime</scope>')
</project>
EOF
    todo+=("$vs")
  done
  reactor "$WORK/tree" "${todo[@]}" -- dependency:tree
}

# 2. The needed jars, each without its own dependencies.
jar_poms() {
  local gadgets todo=()
  gadgets=$(gadget_libraries | paste -sd'|' | sed 's/\./\\./g')
  for vs in "$@"; do
    local d="$WORK/jars/$vs" tree="$WORK/tree/$vs/tree.txt"
    [[ -s $tree ]] || continue
    [[ -f $d/.ready ]] && continue
    mkdir -p "$d"
    {
      echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
      echo "<groupId>recoverctl</groupId><artifactId>jars-$vs</artifactId><version>1</version><packaging>pom</packaging><dependencies>"
      grep -oE '[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:jar:[^:]+:(compile|runtime)' "$tree" | sort -u |
        while IFS=: read -r g a _ v _; do
          if [[ $g:$a =~ $NEEDED_RE ]] || [[ $g:$a =~ ^($gadgets)$ ]]; then
            echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version><exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>"
          fi
        done
      echo '</dependencies>'
      plugin_xml '<outputFile>${project.basedir}/classpath.txt</outputFile>'
      echo '</project>'
    } >"$d/pom.xml"
    todo+=("$vs")
  done
  # The class path of the jars where Maven keeps them: no copy.
  reactor "$WORK/jars" "${todo[@]}" -- dependency:build-classpath
  for vs in "${todo[@]}"; do
    local d="$WORK/jars/$vs"
    grep -q 'spark-core_' "$d/classpath.txt" 2>/dev/null && touch "$d/.ready"
  done
  return 0
}

# 3. The dumps.
dump() { # dump VS FORCE
  local vs=$1 force=$2 ver=${1%-*} scala=${1#*-} out="$WORK/dump/$1.json"
  [[ $force == 0 && -s $out ]] && return 0
  local cp home
  if [[ -f $WORK/jars/$vs/.ready ]]; then
    cp=$(<"$WORK/jars/$vs/classpath.txt")
  else
    # Central lacks some artifacts of a few releases (spark-parent_2.13 4.0.5 and 4.3.0 here); for a release
    # the captures were made with, the full distribution testdata/spark/generate.sh uses (pyspark) serves.
    if [[ -d $ROOT/testdata/spark/$vs ]] && home=$(spark_home "$ver" "$scala"); then
      cp="$home/jars/*"
      echo "$vs: not resolvable from Maven Central; using the distribution in $home" >&2
    else
      echo "$vs: not resolvable from Maven Central, skipped" >&2
      return 0
    fi
  fi
  mkdir -p "$WORK/dump"
  "$JAVA17/bin/java" -cp "$BUILD:$cp" ClassDescGen "$ver" "$scala" "$HERE/seeds.txt" "$BUILD/probes.txt" "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$vs: $(grep -c '"name"' "$out") classes" >&2
}

mapfile -t ALL < <(releases)
FORCE=0
TARGETS=("${ALL[@]}")
if (($#)); then TARGETS=("$@") FORCE=1; fi
echo "classdesc: ${#ALL[@]} candidate releases, dumping ${#TARGETS[@]}" >&2

BUILD=$(mktemp -d /tmp/recoverctl-classdesc.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
"$JAVA17/bin/javac" --release 17 -d "$BUILD" "$HERE/gen/ClassDescGen.java"
jq -r '.gadgets[] | (.probe // .pattern) | select(test("[*]") | not)' "$ROOT/codec/classes/gadgets.json" | sort -u >"$BUILD/probes.txt"

tree_poms "${TARGETS[@]}"
jar_poms "${TARGETS[@]}"
for vs in "${TARGETS[@]}"; do dump "$vs" "$FORCE"; done

# 4. Pack every cached dump (not only this run's) into the committed tables; the releases Central listed but
# that have no dump are recorded as not covered.
SKIPPED=()
for vs in "${ALL[@]}"; do [[ -s $WORK/dump/$vs.json ]] || SKIPPED+=("$vs"); done
(cd "$ROOT" && go run ./testdata/classdesc/pack -dumps "$WORK/dump" -out "$OUT" -skipped "${SKIPPED[*]}")
