//! The registry channel under attack (issue 11): a real `ecard-registry` process, a
//! real `ecardd sync` process, and between them a tampering HTTP proxy in this test
//! (what a hostile network path can do once it is inside the transport). Also what a
//! hostile registry admin can do with the registry's own database: put a trust list
//! no province root signed into the feed, or replay an older signed one.
#![allow(clippy::unwrap_used)]

mod registry_support;

use card_profile::pki::{key_id, RevokedSigner, SigningKey, TrustList};
use ecard_sync_protocol::feed::{FeedBody, TrustListUpdate};
use ecard_sync_protocol::trust::{NumberedTrustList, SignedTrustList};
use ecardd::keyring;
use ecardd::ops::StatusRequest;
use registry_support::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Rewrites the body of one answer: `(request line, body)`.
type Hook = Box<dyn FnMut(&str, &mut Vec<u8>) + Send>;

/// A plain HTTP/1.1 forwarder: one request per connection (it answers
/// `Connection: close`), the registry's answer read whole and handed to `hook`.
struct Proxy {
    url: String,
    hook: Arc<Mutex<Hook>>,
}

impl Proxy {
    fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hook: Arc<Mutex<Hook>> = Arc::new(Mutex::new(Box::new(|_, _| {})));
        let h = hook.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let h = h.clone();
                std::thread::spawn(move || {
                    let _ = forward(conn, upstream, &h);
                });
            }
        });
        Proxy { url, hook }
    }

    fn set(&self, hook: impl FnMut(&str, &mut Vec<u8>) + Send + 'static) {
        *self.hook.lock().unwrap() = Box::new(hook);
    }
}

/// Reads one HTTP message head (up to the blank line) and its Content-Length body.
fn read_message(s: &mut TcpStream, to_eof: bool) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut body = Vec::new();
    if to_eof {
        s.read_to_end(&mut body)?;
    } else {
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        body.resize(len, 0);
        s.read_exact(&mut body)?;
    }
    Ok((head, body))
}

/// The head without the framing headers, which are set anew.
fn strip_framing(head: &str) -> Vec<&str> {
    head.split("\r\n")
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let name = l.split(':').next().unwrap_or("").to_ascii_lowercase();
            !matches!(
                name.as_str(),
                "connection" | "content-length" | "transfer-encoding" | "keep-alive"
            )
        })
        .collect()
}

