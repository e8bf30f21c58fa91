//! `GET /check`: the offline QR check page (issue #16, docs/SEAL.md §6), one HTML
//! file with everything inline — the bundled jsQR decoder, the checker, and this
//! station's trust list (roots, its document signer's certificate, revoked signers)
//! — so that anyone can save it to a phone and check a card face without a network.
//! No login: it shows nothing but public keys.
//!
//! The signers it carries are this station's and every other bureau's the
//! registry's feed brought (`Station::seal_signers`), so a face printed anywhere in
//! the province checks. When the station is enrolled with a registry, the page
//! also carries the registry's origin: after a genuine verdict it asks
//! `GET /public/v1/check` there for the certificate's state now (the one thing a
//! printed seal cannot say), and the CSP's `connect-src` allows that origin only.

use super::AppState;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

const TEMPLATE: &str = include_str!("../../../web-ui/check/check.html");
/// jsQR 1.4.0 (Apache-2.0, web-ui/check/jsQR.LICENSE), from npm, unchanged.
const JSQR: &str = include_str!("../../../web-ui/check/jsQR.js");
const CHECKER: &str = include_str!("../../../web-ui/check/check.js");

fn csp_hash(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// The text between `open` and `close` in the template (its inline style).
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    text.split_once(open)
        .and_then(|(_, rest)| rest.split_once(close))
        .map(|(inside, _)| inside)
        .unwrap_or("")
}

pub async fn check_page(State(state): State<AppState>) -> Response {
    let station = &state.station;
    let trust = station.trust_list();
    let signers: Vec<String> = station
        .seal_signers()
        .iter()
        .map(|c| hex::encode(&c.raw))
        .collect();
    let registry = station.public_registry_origin();
    let data = json!({
        "roots": trust.anchors.iter().map(|a| json!({
            "name": a.name,
            "public_key": hex::encode(a.public_key),
            "valid_from": a.valid_from,
            "valid_until": a.valid_until,
        })).collect::<Vec<_>>(),
        "signers": signers,
        "revoked_signers": trust.revoked_signers.iter().map(|r| json!({
            "key_id": hex::encode(r.key_id),
            "revoked_on": r.revoked_on,
        })).collect::<Vec<_>>(),
        "generated_on": station.today(),
        "registry": registry,
    });
    // Inside a <script> data block "</" would end it early; JSON allows "<\/".
    let data = data.to_string().replace("</", "<\\/");
    let html = TEMPLATE
        .replace("{{TRUST}}", &data)
        .replace("{{JSQR}}", JSQR)
        .replace("{{CHECK}}", CHECKER);
    let connect = registry
        .as_deref()
        .map(|origin| format!("; connect-src {origin}"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src {}; img-src blob: data:; media-src blob: mediastream:; frame-ancestors 'none'{connect}",
        csp_hash(JSQR),
        csp_hash(CHECKER),
        csp_hash(between(TEMPLATE, "<style>", "</style>")),
    );
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (CONTENT_SECURITY_POLICY, csp),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        html,
    )
        .into_response()
}
