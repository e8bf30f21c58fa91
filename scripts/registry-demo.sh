#!/usr/bin/env bash
# The registry's reviewers' pages with demo data (README "The registry's pages"):
# a database in a temporary directory, two county-level units in two counties, their
# bureaus, the city, the province and the registry's administrator, each with a page login (password: demo-<user>-pw,
# at least 10 characters), two applications waiting for the
# county, served on plain HTTP at http://127.0.0.1:8600/web/ (loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p ecard-registry
BIN=target/debug/ecard-registry
DIR=$(mktemp -d -t ecard-registry-demo.XXXXXX)
DB="$DIR/registry.db"
LISTEN=${LISTEN:-127.0.0.1:8600}
echo "demo registry database: $DB"
"$BIN" admin add-unit --db "$DB" --name 岳池县教育局 --region 川X04 --department 02 >/dev/null
"$BIN" admin add-unit --db "$DB" --name 广安区交通局 --region 川X01 --department 02 >/dev/null
account() { # user role org [--unit U | --region R]
    local user=$1 role=$2 org=$3; shift 3
    "$BIN" admin add-account --db "$DB" --username "$user" --role "$role" --org-name "$org" "$@" \
        | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p'
    printf 'demo-%s-pw\n' "$user" > "$DIR/pw"
    "$BIN" admin set-password --db "$DB" --username "$user" --password-file "$DIR/pw" >/dev/null
    rm -f "$DIR/pw"
}
UNIT_TOKEN=$(account yc-edu unit 岳池县教育局 --unit 岳池县教育局)
account ga-jt unit 广安区交通局 --unit 广安区交通局 >/dev/null
account yc-justice county 岳池县司法局 --region 川X04 >/dev/null
account ga-justice county 广安区司法局 --region 川X01 >/dev/null
account gac-justice city 广安市司法局 --region 川X >/dev/null
account sc-justice province 四川省司法厅 >/dev/null
account sc-admin admin 四川省司法厅 >/dev/null
"$BIN" serve --db "$DB" --key-file "$DIR/registry.key" --listen "$LISTEN" --insecure-loopback-http &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do curl -fsS "http://$LISTEN/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
# Two applications filed by the unit through the bearer-token API (as a program would).
for who in 张三:11010519491231002X 李四:110105194912310038; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $UNIT_TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"${who%%:*}\",\"id_number\":\"${who##*:}\",\"ethnicity\":\"汉族\",\"certificate_kind\":\"enforcement\",\"posts\":\"01\",\"category\":\"教育\",\"area\":\"岳池县\"}" \
        "http://$LISTEN/api/v1/applications" || echo "filing ${who%%:*} failed"
done
cat <<MSG

The registry's pages: http://$LISTEN/web/
Logins (password = demo-<user>-pw):
  yc-edu       单位管理员 (岳池县教育局)     ga-jt        单位管理员 (广安区交通局)
  yc-justice   县级司法局 (岳池县, 川X04)    ga-justice   县级司法局 (广安区, 川X01)
  gac-justice  市级司法局 (广安市, 川X)      sc-justice   省司法厅 (省级审核, 统计)
  sc-admin     系统管理员 (单位、账号、工作站)
Ctrl-C stops it.
MSG
wait $SERVER
