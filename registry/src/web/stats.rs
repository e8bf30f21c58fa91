//! What a bureau reports upward: applications by state and review level, overdue
//! counts, certificates issued, reviewed and cancelled per unit and month; and the
//! monthly counts as an SVG bar chart drawn here (no script, nothing from the
//! internet). A county or city bureau counts the units it oversees; the province
//! department counts them all.

use super::session::{who, As};
use super::{labels, WebError, WebState};
use crate::storage::{decide_by, Account, AppState, MonthCount, Role, Storage, Unit};
use crate::workflow::rules;
use crate::workflow::service::WorkflowError;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/stats", get(stats))
        .route("/stats/chart.svg", get(chart))
}

#[derive(Debug, Serialize, Clone)]
pub struct StateCount {
    pub state: AppState,
    pub state_label: &'static str,
    /// The unit's review path: 县级单位 / 市级单位 / 省级单位.
    pub level_label: &'static str,
    pub count: u64,
}

#[derive(Debug, Serialize, Clone)]
pub struct UnitMonth {
    pub unit: String,
    pub month: String,
    pub issued: u64,
    pub reviewed: u64,
    pub cancelled: u64,
}

#[derive(Debug, Serialize, Clone)]
pub struct Stats {
    pub by_state: Vec<StateCount>,
    pub waiting: u64,
    pub overdue: u64,
    pub per_unit_month: Vec<UnitMonth>,
}

fn counts_for(account: &Account, unit: &Unit) -> bool {
    account.role == Role::Province || rules::oversees(account, unit)
}

fn level_label(rule: &ecard_domain::numbering::NumberingRule, unit: &Unit) -> &'static str {
    use crate::workflow::rules::ReviewPath;
    match crate::workflow::service::review_path(rule, unit) {
        ReviewPath::CountyThenCity => "县级单位",
        ReviewPath::City => "市级单位",
        ReviewPath::Province => "省级单位",
    }
}

/// The statistics as `account` may see them.
pub fn compute(
    storage: &Storage,
    account: &Account,
    today: NaiveDate,
) -> Result<Stats, WorkflowError> {
    let rule = &storage.province().numbering;
    let holidays = &storage.province().holidays;
    // The province counts every unit's applications, not only the ones it reviews.
    let units: BTreeMap<i64, Unit> = storage
        .units()?
        .into_iter()
        .filter(|u| counts_for(account, u))
        .map(|u| (u.id, u))
        .collect();
    let mut by: BTreeMap<(&'static str, &'static str), (AppState, u64)> = BTreeMap::new();
    let (mut waiting, mut overdue) = (0, 0);
    // One grouped query for every unit, not one read per application.
    for c in storage.application_counts()? {
        let Some(u) = units.get(&c.unit_id) else {
            continue;
        };
        let e = by
            .entry((level_label(rule, u), labels::state_zh(c.state)))
            .or_insert((c.state, 0));
        e.1 += c.count;
        if let Some(due) = decide_by(c.state, &c.since, holidays) {
            waiting += c.count;
            if today > due {
                overdue += c.count;
            }
        }
    }
    let by_state = by
        .into_iter()
        .map(|((level_label, state_label), (state, count))| StateCount {
            state,
            state_label,
            level_label,
            count,
        })
        .collect();
    let names: BTreeMap<i64, &str> = units.values().map(|u| (u.id, u.name.as_str())).collect();
    let mut months: BTreeMap<(String, String), UnitMonth> = BTreeMap::new();
    for MonthCount {
        unit_id,
        month,
        what,
        count,
    } in storage.month_counts()?
    {
        let unit = match unit_id {
            Some(id) => match names.get(&id) {
                Some(n) => (*n).to_owned(),
                None => continue,
            },
            // Certificates recorded by a station without an application here.
            None if account.role == Role::Province => "（站点登记，无申请）".to_owned(),
            None => continue,
        };
        let e = months
            .entry((month.clone(), unit.clone()))
            .or_insert(UnitMonth {
                unit,
                month,
                issued: 0,
                reviewed: 0,
                cancelled: 0,
            });
        match what.as_str() {
            "issued" => e.issued += count,
            "reviewed" => e.reviewed += count,
            _ => e.cancelled += count,
        }
    }
    Ok(Stats {
        by_state,
        waiting,
        overdue,
        per_unit_month: months.into_values().collect(),
    })
}

