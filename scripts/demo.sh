#!/usr/bin/env bash
# The README's "run" command: builds ecardd (installing libpcsclite-dev, which the
# pcsc crate links against, when it is missing) and runs the no-hardware demo.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg-query -W -f='${Status}' libpcsclite-dev 2>/dev/null | grep -q "install ok installed"; then
    SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpcsclite-dev pkgconf
fi
exec cargo run --release -p ecardd -- demo "$@"
