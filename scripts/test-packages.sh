#!/usr/bin/env bash
# The Debian packages as an administrator meets them (issue 18; docs/OPERATIONS.md
# "Installing from the packages"): builds them, runs lintian, installs each with
# apt-get on THIS machine (run as root on a test machine), checks the user, modes,
# files and conffiles, `systemd-analyze verify`s the installed unit, runs the
# installed binary as the service user with the unit's environment and command
# line (there is no running systemd here, so not via systemctl), asks it for its
# health and runs its doctor, then removes and purges the package and checks what
# remains: the data always, never silently deleted.
# SKIP_BUILD=1 uses the packages already in target/debian.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-packages: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
# expect_stat PATH OWNER:GROUP MODE
expect_stat() {
    local got
    got=$(stat -c '%U:%G %a' "$1") || fail "$1 missing"
    [[ "$got" == "$2 $3" ]] || fail "$1 is $got, expected $2 $3"
}
expect_file() { [[ -e "$1" ]] || fail "$1 missing"; }
expect_gone() { [[ ! -e "$1" ]] || fail "$1 still there"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ $(id -u) -ne 0 ]]; then
    fail "run as root on a test machine: it installs and purges packages"
fi
need=()
for pkg in lintian systemd dpkg-dev jq curl; do
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == "install ok installed" ]] || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
if ! command -v cargo-deb >/dev/null; then
    cargo install cargo-deb --locked
fi

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
if [[ -z "${SKIP_BUILD:-}" ]]; then
    start=$SECONDS
    scripts/build-packages.sh
    say "packages built in $((SECONDS - start)) s"
fi
STATION_DEB=$(ls "$TARGET_DIR"/debian/ecardd_*.deb)
REGISTRY_DEB=$(ls "$TARGET_DIR"/debian/ecard-registry_*.deb)

say "lintian"
lintian --fail-on error "$STATION_DEB" "$REGISTRY_DEB"

# The sandbox (everything from "# Privileges" on, without comments) must be the
# same in the source install's unit and both packaged ones.
sandbox() { sed -n '/^# Privileges/,$p' "$1" | grep -v '^#' | grep -v '^$'; }
diff <(sandbox udev/ecardd.service) <(sandbox packaging/ecardd/ecardd.service) \
    || fail "udev/ecardd.service and the packaged unit have different sandboxes"
diff <(sandbox packaging/ecardd/ecardd.service) <(sandbox packaging/ecard-registry/ecard-registry.service) \
    || fail "the station's and the registry's units have different sandboxes"

# A previous run that failed half-way: start clean (only what this test made).
for pkg in ecardd ecard-registry; do
    if dpkg-query -W "$pkg" >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y "$pkg" >/dev/null
    fi
done
for d in /var/lib/ecard /var/lib/ecard-registry /etc/ecard /etc/ecard-registry; do
    if [[ -e "$d/.ecard-package-test" ]]; then rm -rf "$d"; fi
    [[ ! -e "$d" ]] || fail "$d exists and was not made by this test: run on a test machine"
done