fn forward(mut client: TcpStream, upstream: SocketAddr, hook: &Mutex<Hook>) -> std::io::Result<()> {
    let (head, body) = read_message(&mut client, false)?;
    let request_line = head.lines().next().unwrap_or("").to_owned();
    let mut up = TcpStream::connect(upstream)?;
    let mut req = strip_framing(&head).join("\r\n");
    req.push_str(&format!(
        "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    up.write_all(req.as_bytes())?;
    up.write_all(&body)?;
    let (resp_head, mut resp_body) = read_message(&mut up, true)?;
    assert!(
        !resp_head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the registry answers with Content-Length"
    );
    (hook.lock().unwrap())(&request_line, &mut resp_body);
    let mut resp = strip_framing(&resp_head).join("\r\n");
    resp.push_str(&format!(
        "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp_body.len()
    ));
    client.write_all(resp.as_bytes())?;
    client.write_all(&resp_body)?;
    client.flush()
}

fn set_registry_url(s: &StationUnderTest, url: &str) {
    s.station
        .store
        .write("test", |tx| {
            tx.conn()
                .execute("UPDATE sync_state SET registry_url = ?1", [url])?;
            Ok(())
        })
        .unwrap();
}

/// What a refused round must leave alone: the feed cursor, the revocation list
/// number, the suspensions, the trust anchors, the audit chain's length.
fn footprint(s: &StationUnderTest) -> (i64, Option<i64>, i64, i64, i64) {
    s.station
        .store
        .read(|c| {
            let one = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok((
                one("SELECT feed_cursor FROM sync_state")?,
                c.query_row("SELECT revocation_number FROM sync_state", [], |r| r.get(0))?,
                one("SELECT COUNT(*) FROM suspensions")?,
                one("SELECT COUNT(*) FROM trust_anchors")?,
                // A refused round is itself audited (sync.failed, once per new
                // failure; sync.recovered after it): that is the round's outcome,
                // not a change the page made.
                one("SELECT COUNT(*) FROM audit_log WHERE action NOT IN ('sync.failed', 'sync.recovered')")?,
            ))
        })
        .unwrap()
}

fn refused_code(result: Result<serde_json::Value, (i32, String)>) -> String {
    let (_, stderr) = result.expect_err("the round must be refused");
    stderr
}

fn replace(body: &mut Vec<u8>, from: &str, to: &str) -> bool {
    let text = String::from_utf8(body.clone()).unwrap();
    if !text.contains(from) {
        return false;
    }
    *body = text.replace(from, to).into_bytes();
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_page_changed_on_the_way_or_replayed_is_refused_and_changes_nothing() {
    let (registry, pki, desk) = setup_plain(0x5B00_0000_0000_0001);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let certs = cert_ids(&a);
    let serial = issue_one(&a, &desk, certs[0]).await;
    a.station
        .change_status(
            "issuer",
            certs[0],
            &StatusRequest::Suspend {
                reason: "立案调查".into(),
            },
            None,
        )
        .await
        .unwrap();
    round_process(&a).unwrap();

    let proxy = Proxy::start(&registry.url);
    set_registry_url(&b, &proxy.url);

    // 1. The path turns the suspension into a lift: the page's signature fails,
    //    `ecardd sync` refuses the round and B's database is as it was.
    let tampered = Arc::new(Mutex::new(0));
    let t = tampered.clone();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/feed")
            && replace(body, r#"\"kind\":\"suspend\""#, r#"\"kind\":\"lift\""#)
        {
            *t.lock().unwrap() += 1;
        }
    });
    let before = footprint(&b);
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("bad_feed_signature"), "{stderr}");
    assert_eq!(*tampered.lock().unwrap(), 1, "the proxy changed the page");
    assert_eq!(footprint(&b), before);
    let failure: String = b
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT detail FROM audit_log WHERE action = 'sync.failed' ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(failure.contains("bad_feed_signature"), "{failure}");

    // 2. Untouched, the same page is applied: B now holds the suspension. The proxy
    //    keeps a copy of that page to replay.
    let recorded = Arc::new(Mutex::new(None::<Vec<u8>>));
    let rec = recorded.clone();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/feed?after=0") {
            *rec.lock().unwrap() = Some(body.clone());
        }
    });
    let pulled = round_process(&b).unwrap();
    assert_eq!(pulled["status_changes"], 1, "{pulled}");
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已暂停");
    let old_page = recorded.lock().unwrap().clone().unwrap();

    // The path also keeps B's next page (nothing new: an empty page for B's cursor).
    let current = Arc::new(Mutex::new(None::<Vec<u8>>));
    let cur = current.clone();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/feed") {
            *cur.lock().unwrap() = Some(body.clone());
        }
    });
    let quiet = round_process(&b).unwrap();
    assert_eq!(quiet["feed_items"], 0, "{quiet}");
    let empty_page = current.lock().unwrap().clone().unwrap();

    // 3. A lifts the suspension. The path answers B's next request with an older
    //    page (validly signed, but for another cursor): refused, nothing changes.
    a.station
        .change_status(
            "issuer",
            certs[0],
            &StatusRequest::Lift {
                reason: "调查结束".into(),
            },
            None,
        )
        .await
        .unwrap();
    round_process(&a).unwrap();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/feed") {
            *body = old_page.clone();
        }
    });
    let before = footprint(&b);
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("feed_page_replayed"), "{stderr}");
    assert_eq!(footprint(&b), before);
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已暂停");

    //    Or freezes B's feed: the empty page recorded for this very cursor, played
    //    back (genuine, same station, same cursor, but another request's nonce), so
    //    that the lift never arrives: refused too.
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/feed") {
            *body = empty_page.clone();
        }
    });
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("feed_page_replayed"), "{stderr}");
    assert_eq!(footprint(&b), before);
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已暂停");

    // 4. The path goes quiet: the lift arrives.
    proxy.set(|_, _| {});
    let pulled = round_process(&b).unwrap();
    assert_eq!(pulled["status_changes"], 1, "{pulled}");
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "有效");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_revocation_list_replayed_on_the_way_is_refused() {
    let (registry, pki, desk) = setup_plain(0x5B00_0000_0000_0101);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let proxy = Proxy::start(&registry.url);
    set_registry_url(&b, &proxy.url);
    // B's first round: the (empty) list number 0, kept by the path.
    let recorded = Arc::new(Mutex::new(None::<Vec<u8>>));
    let rec = recorded.clone();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/revocations") {
            *rec.lock().unwrap() = Some(body.clone());
        }
    });
    let first = round_process(&b).unwrap();
    assert_eq!(first["revocation_number"], 0, "{first}");
    let old_list = recorded.lock().unwrap().clone().unwrap();

    // A cancels a certificate: the list grows to number 1, and B takes it.
    let certs = cert_ids(&a);
    let serial = issue_one(&a, &desk, certs[0]).await;
    a.station
        .change_status(
            "issuer",
            certs[0],
            &StatusRequest::Cancel {
                occurred_on: None,
                reason: "调离执法岗位".into(),
                destination: "成都市".into(),
            },
            None,
        )
        .await
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{e:?}"));
    round_process(&a).unwrap();
    let current = Arc::new(Mutex::new(None::<Vec<u8>>));
    let cur = current.clone();
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/revocations") {
            *cur.lock().unwrap() = Some(body.clone());
        }
    });
    let second = round_process(&b).unwrap();
    assert_eq!(second["revocation_number"], 1, "{second}");
    assert_ne!(standing_at(&b.station, &desk, &serial).await, "有效");
    // One more round: the (empty) delta from list 1, kept by the path.
    let third = round_process(&b).unwrap();
    assert_eq!(third["revocation_number"], 1, "{third}");
    let current_list = current.lock().unwrap().clone().unwrap();

    // The path plays that answer back to B's next request (the right base and
    // number, genuinely signed, but for an earlier request): refused, so a path
    // cannot hold B at a list while the registry's grows.
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/revocations") {
            *body = current_list.clone();
        }
    });
    let before = footprint(&b);
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("revocation_list_replayed"), "{stderr}");
    assert_eq!(footprint(&b), before);

    // The path answers with the older list (genuinely signed): refused.
    proxy.set(move |line, body| {
        if line.contains("/sync/v1/revocations") {
            *body = old_list.clone();
        }
    });
    let before = footprint(&b);
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("revocation_list_older"), "{stderr}");
    assert_eq!(footprint(&b), before);
}

