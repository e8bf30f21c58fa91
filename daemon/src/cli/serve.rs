//! `ecardd serve`, `ecardd demo`, and the two commands that only look around:
//! `ecardd readers` and `ecardd labels`.

use super::clock;
use super::output::{print, say, Failure};
use super::station::{runtime, StationArgs};
use clap::Args;
use ecardd::labels;
use std::net::SocketAddr;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    station: StationArgs,
    /// Address to listen on; loopback unless configured otherwise.
    #[arg(long, env = "ECARDD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A host name the web UI is reached by besides the listen address and
    /// localhost/127.0.0.1/[::1] on its port (repeat, or comma-separated in the
    /// variable); `name` means `name:<listen port>`. Other Host headers are refused.
    #[arg(
        long = "allowed-host",
        env = "ECARDD_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// Minutes without a request after which a web UI session ends (it ends
    /// 12 hours after login in any case); 1 to 720.
    #[arg(long, env = "ECARDD_SESSION_IDLE_MINUTES", default_value_t = ecardd::api::DEFAULT_IDLE_MINUTES,
          value_parser = clap::value_parser!(i64).range(1..=ecardd::api::SESSION_HOURS * 60))]
    session_idle_minutes: i64,
    /// Seconds between sync rounds (when enrolled with a registry).
    #[arg(long, default_value_t = 60)]
    sync_interval: u64,
}

pub fn serve(a: ServeArgs) -> Result<(), Failure> {
    let opts = ecardd::server::ServeOptions {
        passphrase: a.station.passphrase()?,
        config: a.station.config()?,
        db: a.station.db,
        listen: a.listen,
        allowed_hosts: a.allowed_hosts,
        session_idle_minutes: a.session_idle_minutes,
        sync_interval_secs: a.sync_interval,
        clock: clock(),
    };
    runtime()?.block_on(ecardd::server::serve(opts))?;
    Ok(())
}

#[derive(Args)]
pub struct DemoArgs {
    #[arg(long, env = "ECARDD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Run issue → verify → review once on the terminal instead of serving.
    #[arg(long)]
    walkthrough: bool,
    /// The algorithm suite of the demo's keys and cards: p256, or sm for the national
    /// algorithms SM2/SM3/SM4 (docs/SUITES.md).
    #[arg(long, default_value = "p256")]
    suite: card_profile::suite::Suite,
    /// With --walkthrough: write the first written card's printable face (PDF,
    /// front and back with the signed QR) to this file.
    #[arg(long, requires = "walkthrough")]
    face_pdf: Option<std::path::PathBuf>,
    /// The CUPS server faces are printed through (host:port or a socket path).
    #[arg(long, env = "ECARDD_CUPS_SERVER")]
    cups_server: Option<String>,
}

#[cfg(feature = "demo")]
pub fn demo(a: DemoArgs) -> Result<(), Failure> {
    let rt = runtime()?;
    if a.walkthrough {
        rt.block_on(ecardd::demo::walkthrough(
            clock(),
            a.suite,
            a.face_pdf.as_deref(),
        ))?;
    } else {
        rt.block_on(ecardd::demo::serve(
            a.listen,
            clock(),
            a.suite,
            a.cups_server.filter(|s| !s.is_empty()),
        ))?;
    }
    Ok(())
}

/// A station built for real readers only: the demo's simulated cards are not in it.
#[cfg(not(feature = "demo"))]
pub fn demo(_: DemoArgs) -> Result<(), Failure> {
    Err(Failure::new(
        "demo_not_built",
        "此版本未包含演示模式（构建时未启用 demo 功能）",
    ))
}

pub fn labels(json: bool) -> Result<(), Failure> {
    let table = labels::table();
    if json {
        say!("{table}");
    } else {
        for (group, entries) in table.as_object().into_iter().flatten() {
            for (code, word) in entries.as_object().into_iter().flatten() {
                say!("{group}\t{code}\t{}", word.as_str().unwrap_or_default());
            }
        }
    }
    Ok(())
}

pub fn readers(json: bool) -> Result<(), Failure> {
    use ecardd::readers::ReaderBackend;
    let readers = ecardd::readers::pcsc::PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE);
    // One monitor round: readers are listed, then their cards polled.
    std::thread::sleep(std::time::Duration::from_millis(700));
    if !readers.service_up() {
        return Err(Failure {
            code: "pcsc_unavailable".into(),
            message: "智能卡服务（pcscd）不可用".into(),
            exit: 2,
        });
    }
    let list = readers.list();
    print(json, &list, |list| {
        if list.is_empty() {
            return "没有读卡器".to_owned();
        }
        list.iter()
            .map(|r| {
                format!(
                    "{}\t{}",
                    r.name,
                    if r.card_present { "有卡" } else { "无卡" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
