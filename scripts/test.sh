#!/usr/bin/env bash
# Runs every test of bucketcors, from a fresh clone or again and again.
#
# It installs what the tests need when it is missing (MinIO, built from the Go
# module proxy; Debian's chromium, awscli, s3cmd, nodejs and npm), bundles the
# AWS SDK for JavaScript and Uppy for the browser (npm ci and esbuild, from
# integration/jsclient's lock file), builds Caddy with this checkout through
# xcaddy, and runs `go test -race ./...`, whose integration tests start their
# own MinIO and Caddy servers on free loopback ports.
#
# Installed programs are kept in $BUCKETCORS_TOOLS (default
# ~/.cache/bucketcors/bin), so later runs reuse them; so are the npm
# packages, under jsclient-<hash of the lock file>.
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
	[[ -x /usr/bin/s3cmd ]] || missing+=(s3cmd)
	command -v npm >/dev/null || missing+=(nodejs npm)
	if ((${#missing[@]} == 0)); then
		return
	fi
	step "installing Debian packages: ${missing[*]}"
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The AWS SDK for JavaScript and Uppy, installed with npm ci from the lock file into
# the tools directory (keyed by the lock file's hash, so a changed lock
# installs afresh and an unchanged one costs nothing), and bundled with the
# esbuild of that lock file into one script for the browser tests.
build_js_bundle() {
	local src=integration/jsclient
	local hash
	hash=$(sha256sum "$src/package-lock.json" | cut -c1-16)
	local deps="$TOOLS/jsclient-$hash"
	if [[ ! -e "$deps/installed" ]]; then
		step "installing the AWS SDK for JavaScript and Uppy (npm ci, once per lock file)"
		rm -rf "$deps"
		mkdir -p "$deps"
		cp "$src/package.json" "$src/package-lock.json" "$deps/"
		local start=$SECONDS
		# No install scripts: esbuild runs from its platform package without
		# its postinstall.
		(cd "$deps" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
		step "npm ci took $((SECONDS - start))s"
		touch "$deps/installed"
	fi
	step "bundling it with esbuild"
	JS_BUNDLE="$PWD/.build/jsclient/sdk.js"
	NODE_PATH="$deps/node_modules" "$deps/node_modules/.bin/esbuild" "$src/sdk.js" \
		--bundle --format=iife --global-name=bucketcorsSDK --platform=browser --target=chrome120 \
		--outfile="$JS_BUNDLE" --log-level=warning
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

# The MinIO build is CPU-bound, and the Debian, npm and Go module downloads
# mostly wait on the network: they run side by side. The modules downloaded
# here serve the Caddy build and the tests.
install_minio &
minio_pid=$!
go mod download &
modules_pid=$!
install_debian_packages
build_js_bundle
wait "$modules_pid"
wait "$minio_pid"
build_caddy

export BUCKETCORS_MINIO="$TOOLS/minio"
export BUCKETCORS_CADDY="$CADDY_BIN"
export BUCKETCORS_CHROMIUM=/usr/bin/chromium
export BUCKETCORS_AWS=/usr/bin/aws
export BUCKETCORS_S3CMD=/usr/bin/s3cmd
export BUCKETCORS_JS_BUNDLE="$JS_BUNDLE"
# Every integration test must run: a missing program fails the run instead of
# skipping the tests that need it.
export BUCKETCORS_REQUIRE_INTEGRATION=1

step "gofmt and go vet"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	printf 'not gofmt-formatted:\n%s\n' "$unformatted"
	exit 1
fi
# -race, as the tests build: vet then compiles every package the way the
# tests need it, which leaves the tests only their own binaries to build
# (about 4 minutes less from an empty build cache on 2 cores).
go vet -race ./...

step "go test -race ./..."
go test -race -count=1 -timeout 15m "$@" ./...