/// Puts a feed item into the registry's database directly: what a registry admin
/// (or anyone with the registry's database and key) can do without a root key.
fn inject_feed_item(registry: &Registry, body: &FeedBody) {
    let c = rusqlite::Connection::open(registry.db()).unwrap();
    c.execute(
        "INSERT INTO feed (kind, region, origin, body_json, created_at) VALUES ('trust_list_update', NULL, NULL, ?1, '2026-11-23T00:00:00.000Z')",
        [serde_json::to_string(body).unwrap()],
    )
    .unwrap();
}

fn trust_update(signed: SignedTrustList) -> FeedBody {
    FeedBody::TrustListUpdate(TrustListUpdate { signed })
}

/// Signs a list with the demo root the offline way: `ecard-registry trust-list
/// sign` with the root's key file, then `trust-list publish`.
fn sign_and_publish(registry: &Registry, root: &SigningKey, list: &TrustList, number: u64) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("root.p8");
    std::fs::write(&key, root.pkcs8()).unwrap();
    let list_file = dir.path().join("trust.json");
    std::fs::write(&list_file, serde_json::to_vec(list).unwrap()).unwrap();
    let signed = dir.path().join("trust.signed.json");
    let out = Command::new(registry_bin())
        .args(["trust-list", "sign", "--root-key"])
        .arg(&key)
        .arg("--list")
        .arg(&list_file)
        .args(["--number", &number.to_string(), "--out"])
        .arg(&signed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(registry_bin())
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(["trust-list", "publish", "--db"])
        .arg(registry.db())
        .arg("--file")
        .arg(&signed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn anchors_of(s: &StationUnderTest) -> TrustList {
    keyring::trust_list(&s.station.store).unwrap()
}

/// Trust anchors change only with a province root's signature; a revoked document
/// signer then fails the signer chain at the station's verification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_anchors_change_only_with_a_province_root_signature() {
    let (registry, pki, desk) = setup(0x5B00_0000_0000_0201);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    // B trusts the province root (as `ecardd keys init` records it).
    b.station
        .store
        .write("test", |tx| keyring::add_anchor(tx, &pki.root.anchor()))
        .unwrap();
    let held = anchors_of(&b);
    assert_eq!(held.anchors, vec![pki.root.anchor()]);
    let serial = issue_one(&a, &desk, cert_ids(&a)[0]).await;
    // B's first round brings it a revocation list (without one a field check is
    // 无法确认).
    round(&b).await.unwrap();
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "有效");

    // A hostile registry admin feeds a list naming its own root: signed by that
    // root itself, and once with no valid signature at all.
    let rogue = card_profile::pki::RootKey {
        name: "四川省司法厅根证书".into(),
        key: SigningKey::generate().unwrap(),
        valid_from: today(),
        valid_until: today() + chrono::Months::new(120),
    };
    let rogue_list = NumberedTrustList::new(99, TrustList::new(vec![rogue.anchor()]));
    inject_feed_item(
        &registry,
        &trust_update(rogue_list.sign(&rogue.key).unwrap()),
    );
    let mut unsigned = rogue_list.sign(&rogue.key).unwrap();
    unsigned.key_id = hex::encode(pki.root.anchor().key_id);
    unsigned.signature = "00".repeat(64);
    inject_feed_item(&registry, &trust_update(unsigned));
    let report = round_process(&b).unwrap();
    assert_eq!(report["trust_lists_refused"], 2, "{report}");
    assert_eq!(anchors_of(&b), held, "the old anchors stay");
    let refusals: i64 = b
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'trust.list_refused'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(refusals, 2);

    // The province revokes the bureau's document signer, from today, and signs the
    // list offline with its root: B applies it, and A's card (signed today) fails.
    let mut revoking = TrustList::new(vec![pki.root.anchor()]);
    revoking.revoked_signers.push(RevokedSigner {
        key_id: key_id(&pki.signer.certificate.public_key),
        revoked_on: today(),
        reason: "签发密钥泄露".into(),
    });
    sign_and_publish(&registry, &pki.root.key, &revoking, 2);
    let report = round(&b).await.unwrap();
    assert_eq!(report.trust_lists_refused, 0);
    assert_eq!(anchors_of(&b), revoking);
    assert_eq!(
        ecardd::sync::status(&b.station.store, today(), &Default::default())
            .unwrap()
            .trust_list_number,
        Some(2)
    );
    desk.insert_from_tray(R, &serial).unwrap();
    let verdict = b.station.verify(R).await.unwrap().verdict;
    desk.eject(R).unwrap();
    let chain = verdict
        .checks
        .iter()
        .find(|c| c.check == card_profile::verdict::CheckKind::SignerChain)
        .unwrap();
    assert!(
        matches!(
            &chain.outcome,
            card_profile::verdict::Outcome::Failed { findings }
                if findings.iter().any(|f| matches!(f, card_profile::verdict::Finding::Signer { error: card_profile::pki::ChainError::SignerRevoked { .. } }))
        ),
        "{chain:?}"
    );
    assert_ne!(ecardd::labels::standing_zh(verdict.standing), "有效");

    // The older list (no revocation), genuinely root-signed, fed again by the
    // registry: refused, the signer stays revoked.
    let older = NumberedTrustList::new(1, TrustList::new(vec![pki.root.anchor()]))
        .sign(&pki.root.key)
        .unwrap();
    inject_feed_item(&registry, &trust_update(older));
    let report = round(&b).await.unwrap();
    assert_eq!(report.trust_lists_refused, 1);
    assert_eq!(anchors_of(&b), revoking);
}

