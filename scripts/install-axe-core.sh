#!/usr/bin/env bash
# axe-core (Deque's accessibility rules engine, from npm) for the web UI's browser
# test: ui-tests injects node_modules/axe-core/axe.min.js into every page and fails
# on any violation. Installed once into a cache directory (default target/axe-core,
# or $AXE_CORE_DIR); later runs find it there and need no network. Used by
# scripts/install-test-deps.sh (so .ci/run and scripts/test.sh install it).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: a newer axe-core may add rules, and the test's verdict should change only
# when this line does.
VERSION=4.10.3
DIR=${AXE_CORE_DIR:-target/axe-core}
JS="$DIR/node_modules/axe-core/axe.min.js"
PKG="$DIR/node_modules/axe-core/package.json"

if [[ -f "$JS" ]] && grep -q "\"version\": \"$VERSION\"" "$PKG" 2>/dev/null; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "npm is missing: install the Debian package npm (scripts/install-test-deps.sh does)" >&2
    exit 1
fi
echo "installing axe-core $VERSION into $DIR" >&2
mkdir -p "$DIR"
npm install --prefix "$DIR" --no-save --no-package-lock --ignore-scripts "axe-core@$VERSION"
test -f "$JS"
