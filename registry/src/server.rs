//! Opens the store and keys, binds, announces the address, serves until
//! SIGINT/SIGTERM.

use crate::api::{router, AppState};
use crate::keys::{load_or_create_admin_token, load_or_generate_key, token_digest, KeyError};
use crate::storage::{Storage, StorageError};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub key_file: PathBuf,
    pub admin_token_file: PathBuf,
    /// The process's one clock (`ecard_clock::Clock::from_env` in `main`).
    pub clock: ecard_clock::Clock,
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
}

/// The line tests and scripts wait for on stdout.
pub const LISTENING_PREFIX: &str = "ecard-registry listening: ";

pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    let storage = Storage::open(&cfg.db, cfg.clock).map_err(|source| ServeError::Storage {
        path: cfg.db.display().to_string(),
        source,
    })?;
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
    tracing::info!(
        key_id = %hex::encode(card_profile::pki::key_id(&state.key.public_key())),
        admin_token_file = %cfg.admin_token_file.display(),
        "registry ready"
    );
    let mut out = std::io::stdout();
    // The announcement is what spawners wait for; a closed stdout is no reason to stop.
    let _ = writeln!(out, "{LISTENING_PREFIX}http://{addr}");
    let _ = out.flush();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(ServeError::Serve)
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
