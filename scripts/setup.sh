#!/usr/bin/env bash
# Installs what recoverctl's tests need on a fresh Debian machine and is a
# no-op where it is all present: a JDK, Debian's ZooKeeper server, Go's
# linters. Run as root (or with sudo available) the first time.
set -euo pipefail

need_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		need_root apt-get update -qq
		apt_updated=1
	fi
	need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v go >/dev/null || { echo "setup: Go is required (https://go.dev/doc/install)" >&2; exit 1; }
# javac too: the end-to-end tests compile a tiny Spark application.
command -v javac >/dev/null || apt_install openjdk-17-jdk-headless
[ -f /usr/share/java/zookeeper.jar ] || apt_install zookeeper
# zookeeper.jar does not list netty-codec, which its TLS (Netty) server needs.
[ -f /usr/share/java/netty-codec.jar ] || apt_install libnetty-java
command -v openssl >/dev/null || apt_install openssl
command -v curl >/dev/null || apt_install curl

command -v pip >/dev/null || command -v pip3 >/dev/null || apt_install python3-pip
command -v mvn >/dev/null || apt_install maven

# ZooKeeper 3.5, from before multiRead, for the tests of the getData
# fallback (internal/zktest.OldRelease): its two jars from Maven Central,
# checked against Maven Central's SHA-1, cached.
zk_old=3.5.10
zk_old_dir="${XDG_CACHE_HOME:-$HOME/.cache}/recoverctl/zookeeper-$zk_old"
for artifact in zookeeper zookeeper-jute; do
	jar="$zk_old_dir/$artifact-$zk_old.jar"
	[ -f "$jar" ] && continue
	mkdir -p "$zk_old_dir"
	url="https://repo1.maven.org/maven2/org/apache/zookeeper/$artifact/$zk_old/$artifact-$zk_old.jar"
	curl -fsSL --retry 3 -o "$jar.part" "$url"
	want=$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40)
	got=$(sha1sum "$jar.part" | cut -c1-40)
	[ "$want" = "$got" ] || { echo "setup: $url: SHA-1 $got, Maven Central says $want" >&2; exit 1; }
	mv "$jar.part" "$jar"
done

# Real Spark for the end-to-end tests (jars from PyPI's pyspark, cached).
"$(dirname "$0")/setup-spark.sh"

gobin="$(go env GOPATH)/bin"
[ -x "$gobin/staticcheck" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
echo "setup: java $(java -version 2>&1 | head -1 | cut -d'"' -f2), zookeeper $(ls /usr/share/java/zookeeper-3*.jar | head -1 | xargs basename) and $zk_old, staticcheck $("$gobin/staticcheck" -version | cut -d' ' -f2-)"
