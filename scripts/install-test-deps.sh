#!/usr/bin/env bash
# Installs the PC/SC stack the tests need (pcscd + vpcd virtual reader, headers for
# the pcsc crate, OpenSC as a third-party peer) and chromium + chromedriver for the
# web UI's browser tests, npm for the axe-core accessibility engine those tests run
# (scripts/install-axe-core.sh, at the end), and faketime (libfaketime) for the
# moved-clock run, jq + curl for the tested walk of docs/OPERATIONS.md §0, and
# python3-cryptography + python3-cbor2 for the independent seal checker (card-seal),
# poppler-utils + zbar-tools to read the printed card face back (card-face),
# cups + cups-client + cups-bsd + printer-driver-cups-pdf for the printing tests
# (a cupsd of the test's own with a cups-pdf queue, test-support/src/cups.rs), and
# openssl for the SM2/SM3 cross-checks (card-profile/tests/suite_openssl.rs) and the
# PIV chain's X.509/CMS checks (card-profile/tests/x509_openssl.rs).
# Skips apt entirely when everything is present, so local runs stay fast. Used by
# .ci/run and scripts/test.sh.
set -euo pipefail

# chromium + chromium-driver: the web UI's browser tests (ui-tests/); a small CJK font
# so that the screenshots they save show the Chinese text.
PACKAGES=(pcscd libpcsclite-dev pkgconf vsmartcard-vpcd pcsc-tools opensc
    chromium chromium-driver fonts-wqy-microhei faketime
    jq curl python3-cryptography python3-cbor2 poppler-utils zbar-tools
    cups cups-client cups-bsd printer-driver-cups-pdf)
# openssl: the third-party check of the 国密 suite (SM2/SM3 cross-checks, #17) and of
# the PIV family's X.509 chain and CHUID signature (#13).
PACKAGES+=(openssl)
# postgresql: the registry's tests on its PostgreSQL back end (#15), in a throwaway
# cluster of their own (scripts/postgres-cluster.sh, scripts/test-registry-postgres.sh).
PACKAGES+=(postgresql)
# yubico-piv-tool: the third-party checks of the PIV card family (#13): it sets up
# and reads a PIV card through pcscd (hardware-tests/tests/piv_third_party.rs).
PACKAGES+=(yubico-piv-tool)

# vpcd listens on 35963 and 35964, inside Linux's ephemeral port range: an outgoing
# connection (a browser's, a registry client's) that happened to get one of them as
# its local port blocks vpcd's bind while it lingers (TIME_WAIT: a minute), and
# pcscd then lists no virtual reader ("Address already in use" in pcscd's log; seen
# on CI). Reserving the two ports keeps them out of the ephemeral range.
if [[ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null)" != *35963* ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        sysctl -q -w net.ipv4.ip_local_reserved_ports=35963-35964 \
            || echo "warning: cannot reserve vpcd's ports 35963-35964" >&2
    else
        sudo sysctl -q -w net.ipv4.ip_local_reserved_ports=35963-35964 \
            || echo "warning: cannot reserve vpcd's ports 35963-35964" >&2
    fi
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

# npm may come from elsewhere than apt (nodesource, nvm): any npm in PATH will do.
if ! command -v npm >/dev/null; then
    missing+=(npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exec "$(dirname "$0")/install-axe-core.sh"
fi

echo "installing test dependencies: ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
fi
"${SUDO[@]}" apt-get update
# --no-install-recommends: pcsc-tools would otherwise pull in GTK.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
# Without systemd, pcscd's postinst starts it through its init script (before
# vsmartcard-vpcd is configured, so with no virtual readers). The tests must own
# their pcscd: a daemon left from install time either lists no vpcd reader or
# holds vpcd's ports so that the tests' own pcscd cannot bind them (seen on CI:
# "reader not listed (have [])" for a minute). Stop it when this run installed it.
if [[ " ${missing[*]} " == *" pcscd "* ]] && [[ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]] \
    && [[ -x /etc/init.d/pcscd ]]; then
    "${SUDO[@]}" /etc/init.d/pcscd stop || true
fi
# The same for cups: the printing tests start their own cupsd on a socket of their
# own (no clash), but a system cupsd left from install time serves nobody here.
if [[ " ${missing[*]} " == *" cups "* ]] && [[ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]] \
    && [[ -x /etc/init.d/cups ]]; then
    "${SUDO[@]}" /etc/init.d/cups stop || true
fi
# And PostgreSQL: the package makes and starts a cluster "main"; the tests run
# their own and leave no server running.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [[ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]] \
    && [[ -x /etc/init.d/postgresql ]]; then
    "${SUDO[@]}" /etc/init.d/postgresql stop || true
fi
exec "$(dirname "$0")/install-axe-core.sh"