fn enroll_cli(
    db: &std::path::Path,
    url: &str,
    key_id: Option<&str>,
    transport: &[&str],
) -> (bool, String) {
    let pass = db.with_file_name("pass");
    std::fs::write(&pass, PASS).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecardd"));
    cmd.env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(["sync", "--db"])
        .arg(db)
        .arg("--passphrase-file")
        .arg(&pass)
        .args(["enroll", "--registry", url, "--station-id", "station-x"]);
    if let Some(k) = key_id {
        cmd.args(["--registry-key-id", k]);
    }
    cmd.args(transport);
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pin_args(registry: &Registry) -> Vec<String> {
    match registry.tls {
        ecard_sync_protocol::client::RegistryTls::Pinned(_) => {
            vec!["--registry-cert-sha256".into(), registry.tls.to_setting()]
        }
        ecard_sync_protocol::client::RegistryTls::InsecureLoopbackHttp => {
            vec!["--insecure-loopback-http".into()]
        }
    }
}

fn enrolled(db: &std::path::Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT COUNT(*) FROM sync_state", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap()
}

#[test]
fn enrolment_requires_the_registry_key_id_given_out_of_band() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let pin = pin_args(&registry);
    let pin: Vec<&str> = pin.iter().map(String::as_str).collect();
    let (ok, stderr) = enroll_cli(&db, &registry.url, None, &pin);
    assert!(!ok);
    assert!(stderr.contains("registry_key_id_required"), "{stderr}");
    assert!(stderr.contains("--registry-key-id"), "{stderr}");
    assert_eq!(enrolled(&db), 0);
    let (ok, stderr) = enroll_cli(&db, &registry.url, Some("0011223344556677"), &pin);
    assert!(!ok);
    assert!(stderr.contains("registry_key_mismatch"), "{stderr}");
    assert_eq!(enrolled(&db), 0);
    let (ok, stderr) = enroll_cli(&db, &registry.url, Some(&registry.key_id()), &pin);
    assert!(ok, "{stderr}");
    assert_eq!(enrolled(&db), 1);
}

