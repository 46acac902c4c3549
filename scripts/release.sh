#!/usr/bin/env bash
# Builds recoverctl's release archives with the Go toolchain alone:
#
#   scripts/release.sh [--version v1.2.3] [--platforms "linux/amd64 ..."] [--out dist]
#
# For each platform (default linux/amd64 linux/arm64 darwin/arm64) a static
# binary (CGO_ENABLED=0, -trimpath) stamped with the release version, the
# commit and its date, packed with its man pages, bash/zsh/fish completions,
# README and software bill of materials into
# dist/recoverctl_<version>_<os>_<arch>.tar.gz; beside the archives each
# bill of materials (`go version -m`: every module compiled in, with its
# go.sum hash, and the build settings) and SHA256SUMS over all of them.
# Archives are reproducible: built twice from one commit, they are the
# same bytes (file times are the commit's, owners are root, gzip keeps no
# name or time).
#
# --version defaults to `git describe --tags --always --dirty`. The commit
# is the checkout's HEAD; --commit and --date name them where there is no
# git (a source tarball).
set -euo pipefail
cd "$(dirname "$0")/.."

version="" commit="" date="" out="dist"
platforms="linux/amd64 linux/arm64 darwin/arm64"
while [ $# -gt 0 ]; do
	case "$1" in
	--version) version="$2"; shift 2 ;;
	--commit) commit="$2"; shift 2 ;;
	--date) date="$2"; shift 2 ;;
	--platforms) platforms="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	*) echo "release: unknown argument $1" >&2; exit 2 ;;
	esac
done

if [ -z "$commit" ]; then
	commit=$(git rev-parse HEAD) || { echo "release: not a git checkout: give --commit and --date" >&2; exit 1; }
fi
if [ -z "$date" ]; then
	date=$(TZ=UTC git show -s --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ "$commit")
fi
if [ -z "$version" ]; then
	version=$(git describe --tags --always --dirty 2>/dev/null || echo "${commit:0:12}")
fi
if [ -n "$(git status --porcelain 2>/dev/null || true)" ]; then
	echo "release: warning: the checkout has uncommitted changes; the binaries say so (modified)" >&2
fi
epoch=$(date -u -d "$date" +%s)

ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.commitDate=$date"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Man pages and completions, from the commands themselves (cobra), by a
# host build with the gendocs tag; the same for every platform.
go run -tags gendocs -ldflags "$ldflags" ./cmd/recoverctl gen-docs \
	--man "$work/share/man/man1" --completions "$work/share/completions" --date "$date"

sums=()
for platform in $platforms; do
	goos=${platform%/*} goarch=${platform#*/}
	name="recoverctl_${version}_${goos}_${goarch}"
	stage="$work/$name"
	mkdir -p "$stage"
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=auto -ldflags "$ldflags" \
		-o "$stage/recoverctl" ./cmd/recoverctl
	(cd "$stage" && go version -m recoverctl) >"$stage/SBOM.txt"
	cp "$stage/SBOM.txt" "$out/$name.sbom.txt"
	cp README.md "$stage/"
	cp -R "$work/share/man" "$work/share/completions" "$stage/"
	find "$stage" -exec touch -h -d "@$epoch" {} +
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
		-C "$work" -cf - "$name" | gzip -9 -n >"$out/$name.tar.gz"
	sums+=("$name.tar.gz" "$name.sbom.txt")
	echo "release: $out/$name.tar.gz"
done
(cd "$out" && sha256sum "${sums[@]}" >SHA256SUMS)
echo "release: $out/SHA256SUMS ($version, commit $commit, $date)"
