#!/usr/bin/env bash
# Runs every test of bucketcors, from a fresh clone or again and again.
#
# It installs what the tests need when it is missing (MinIO, built from the Go
# module proxy; Debian's chromium and awscli), builds Caddy with this checkout
# through xcaddy, and runs `go test -race ./...`, whose integration tests start
# their own MinIO and Caddy servers on free loopback ports.
#
# Installed programs are kept in $BUCKETCORS_TOOLS (default
# ~/.cache/bucketcors/bin), so later runs reuse them.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
XCADDY_VERSION=v0.4.5
CADDY_VERSION=v2.11.9

TOOLS="${BUCKETCORS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/bucketcors/bin}"
mkdir -p "$TOOLS"

step() { printf '==> %s\n' "$*"; }

install_minio() {
	local stamp="$TOOLS/minio.$MINIO_VERSION"
	if [[ -x "$TOOLS/minio" && -e "$stamp" ]]; then
		return
	fi
	step "building MinIO $MINIO_VERSION (a few minutes, once)"
	GOBIN="$TOOLS" go install "github.com/minio/minio@$MINIO_VERSION"
	touch "$stamp"
}

install_debian_packages() {
	local missing=()
	[[ -x /usr/bin/chromium ]] || missing+=(chromium)
	[[ -x /usr/bin/aws ]] || missing+=(awscli)
	if ((${#missing[@]} == 0)); then
		return
	fi
	step "installing Debian packages: ${missing[*]}"
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_caddy() {
	if [[ ! -x "$TOOLS/xcaddy" ]]; then
		step "installing xcaddy $XCADDY_VERSION"
		GOBIN="$TOOLS" go install "github.com/caddyserver/xcaddy/cmd/xcaddy@$XCADDY_VERSION"
	fi
	step "building Caddy $CADDY_VERSION with this checkout"
	CADDY_BIN="$PWD/.build/caddy"
	mkdir -p .build
	XCADDY_SKIP_CLEANUP=0 "$TOOLS/xcaddy" build "$CADDY_VERSION" \
		--output "$CADDY_BIN" \
		--with "github.com/bucketcors/bucketcors@v0.0.0=$PWD" >.build/xcaddy.log 2>&1 ||
		{ cat .build/xcaddy.log; exit 1; }
}

# The MinIO build is CPU-bound and the Debian packages mostly download:
# they run side by side.
install_minio &
minio_pid=$!
install_debian_packages
wait "$minio_pid"
build_caddy

export BUCKETCORS_MINIO="$TOOLS/minio"
export BUCKETCORS_CADDY="$CADDY_BIN"
export BUCKETCORS_CHROMIUM=/usr/bin/chromium
export BUCKETCORS_AWS=/usr/bin/aws
# Every integration test must run: a missing program fails the run instead of
# skipping the tests that need it.
export BUCKETCORS_REQUIRE_INTEGRATION=1

step "gofmt and go vet"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	printf 'not gofmt-formatted:\n%s\n' "$unformatted"
	exit 1
fi
go vet ./...

step "go test -race ./..."
go test -race -count=1 -timeout 15m "$@" ./...
