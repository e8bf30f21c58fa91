#!/usr/bin/env bash
# Builds the Debian packages of the station (ecardd) and the registry
# (ecard-registry) into target/debian/: one cargo build of both binaries with the
# `packaging` profile (release without debug info or LTO, Cargo.toml), their man
# pages and shell completions made by the built binaries, then `cargo deb
# --no-build` for each. Needs cargo-deb (`cargo install cargo-deb --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=packaging
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
ASSETS="$TARGET_DIR/packaging-assets"

# --no-default-features: the station without the demo's simulated cards (the
# registry has no default features). Both in one build: shared dependencies once.
cargo build --locked --profile "$PROFILE" -p ecardd -p ecard-registry --no-default-features

for bin in ecardd ecard-registry; do
    exe="$TARGET_DIR/$PROFILE/$bin"
    rm -rf "${ASSETS:?}/$bin"
    mkdir -p "$ASSETS/$bin/man" "$ASSETS/$bin/completions"
    "$exe" man --out-dir "$ASSETS/$bin/man"
    # Debian wants compressed manual pages, reproducibly (-n: no name or time).
    gzip -9n "$ASSETS/$bin/man"/*.1
    "$exe" completions bash > "$ASSETS/$bin/completions/$bin"
    "$exe" completions zsh > "$ASSETS/$bin/completions/_$bin"
    "$exe" completions fish > "$ASSETS/$bin/completions/$bin.fish"
done

rm -f "$TARGET_DIR"/debian/ecardd_*.deb "$TARGET_DIR"/debian/ecard-registry_*.deb
for pkg in ecardd ecard-registry; do
    cargo deb --no-build --profile "$PROFILE" -p "$pkg" --output "$TARGET_DIR/debian/"
done
ls -l "$TARGET_DIR"/debian/*.deb
