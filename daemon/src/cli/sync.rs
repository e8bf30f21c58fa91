//! `ecardd sync`: one round with the registry, the sync status, or enrolment.

use super::clock;
use super::output::{print, Failure};
use super::station::{read_secret, runtime, StationArgs};
use clap::{Args, Subcommand};
use ecard_sync_protocol::client::RegistryTls;
use ecardd::ops::Station;
use ecardd::store::Store;
use ecardd::sync::SyncError;
use serde::Serialize;
use std::sync::Arc;

#[derive(Args)]
pub struct SyncArgs {
    #[command(flatten)]
    station: StationArgs,
    /// Print the status (last success, backlog, revocation list) instead.
    #[arg(long)]
    status: bool,
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<SyncCmd>,
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Generate this station's request key and pin the registry's list key; prints
    /// the public key for `ecard-registry station add`.
    Enroll {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        station_id: String,
        /// The registry key id given out of band (in the registry's start-up log);
        /// required: enrollment stops if the registry presents another key.
        #[arg(long)]
        registry_key_id: Option<String>,
        /// SHA-256 (hex) of the registry's TLS certificate, from its start-up
        /// output: the only certificate this station will accept from it.
        #[arg(long)]
        registry_cert_sha256: Option<String>,
        /// Plain http:// to a registry on this machine's loopback address (tests);
        /// refused for any other address.
        #[arg(long)]
        insecure_loopback_http: bool,
    },
}

/// What enrolment prints.
#[derive(Serialize)]
struct Enrolled {
    station_id: String,
    public_key: String,
    registry_key_id: String,
}

pub fn sync(a: SyncArgs) -> Result<(), Failure> {
    let store = Arc::new(Store::open(&a.station.db, clock())?);
    if let Some(SyncCmd::Enroll {
        registry,
        station_id,
        registry_key_id,
        registry_cert_sha256,
        insecure_loopback_http,
    }) = a.command
    {
        let tls = registry_tls(registry_cert_sha256, insecure_loopback_http)?;
        return enroll(
            &a.station,
            &store,
            a.json,
            Target {
                registry,
                station_id,
                registry_key_id,
                tls,
            },
        );
    }
    if a.status {
        let holidays = a.station.config()?.province.holidays.clone();
        let s = ecardd::sync::status(&store, clock().today(), &holidays)?;
        print(a.json, &s, |s| {
            format!(
                "登记中心：{}\n上次成功：{}\n待上报：{} 条{}\n注销名单：第 {} 号，{}",
                s.registry_url.as_deref().unwrap_or("未登记"),
                s.last_success.as_deref().unwrap_or("从未"),
                s.backlog,
                match (&s.oldest_unsent_on, s.oldest_unsent_working_days) {
                    (Some(on), Some(days)) => format!(
                        "，最早一条 {on}，已 {days} 个工作日（须在 {} 个工作日内报送）{}",
                        s.deadline_working_days,
                        if s.deadline_at_risk {
                            " ⚠ 即将或已经超期"
                        } else {
                            ""
                        }
                    ),
                    _ => String::new(),
                },
                s.revocation_list_number
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into()),
                s.revocation_list_age_days
                    .map(|d| format!("{d} 天前"))
                    .unwrap_or_else(|| "无".into())
            )
        });
        return Ok(());
    }
    let passphrase = read_secret(&a.station.passphrase_path().ok_or_else(|| {
        Failure::new(
            "invalid_request",
            "同步须提供 --passphrase-file（解锁本站密钥）",
        )
    })?)?;
    let (client, registry_key) = ecardd::sync::open(&store, &passphrase)?;
    let trust = ecardd::keyring::trust_list(&store)?;
    let station = Station::without_keys(
        store,
        ecardd::readers::Readers::none(),
        trust,
        a.station.config()?,
    );
    let report = runtime()?.block_on(ecardd::sync::round(&station, &client, &registry_key))?;
    print(a.json, &report, |r| {
        format!(
            "同步完成：上报 {} 条，收到 {} 项（制证任务 {}，状态变更 {}，他处年审 {}），注销名单新增 {} 条",
            r.pushed, r.feed_items, r.orders, r.status_changes, r.reviews, r.revocations_added
        ) + &if r.document_signers > 0 {
            format!(
                "\n收到其他发证机关的签名证书 {} 个（其卡面二维码在本站可核验）",
                r.document_signers
            )
        } else {
            String::new()
        } + &if r.trust_lists_refused > 0 {
            format!(
                "\n⚠ 拒绝了 {} 份信任列表（非本站信任根签名或不是更新的列表），原信任列表不变，详见审计日志",
                r.trust_lists_refused
            )
        } else {
            String::new()
        }
    });
    Ok(())
}