/// TLS with the certificate pinned at enrolment: another certificate at the
/// registry's address is refused, and plain HTTP only to loopback, only when asked.
#[test]
fn enrolment_pins_the_registry_certificate_and_refuses_plain_http_across_a_network() {
    let registry = Registry::start();
    let other = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let key_id = registry.key_id();
    // No pin, no flag: refused before any connection.
    let (ok, stderr) = enroll_cli(&db, &registry.url, Some(&key_id), &[]);
    assert!(!ok);
    assert!(stderr.contains("registry_cert_required"), "{stderr}");
    // Pinned to the other registry's certificate: refused in the handshake.
    let wrong = other.tls.to_setting();
    let (ok, stderr) = enroll_cli(
        &db,
        &registry.url,
        Some(&key_id),
        &["--registry-cert-sha256", &wrong],
    );
    assert!(!ok);
    assert!(stderr.contains("registry_certificate_mismatch"), "{stderr}");
    // Plain HTTP to an address that is not loopback: refused even with the flag.
    let (ok, stderr) = enroll_cli(
        &db,
        "http://192.0.2.7:8600",
        Some(&key_id),
        &["--insecure-loopback-http"],
    );
    assert!(!ok);
    assert!(stderr.contains("registry_insecure_transport"), "{stderr}");
    // The flag does not turn https into http, and http needs the flag.
    let (ok, stderr) = enroll_cli(
        &db,
        &registry.url.replace("https://", "http://"),
        Some(&key_id),
        &["--registry-cert-sha256", &registry.tls.to_setting()],
    );
    assert!(!ok);
    assert!(stderr.contains("registry_insecure_transport"), "{stderr}");
    assert_eq!(enrolled(&db), 0);
    // The right pin: enrolled.
    let right = registry.tls.to_setting();
    let (ok, stderr) = enroll_cli(
        &db,
        &registry.url,
        Some(&key_id),
        &["--registry-cert-sha256", &right],
    );
    assert!(ok, "{stderr}");
    assert_eq!(enrolled(&db), 1);
}

