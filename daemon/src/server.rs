//! `ecardd serve`: the station with its real readers (PC/SC through pcscd), its
//! database and its sealed keys, serving the API and the web UI.

use crate::api::AppState;
use crate::keyring;
use crate::ops::{Station, StationConfig};
use crate::readers::pcsc::PcscReaders;
use crate::readers::Readers;
use crate::store::Store;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub struct ServeOptions {
    pub db: PathBuf,
    pub listen: SocketAddr,
    /// Host names (with or without a port) the web UI may be reached by besides the
    /// listen address and the loopback names: the DNS-rebinding check.
    pub allowed_hosts: Vec<String>,
    /// Minutes without a request after which a web UI session ends.
    pub session_idle_minutes: i64,
    /// Without it the station verifies and records but cannot write cards. Wiped
    /// from memory when dropped.
    pub passphrase: Option<zeroize::Zeroizing<String>>,
    pub config: StationConfig,
    /// Seconds between sync rounds when the station is enrolled with a registry.
    pub sync_interval_secs: u64,
    /// The process's one clock.
    pub clock: ecard_clock::Clock,
}

pub fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

/// Completes on Ctrl-C or SIGTERM (systemd's stop).
pub async fn shutdown_signal() {
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
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Opens the station: store, keys (when a passphrase is given), PC/SC readers.
pub fn open_station(
    db: &std::path::Path,
    passphrase: Option<&str>,
    config: StationConfig,
    clock: ecard_clock::Clock,
) -> Result<Station, Box<dyn std::error::Error + Send + Sync>> {
    let store = Arc::new(Store::open(db, clock)?);
    let readers = Readers::new(PcscReaders::start(config.card_deadline));
    Ok(match passphrase {
        Some(p) => {
            let (keys, trust) = keyring::unlock(&store, p).map_err(|e| e.message_zh())?;
            Station::new(store, readers, keys, trust, config)
        }
        None => {
            // The bureau named on cards is the station's own (its keys'), never a
            // default; `Station::new` takes it from the unlocked signer.
            let mut config = config;
            if let Some(bureau) = keyring::bureau(&store).map_err(|e| e.message_zh())? {
                config.bureau_name = bureau;
            }
            let trust = keyring::trust_list(&store).map_err(|e| e.message_zh())?;
            Station::without_keys(store, readers, trust, config)
        }
    })
}

pub async fn serve(opts: ServeOptions) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let station = open_station(
        &opts.db,
        opts.passphrase.as_deref().map(String::as_str),
        opts.config,
        opts.clock,
    )?;
    let interrupted = station.recover_after_restart()?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "jobs left writing by a previous process are now interrupted"
        );
    }
    // Sync runs beside the API when the station is enrolled and its keys unlocked;
    // the station works the same without it (offline-first).
    if let Some(p) = &opts.passphrase {
        match crate::sync::open(&station.store, p) {
            Ok((client, registry_key)) => {
                tokio::spawn(crate::sync::run_forever(
                    station.clone(),
                    client,
                    registry_key,
                    std::time::Duration::from_secs(opts.sync_interval_secs.max(1)),
                ));
            }
            Err(crate::sync::SyncError::NotEnrolled) => {}
            Err(e) => tracing::warn!(error = %e, "sync not started"),
        }
    }
    let mut state = AppState::new(station)?;
    state.session_idle = chrono::TimeDelta::minutes(opts.session_idle_minutes);
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    println!("ecardd listening: http://{addr}/");
    flush_stdout();
    crate::api::serve(listener, state, &opts.allowed_hosts, shutdown_signal()).await?;
    Ok(())
}