/// How the station reaches the registry: the pinned certificate, or plain HTTP on
/// loopback for tests.
fn registry_tls(pin: Option<String>, insecure_loopback_http: bool) -> Result<RegistryTls, Failure> {
    match (pin, insecure_loopback_http) {
        // Only a pin: the settings' other form (plain HTTP) has its own flag.
        (Some(pin), false) => RegistryTls::from_setting(&pin)
            .filter(|t| matches!(t, RegistryTls::Pinned(_)))
            .ok_or_else(|| {
            Failure::new(
                "invalid_request",
                "--registry-cert-sha256 须为 64 位十六进制（登记中心启动时输出的证书指纹）",
            )
        }),
        (None, true) => Ok(RegistryTls::InsecureLoopbackHttp),
        _ => Err(Failure::new(
            "registry_cert_required",
            "登记本站须提供 --registry-cert-sha256（登记中心证书指纹，见其启动输出）；仅本机测试可改用 --insecure-loopback-http",
        )),
    }
}

/// The registry a station enrols with, as given out of band.
struct Target {
    registry: String,
    station_id: String,
    registry_key_id: Option<String>,
    tls: RegistryTls,
}

fn enroll(station: &StationArgs, store: &Arc<Store>, json: bool, t: Target) -> Result<(), Failure> {
    // No trust on first use: the key id comes from the registry operator, not from
    // whoever answers on the network.
    let expected_key_id = t.registry_key_id.ok_or_else(|| {
        Failure::new(
            "registry_key_id_required",
            "登记本站须提供 --registry-key-id（登记中心管理员线下提供的密钥标识，见登记中心启动日志），未登记",
        )
    })?;
    let passphrase = read_secret(&station.passphrase_path().ok_or_else(|| {
        Failure::new(
            "invalid_request",
            "登记本站须提供 --passphrase-file（用于加密本站密钥）",
        )
    })?)?;
    let rt = runtime()?;
    let fetch = ecard_sync_protocol::client::RegistryClient::new(
        &t.registry,
        &t.station_id,
        Arc::new(
            card_profile::pki::SigningKey::generate()
                .map_err(|e| Failure::new("error", e.to_string()))?,
        ),
        clock(),
        t.tls,
    )
    .map_err(SyncError::from)?;
    let key = rt.block_on(fetch.registry_key()).map_err(SyncError::from)?;
    let public = ecardd::sync::enroll(
        store,
        &ecardd::sync::Enrolment {
            registry_url: &t.registry,
            station_id: &t.station_id,
            registry_key: &key,
            expected_key_id: &expected_key_id,
            tls: t.tls,
        },
        &passphrase,
        ecardd::keystore::KdfParams::default(),
    )?;
    let out = Enrolled {
        station_id: t.station_id,
        public_key: public,
        registry_key_id: key.key_id,
    };
    print(json, &out, |o| {
        format!(
            "本站 {} 已登记；登记中心密钥标识 {}\n请登记中心管理员执行：ecard-registry station add --name {} --public-key {}",
            o.station_id, o.registry_key_id, o.station_id, o.public_key
        )
    });
    Ok(())
}