# run_as_service UNIT USER PORT_VAR PORT: the unit's ExecStart, as its user, with
# its Environment= and EnvironmentFile= (the file's values win, as in systemd),
# UMask and WorkingDirectory, the listen address moved to a free port. Prints the PID.
run_as_service() {
    local unit=$1 user=$2 port_var=$3 port=$4 log=$5
    local exec_line env_file
    exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
    env_file=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
    (
        umask "$(sed -n 's/^UMask=//p' "$unit")"
        cd "$(sed -n 's/^WorkingDirectory=//p' "$unit")"
        env_args=()
        while read -r kv; do env_args+=("$kv"); done < <(sed -n 's/^Environment=//p' "$unit")
        while read -r kv; do
            [[ -z "$kv" || "$kv" == \#* ]] || env_args+=("$kv")
        done < "$env_file"
        env_args+=("$port_var=127.0.0.1:$port" "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
        # systemd's ${VAR} and $VAR substitution, done by the shell from those values.
        for kv in "${env_args[@]}"; do export "${kv?}"; done
        eval "cmd=($exec_line)"
        # shellcheck disable=SC2154 # cmd is set by the eval above
        exec setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
            env -i "${env_args[@]}" "${cmd[@]}" > "$log" 2>&1
    ) &
    echo $!
}

wait_for() { # wait_for URL CURL-ARGS...: up to 30 s
    local url=$1; shift
    for _ in $(seq 150); do
        if curl -sf "$@" "$url" > /dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}

################################ the station ################################
say "install ecardd"
DEBIAN_FRONTEND=noninteractive apt-get install -y "$STATION_DEB"
install -o ecard -g ecard -m 0600 /dev/null /var/lib/ecard/.ecard-package-test

getent passwd ecard | grep -q ':/var/lib/ecard:/usr/sbin/nologin$' || fail "user ecard: $(getent passwd ecard)"
[[ $(id -u ecard) -lt 1000 ]] || fail "ecard is not a system user"
getent group ecard > /dev/null || fail "no group ecard"
expect_stat /usr/bin/ecardd root:root 755
expect_stat /etc/ecard root:ecard 750
expect_stat /etc/ecard/ecardd.env root:ecard 640
expect_stat /var/lib/ecard ecard:ecard 700
expect_stat /lib/systemd/system/ecardd.service root:root 644
expect_stat /lib/udev/rules.d/60-ecard-ccid.rules root:root 644
expect_stat /usr/share/polkit-1/rules.d/50-ecard-pcscd.rules root:root 644
for f in /usr/share/man/man1/ecardd.1.gz /usr/share/man/man1/ecardd-doctor.1.gz \
    /usr/share/bash-completion/completions/ecardd /usr/share/zsh/vendor-completions/_ecardd \
    /usr/share/fish/vendor_completions.d/ecardd.fish /usr/share/doc/ecardd/examples/passphrase.conf; do
    expect_file "$f"
done
zcat /usr/share/man/man1/ecardd-doctor.1.gz | grep -q '^\.TH ecardd-doctor 1' || fail "ecardd-doctor.1 is not a man page"
dpkg-query -W -f='${Conffiles}\n' ecardd | grep -q '^ /etc/ecard/ecardd.env ' || fail "ecardd.env is not a conffile"
depends=$(dpkg-query -W -f='${Depends}' ecardd)
for dep in pcscd libpcsclite1; do
    [[ ",$depends," == *", $dep"[,\ ]* || ",$depends," == *",$dep"[,\ ]* ]] || fail "Depends lacks $dep: $depends"
done
grep -q demo_not_built <<<"$(ecardd demo 2>&1 || true)" || fail "the packaged ecardd has the demo built in"

say "systemd-analyze verify ecardd.service"
systemd-analyze verify /lib/systemd/system/ecardd.service

say "run the installed ecardd as ecard with the unit's environment"
PORT=$(free_port)
LOG=$(mktemp)
PID=$(run_as_service /lib/systemd/system/ecardd.service ecard ECARDD_LISTEN "$PORT" "$LOG")
trap 'kill "$PID" 2>/dev/null || true' EXIT
wait_for "http://127.0.0.1:$PORT/api/v1/health" || { cat "$LOG" >&2; fail "no /api/v1/health answer"; }
[[ $(curl -sf "http://127.0.0.1:$PORT/api/v1/health" | jq -r .status) == ok ]] || fail "health is not ok"
[[ $(stat -c %U /proc/"$(pgrep -P "$PID" -x ecardd || echo "$PID")") == ecard ]] || fail "ecardd does not run as ecard"
expect_stat /var/lib/ecard/ecard.db ecard:ecard 600

say "ecardd doctor as ecard"
set +e
doctor=$(runuser -u ecard -- ecardd doctor --db /var/lib/ecard/ecard.db --offline --json)
rc=$?
set -e
echo "$doctor" | jq -r '.findings[] | "\(.level)\t\(.code)"' >&2
for code in database_ok audit_ok keys_not_initialised registry_not_enrolled; do
    echo "$doctor" | jq -e --arg c "$code" 'any(.findings[]; .code == $c)' > /dev/null \
        || fail "doctor does not report $code"
done
expected=$(echo "$doctor" | jq -r '{"ok": 0, "warning": 7, "fault": 8}[.worst]')
[[ $rc -eq $expected ]] || fail "doctor exited $rc for worst $(echo "$doctor" | jq -r .worst)"
# Root asking about ecard's database must not leave root-owned files beside it.
set +e
runuser -u root -- ecardd doctor --db /var/lib/ecard/ecard.db --offline --json > /dev/null
set -e
[[ -z $(find /var/lib/ecard ! -user ecard) ]] || fail "files not owned by ecard in /var/lib/ecard: $(find /var/lib/ecard ! -user ecard)"
kill "$PID"; wait "$PID" 2>/dev/null || true
trap - EXIT

say "remove ecardd: the program goes, configuration and data stay"
DEBIAN_FRONTEND=noninteractive apt-get remove -y ecardd
expect_gone /usr/bin/ecardd
expect_gone /lib/systemd/system/ecardd.service
expect_file /etc/ecard/ecardd.env
expect_stat /var/lib/ecard/ecard.db ecard:ecard 600
getent passwd ecard > /dev/null || fail "remove deleted the user"

say "purge ecardd: the configuration goes, the records stay and purge says so"
echo 'a passphrase kept in the safe too' > /etc/ecard/passphrase
echo '{}' > /etc/ecard/province.json
out=$(DEBIAN_FRONTEND=noninteractive apt-get purge -y ecardd 2>&1)
echo "$out" >&2
grep -q 'NOT deleted: /var/lib/ecard' <<<"$out" || fail "purge does not say it keeps the records"
expect_gone /etc/ecard/ecardd.env
expect_gone /etc/ecard/province.json
expect_file /etc/ecard/passphrase
expect_stat /var/lib/ecard/ecard.db ecard:ecard 600
getent passwd ecard > /dev/null || fail "purge deleted the user who owns the records"
[[ -z $(dpkg-statoverride --list /etc/ecard) ]] || fail "purge left a statoverride"
dpkg-query -W -f='${Status}' ecardd 2>/dev/null | grep -q 'not-installed' || ! dpkg-query -W ecardd > /dev/null 2>&1 \
    || fail "ecardd still known to dpkg"
# What the purge message tells the administrator to do, done.
rm -r /var/lib/ecard /etc/ecard
deluser --system --quiet ecard

################################ the registry ###############################
say "install ecard-registry"
DEBIAN_FRONTEND=noninteractive apt-get install -y "$REGISTRY_DEB"
install -o ecard-registry -g ecard-registry -m 0600 /dev/null /var/lib/ecard-registry/.ecard-package-test
getent passwd ecard-registry | grep -q ':/var/lib/ecard-registry:/usr/sbin/nologin$' \
    || fail "user ecard-registry: $(getent passwd ecard-registry)"
expect_stat /usr/bin/ecard-registry root:root 755
expect_stat /etc/ecard-registry root:ecard-registry 750
expect_stat /etc/ecard-registry/ecard-registry.env root:ecard-registry 640
expect_stat /var/lib/ecard-registry ecard-registry:ecard-registry 700
expect_stat /lib/systemd/system/ecard-registry.service root:root 644
expect_file /usr/share/man/man1/ecard-registry-doctor.1.gz
expect_file /usr/share/bash-completion/completions/ecard-registry
dpkg-query -W -f='${Conffiles}\n' ecard-registry | grep -q '^ /etc/ecard-registry/ecard-registry.env ' \
    || fail "ecard-registry.env is not a conffile"

say "systemd-analyze verify ecard-registry.service"
systemd-analyze verify /lib/systemd/system/ecard-registry.service

say "run the installed ecard-registry as ecard-registry with the unit's environment"
PORT=$(free_port)
LOG=$(mktemp)
PID=$(run_as_service /lib/systemd/system/ecard-registry.service ecard-registry ECARD_REGISTRY_LISTEN "$PORT" "$LOG")
trap 'kill "$PID" 2>/dev/null || true' EXIT
wait_for "https://127.0.0.1:$PORT/healthz" -k || { cat "$LOG" >&2; fail "no /healthz answer"; }
# The certificate it made is the one it serves: pin it, as a station does.
expect_stat /var/lib/ecard-registry/registry.tls.key ecard-registry:ecard-registry 600
expect_stat /var/lib/ecard-registry/list-key.p8 ecard-registry:ecard-registry 600
curl -sf --cacert /var/lib/ecard-registry/registry.tls.crt "https://localhost:$PORT/healthz" > /dev/null \
    || fail "the served certificate is not the one on disk"
grep -q '^<[0-7]>' "$LOG" || { cat "$LOG" >&2; fail "the log lines carry no syslog priority for journald"; }

say "ecard-registry doctor as ecard-registry"
set +e
doctor=$(runuser -u ecard-registry -- ecard-registry doctor --listen "127.0.0.1:$PORT" --json)
rc=$?
set -e
echo "$doctor" | jq -r '.findings[] | "\(.level)\t\(.code)"' >&2
for code in database_ok signing_key_ok tls_ok clock_ok listening_ok trust_list_missing; do
    echo "$doctor" | jq -e --arg c "$code" 'any(.findings[]; .code == $c)' > /dev/null \
        || fail "registry doctor does not report $code"
done
[[ $rc -eq 7 ]] || fail "registry doctor exited $rc, expected 7 (no trust list yet: a warning)"
kill "$PID"; wait "$PID" 2>/dev/null || true
trap - EXIT

say "remove and purge ecard-registry"
DEBIAN_FRONTEND=noninteractive apt-get remove -y ecard-registry
expect_gone /usr/bin/ecard-registry
expect_file /etc/ecard-registry/ecard-registry.env
expect_file /var/lib/ecard-registry/registry.db
out=$(DEBIAN_FRONTEND=noninteractive apt-get purge -y ecard-registry 2>&1)
echo "$out" >&2
grep -q 'NOT deleted: /var/lib/ecard-registry' <<<"$out" || fail "purge does not say it keeps the records"
expect_gone /etc/ecard-registry
expect_file /var/lib/ecard-registry/registry.db
expect_file /var/lib/ecard-registry/list-key.p8
getent passwd ecard-registry > /dev/null || fail "purge deleted the user who owns the records"
rm -r /var/lib/ecard-registry
deluser --system --quiet ecard-registry

say "all package checks passed"