/// A registry that answers at the station's registry address but does not hold the
/// pinned key (a hijacked name, a copy of the registry's database without its key)
/// cannot lift a suspension: its feed pages fail the signature, the field check
/// still says 已暂停. Only the station's own operators (an authenticated, audited
/// local status change) and the signed feed change a suspension.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lift_from_a_registry_without_the_pinned_key_never_reaches_the_field_check() {
    // Plain HTTP on loopback, so that the feed signature alone is what is tested
    // (over TLS the impostor fails earlier, at the pinned certificate).
    let (registry, pki, desk) = setup_plain(0x5B00_0000_0000_0301);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let certs = cert_ids(&a);
    let serial = issue_one(&a, &desk, certs[0]).await;
    a.station
        .change_status(
            "issuer",
            certs[0],
            &StatusRequest::Suspend {
                reason: "立案调查".into(),
            },
            None,
        )
        .await
        .unwrap();
    round_process(&a).unwrap();
    round_process(&b).unwrap();
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已暂停");
    let number: String = a
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT number FROM certificates WHERE id = ?1",
                [certs[0]],
                |r| r.get(0),
            )?)
        })
        .unwrap();

    // The impostor: its own key, B enrolled with B's (public) key, a lift in its feed.
    let rogue = Registry::start_plain();
    // B's public key is no secret (B printed it at enrolment; the real registry has it).
    let b_public: String = rusqlite::Connection::open(registry.db())
        .unwrap()
        .query_row(
            "SELECT public_key FROM stations WHERE id = 'station-b'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    rogue.add_station("station-b", &b_public);
    let lift = FeedBody::StatusChange(ecard_sync_protocol::feed::StatusChangeNotice {
        change: ecard_sync_protocol::events::StatusChanged {
            number: number.parse().unwrap(),
            kind: ecard_sync_protocol::events::StatusKind::Lift,
            reason: "调查结束".into(),
            detail: serde_json::Value::Null,
            effective_on: today(),
            new_number: None,
        },
        origin: "registry".into(),
    });
    let c = rusqlite::Connection::open(rogue.db()).unwrap();
    c.execute(
        "INSERT INTO feed (kind, region, origin, body_json, created_at) VALUES ('status_change', NULL, NULL, ?1, '2026-11-23T00:00:00.000Z')",
        [serde_json::to_string(&lift).unwrap()],
    )
    .unwrap();
    set_registry_url(&b, &rogue.url);
    let before = footprint(&b);
    let stderr = refused_code(round_process(&b));
    assert!(stderr.contains("bad_feed_signature"), "{stderr}");
    assert_eq!(footprint(&b), before);
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已暂停");
}

/// The province signs with the root file `ecardd keys root init` made (sealed),
/// on its offline machine; a station holding that root accepts the result.
#[test]
fn the_province_signs_a_trust_list_with_its_sealed_root_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.json");
    let pass = dir.path().join("root-pass");
    std::fs::write(&pass, "province-root-passphrase").unwrap();
    let ecardd = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ecardd"))
            .env(ecard_clock::TODAY_ENV, clock().env_value())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let p = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    ecardd(&[
        "keys",
        "root",
        "init",
        "--out",
        &p(&root),
        "--name",
        "四川省司法厅根证书",
        "--passphrase-file",
        &p(&pass),
    ]);
    let file: keyring::RootKeyFile =
        serde_json::from_slice(&std::fs::read(&root).unwrap()).unwrap();
    let mut list = TrustList::new(vec![file.anchor.clone()]);
    list.revoked_signers.push(RevokedSigner {
        key_id: [9; 8],
        revoked_on: today(),
        reason: "撤销".into(),
    });
    let list_file = dir.path().join("trust.json");
    std::fs::write(&list_file, serde_json::to_vec(&list).unwrap()).unwrap();
    let out = dir.path().join("signed.json");
    ecardd(&[
        "keys",
        "root",
        "sign-trust-list",
        "--root",
        &p(&root),
        "--passphrase-file",
        &p(&pass),
        "--list",
        &p(&list_file),
        "--number",
        "4",
        "--out",
        &p(&out),
    ]);
    let signed = SignedTrustList::decode(&std::fs::read(&out).unwrap()).unwrap();
    let (got, by) = signed
        .verify(std::slice::from_ref(&file.anchor), today())
        .unwrap();
    assert_eq!((got.number, got.trust_list), (4, list));
    assert_eq!(by, file.anchor);
}
