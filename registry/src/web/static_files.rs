//! The pages' files: registry/web-pages/ embedded into the binary at build time
//! (also in debug builds), so a registry needs no files beside it and loads
//! nothing from the internet. The station's stylesheet (web-ui/static/app.css) is
//! served as `station.css`: the two UIs share one look.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web-pages/"]
struct Pages;

const STATION_CSS: &[u8] = include_bytes!("../../../web-ui/static/app.css");

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn file(path: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, content_type(path)),
            // The pages change with the binary: never old JS against a new API.
            (CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response()
}

pub async fn index() -> Response {
    serve(Path("index.html".to_owned())).await
}

pub async fn serve(Path(name): Path<String>) -> Response {
    if name == "station.css" {
        return file(&name, STATION_CSS.to_vec());
    }
    match Pages::get(&name) {
        Some(f) => file(&name, f.data.into_owned()),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
