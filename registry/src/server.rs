//! Opens the store and keys, binds, announces the address (and the TLS
//! certificate's pin), serves until SIGINT/SIGTERM. TLS unless told otherwise, and
//! plain HTTP only on a loopback address.

use crate::api::{router_with_pages, AppState};
use crate::keys::{load_or_create_admin_token, load_or_generate_key, token_digest, KeyError};
use crate::storage::{Storage, StorageError};
use crate::tls::{TlsError, TlsFiles};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The records: a SQLite file or a PostgreSQL database (`--database`).
    pub db: crate::storage::db::DatabaseUrl,
    pub listen: SocketAddr,
    pub key_file: PathBuf,
    pub admin_token_file: PathBuf,
    /// TLS certificate and key; `None`: plain HTTP, allowed on loopback only.
    pub tls: Option<TlsFiles>,
    /// Names the reviewers' pages answer to besides the listen address and the
    /// loopback names (`--allowed-host`; a TLS certificate's names count too).
    pub allowed_hosts: Vec<String>,
    /// The process's one clock (`ecard_clock::Clock::from_env` in `main`).
    pub clock: ecard_clock::Clock,
    /// The province's rules, loaded at start (`--province-config`).
    pub province: Arc<ecard_domain::province::ProvinceConfig>,
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("database {path}: {source}")]
    Storage { path: String, source: StorageError },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("pages: {0}")]
    Pages(crate::web::password::PasswordError),
    #[error("plain HTTP is served on a loopback address only, not {0}")]
    InsecureNotLoopback(SocketAddr),
}

/// The line tests and scripts wait for on stdout.
pub const LISTENING_PREFIX: &str = "ecard-registry listening: ";
/// Printed before it (TLS only): the certificate pin stations enrol with.
pub const TLS_PIN_PREFIX: &str = "ecard-registry tls certificate sha256: ";

pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    if cfg.tls.is_none() && !cfg.listen.ip().is_loopback() {
        return Err(ServeError::InsecureNotLoopback(cfg.listen));
    }
    let tls = cfg
        .tls
        .as_ref()
        .map(crate::tls::load_or_generate)
        .transpose()?;
    // Off the async threads, like every storage call: PostgreSQL's client blocks.
    let (db, clock) = (cfg.db.clone(), cfg.clock);
    let storage = tokio::task::spawn_blocking(move || Storage::open_url(&db, clock))
        .await
        .map_err(|e| ServeError::Serve(std::io::Error::other(e)))?
        .map_err(|source| ServeError::Storage {
            path: cfg.db.display(),
            source,
        })?
        .with_province(Arc::clone(&cfg.province));
    let key = load_or_generate_key(&cfg.key_file)?;
    let admin = load_or_create_admin_token(&cfg.admin_token_file)?;
    let state = AppState {
        storage: Arc::new(storage),
        key: Arc::new(key),
        admin_digest: token_digest(&admin).into(),
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let mut names = cfg.allowed_hosts.clone();
    if let Some(t) = &cfg.tls {
        names.extend(t.names.iter().cloned());
    }
    let guards = crate::web::WebGuards::new(
        Some(ecard_web_guard::hosts::AllowedHosts::new(addr, &names)),
        tls.is_some(),
    )
    .map_err(ServeError::Pages)?;
    let app = router_with_pages(state.clone(), Arc::new(guards));
    tracing::info!(
        key_id = %hex::encode(card_profile::pki::key_id(&state.key.public_key())),
        admin_token_file = %cfg.admin_token_file.display(),
        "registry ready"
    );
    let mut out = std::io::stdout();
    // The announcement is what spawners wait for; a closed stdout is no reason to stop.
    let Some(tls) = tls else {
        tracing::warn!("serving plain HTTP on loopback (--insecure-loopback-http)");
        let _ = writeln!(out, "{LISTENING_PREFIX}http://{addr}");
        let _ = out.flush();
        // The client's address reaches the login throttle through ConnectInfo.
        return axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(ServeError::Serve);
    };
    let pin = hex::encode(tls.fingerprint);
    tracing::info!(tls_certificate_sha256 = %pin, "stations enrol with --registry-cert-sha256 {pin}");
    let _ = writeln!(out, "{TLS_PIN_PREFIX}{pin}");
    let _ = writeln!(out, "{LISTENING_PREFIX}https://{addr}");
    let _ = out.flush();
    serve_tls(listener, tls.config, app).await;
    Ok(())
}

/// How long a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts TLS connections until SIGINT/SIGTERM; each connection is served on its
/// own task (HTTP/1.1). A failed or slow handshake costs that connection only.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    app: axum::Router,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        // The client's address for the pages' login throttle, as axum::serve gives it.
        let app = app
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
