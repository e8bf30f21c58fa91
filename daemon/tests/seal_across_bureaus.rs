//! A card face printed at one bureau checks at another (issue #16): bureau B writes
//! a card and prints its face; bureau A's station does not know B's document signer
//! and says 无法确认 — until B's card reaches the registry (a real `ecard-registry`
//! process), which learns B's signer from the card's EF.SOD and hands it to A in
//! the feed (`ecardd sync` as a real process). Then A says 真实. A signer the
//! province revoked is not trusted for what it signed from that day on.
#![allow(clippy::unwrap_used)]

mod registry_support;

use card_profile::demo::DemoPki;
use card_profile::pki::{key_id, DocumentSigner, RevokedSigner, RootKey, SigningKey};
use registry_support::*;

/// Bureau B: the same province root and the same desk of blank cards (one master
/// key for the test's cards), its own document signer.
fn bureau_b(pki: &DemoPki) -> DemoPki {
    let root = RootKey {
        name: pki.root.name.clone(),
        key: SigningKey::from_pkcs8(pki.root.key.pkcs8()).unwrap(),
        valid_from: pki.root.valid_from,
        valid_until: pki.root.valid_until,
    };
    let key = SigningKey::generate().unwrap();
    let cert = root
        .issue_signer(
            "乙市司法局",
            &key.public_key(),
            pki.signer.certificate.valid_from,
            pki.signer.certificate.valid_until,
        )
        .unwrap();
    DemoPki {
        signer: DocumentSigner::new(key, cert).unwrap(),
        master: pki.master.clone(),
        trust: pki.trust.clone(),
        root,
    }
}

/// `GET /check` from A's router: (Content-Security-Policy, page).
async fn check_page(s: &StationUnderTest) -> (String, String) {
    check_page_of(s.station.clone()).await
}

async fn check_page_of(station: ecardd::ops::Station) -> (String, String) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let state = ecardd::api::AppState::new(station).unwrap();
    let resp = ecardd::api::router(state)
        .oneshot(
            axum::http::Request::get("/check")
                .header("host", "127.0.0.1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (csp, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seal_printed_at_bureau_b_checks_genuine_at_bureau_a_after_sync() {
    let (registry, pki, desk) = setup(0x5EA1_0000_0000_0001);
    let pki_b = bureau_b(&pki);
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let b = station("station-b", &pki_b, &desk, &registry, true).await;

    let cert = cert_ids(&b)[0];
    issue_one(&b, &desk, cert).await;
    let seal = b.station.seal_text(cert).unwrap();
    let at_b = b.station.check_seal(&seal);
    assert_eq!((at_b.verdict, at_b.verdict_label), ("genuine", "真实"));

    // A has never seen B's signer: it cannot say.
    let at_a = a.station.check_seal(&seal);
    assert_eq!(
        (at_a.verdict, at_a.verdict_label),
        ("unconfirmed", "无法确认"),
        "{at_a:?}"
    );

    // B's card reaches the registry; A's next round brings B's signer.
    round_process(&b).unwrap();
    let pulled = round_process(&a).unwrap();
    assert_eq!(pulled["document_signers"], 1, "{pulled}");
    assert!(a.station.seal_signers().contains(&pki_b.signer.certificate));
    let at_a = a.station.check_seal(&seal);
    assert_eq!(
        (at_a.verdict, at_a.verdict_label),
        ("genuine", "真实"),
        "{at_a:?}"
    );
    let printed = at_a.printed.unwrap();
    assert_eq!(printed.signer, "乙市司法局");
    // The /check page A serves carries B's signer beside its own, and the
    // registry's origin, which its policy lets the page ask and nothing else.
    let page = check_page(&a).await;
    let (csp, html) = (page.0, page.1);
    assert!(
        html.contains(&hex::encode(&pki_b.signer.certificate.raw)),
        "B's signer certificate is not on A's /check page"
    );
    assert!(html.contains(&hex::encode(&pki.signer.certificate.raw)));
    assert!(
        html.contains(&format!("\"registry\":\"{}\"", registry.url)),
        "{}",
        registry.url
    );
    assert!(
        csp.ends_with(&format!("; connect-src {}", registry.url)),
        "{csp}"
    );
    // Phones reach the registry at another address than the station's sync: the
    // configured public URL is what the page asks, and all its policy allows.
    let mut public = a.station.clone();
    public.config.public_registry_url = Some("https://check.example.org/ignored/path".into());
    let (csp, html) = check_page_of(public).await;
    assert!(html.contains("\"registry\":\"https://check.example.org\""));
    assert!(
        csp.ends_with("; connect-src https://check.example.org"),
        "{csp}"
    );
    // A station started without its passphrase (verify-only) checks with the
    // signers it learnt all the same.
    let locked = ecardd::ops::Station::without_keys(
        a.station.store.clone(),
        a.station.readers.clone(),
        a.station.trust_list(),
        Default::default(),
    );
    let signers = locked.seal_signers();
    assert!(signers.contains(&pki_b.signer.certificate));
    assert_eq!(locked.check_seal(&seal).verdict, "genuine");
    // A second round learns nothing new (the item was applied once).
    let again = round_process(&a).unwrap();
    assert_eq!(again["document_signers"], 0, "{again}");

    // The province revokes B's signer from today: what it signed today is not
    // genuine any more (the revoked signers of the root-signed trust list).
    let mut trust = a.station.trust_list();
    trust.revoked_signers.push(RevokedSigner {
        key_id: key_id(&pki_b.signer.certificate.public_key),
        revoked_on: today(),
        reason: "密钥泄露".into(),
    });
    a.station.set_trust_list(trust);
    let at_a = a.station.check_seal(&seal);
    assert_eq!(at_a.verdict, "forged", "{at_a:?}");
}

/// `--public-registry-url` must be a plain origin: it goes into the page's policy.
#[test]
fn a_public_registry_url_that_is_no_origin_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecardd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("station.db"))
        .args(["--public-registry-url", "https://x; script-src *"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--public-registry-url"), "{stderr}");
    assert!(!dir.path().join("station.db").exists());
}