async fn stats(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
) -> Result<Json<Stats>, WebError> {
    let today = state.api.today();
    let account = who.account;
    Ok(Json(
        state.api.db(move |s| compute(s, &account, today)).await?,
    ))
}

async fn chart(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
) -> Result<impl IntoResponse, WebError> {
    let today = state.api.today();
    let account = who.account;
    let s = state.api.db(move |s| compute(s, &account, today)).await?;
    Ok((
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-cache")],
        month_chart(&s.per_unit_month),
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Grouped bars per month: issued, reviewed, cancelled (all units summed).
pub fn month_chart(rows: &[UnitMonth]) -> String {
    let mut months: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for r in rows {
        let m = months.entry(r.month.as_str()).or_default();
        m[0] += r.issued;
        m[1] += r.reviewed;
        m[2] += r.cancelled;
    }
    // The last 12 months shown.
    let shown: Vec<(&str, [u64; 3])> = months
        .into_iter()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let (w, h, left, top, bottom) = (640u64, 300u64, 48u64, 36u64, 40u64);
    let plot_h = h - top - bottom;
    let max = shown
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let series = [
        ("制发", "#1d4ed8"),
        ("年审", "#15803d"),
        ("注销", "#b91c1c"),
    ];
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="每月制发、年审、注销的证件数"><title>每月制发、年审、注销的证件数</title><rect width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    for (i, (name, color)) in series.iter().enumerate() {
        let x = left + i as u64 * 90;
        out.push_str(&format!(
            r##"<rect x="{x}" y="10" width="12" height="12" fill="{color}"/><text x="{}" y="21" font-size="13" fill="#111">{name}</text>"##,
            x + 16
        ));
    }
    out.push_str(&format!(
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#444"/><text x="{}" y="{}" font-size="12" text-anchor="end" fill="#111">{max}</text><text x="{}" y="{}" font-size="12" text-anchor="end" fill="#111">0</text>"##,
        h - bottom,
        w - 10,
        h - bottom,
        left - 6,
        top + 10,
        left - 6,
        h - bottom
    ));
    if shown.is_empty() {
        out.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="14" text-anchor="middle" fill="#444">暂无制发、年审或注销记录</text>"##,
            w / 2,
            top + plot_h / 2
        ));
    }
    let slot = (w - left - 10) / (shown.len().max(1) as u64);
    let bar = (slot / 4).max(2);
    for (i, (month, v)) in shown.iter().enumerate() {
        let x0 = left + i as u64 * slot + slot / 8;
        for (j, count) in v.iter().enumerate() {
            let bh = count * plot_h / max;
            out.push_str(&format!(
                r#"<rect x="{}" y="{}" width="{bar}" height="{bh}" fill="{}"><title>{} {}：{count}</title></rect>"#,
                x0 + j as u64 * bar,
                h - bottom - bh,
                series[j].1,
                escape(month),
                series[j].0
            ));
        }
        out.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="12" text-anchor="middle" fill="#111">{}</text>"##,
            x0 + bar * 3 / 2,
            h - bottom + 16,
            escape(month)
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_one_svg_with_a_bar_per_series_and_month_and_escapes_text() {
        let rows = vec![UnitMonth {
            unit: "x".into(),
            month: "2026-11<".into(),
            issued: 3,
            reviewed: 1,
            cancelled: 0,
        }];
        let svg = month_chart(&rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            3 + 3,
            "3 legend swatches, 3 bars"
        );
        assert!(svg.contains("2026-11&lt;") && !svg.contains("2026-11<"));
        assert!(month_chart(&[]).contains("暂无"));
    }
}
