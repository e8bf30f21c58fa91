//! Administration: station settings, key and trust-list status (never the keys
//! themselves), and operator accounts.

use super::error::ApiError;
use super::session::OperatorView;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::auth::{self, Role};
use crate::keyring;
use crate::ops::MAX_REVOCATION_AGE_SETTING;
use crate::store;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

fn settings_view(state: &AppState) -> Result<Value, ApiError> {
    let st = &state.station;
    let keys = keyring::status(&st.store)?;
    let trust: Vec<Value> = st
        .trust_list()
        .anchors
        .iter()
        .map(|a| json!({ "key_id": hex::encode(a.key_id), "name": a.name, "valid_from": a.valid_from, "valid_until": a.valid_until }))
        .collect();
    let signer = st.keys.as_ref().map(|k| &k.signer.certificate);
    Ok(json!({
        "bureau_name": st.config.bureau_name,
        "max_revocation_age_days": st.max_revocation_age_days(),
        "max_revocation_age_limit_days": ecard_domain::field_check::HARD_MAX_REVOCATION_AGE_DAYS,
        "keys": {
            "unlocked": st.keys.is_some(),
            "stored_sealed": keys.master,
            "signer": signer.map(|c| json!({ "subject": c.subject, "issuer_key_id": hex::encode(c.issuer),
                        "valid_from": c.valid_from, "valid_until": c.valid_until })),
        },
        "trust": trust,
    }))
}

pub async fn settings(
    State(state): State<AppState>,
    _session: Granted<need::ManageKeys>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(settings_view(&state)?))
}

#[derive(Deserialize)]
pub struct SettingsBody {
    max_revocation_age_days: Option<i64>,
}

pub async fn update_settings(
    State(state): State<AppState>,
    session: Granted<need::ManageKeys>,
    ApiJson(req): ApiJson<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    if let Some(days) = req.max_revocation_age_days {
        // The domain's hard maximum: no admin setting may allow an older list.
        let days = ecard_domain::field_check::check_max_revocation_age(days)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        state.station.store.write(session.actor(), |tx| {
            tx.set_setting(MAX_REVOCATION_AGE_SETTING, &days.to_string())?;
            tx.audit(
                "settings.changed",
                MAX_REVOCATION_AGE_SETTING,
                json!({ "value": days }),
            )?;
            Ok(())
        })?;
    }
    Ok(Json(settings_view(&state)?))
}

pub async fn operators(
    State(state): State<AppState>,
    _session: Granted<need::ManageOperators>,
) -> Result<Json<Value>, ApiError> {
    let list = state.station.store.read(store::list_operators)?;
    Ok(Json(json!(list
        .iter()
        .map(OperatorView::from)
        .collect::<Vec<_>>())))
}

#[derive(Deserialize)]
pub struct NewOperator {
    username: String,
    display_name: String,
    role: String,
    password: String,
}

fn valid_username(u: &str) -> bool {
    (2..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

pub async fn create_operator(
    State(state): State<AppState>,
    session: Granted<need::ManageOperators>,
    ApiJson(req): ApiJson<NewOperator>,
) -> Result<(StatusCode, Json<OperatorView>), ApiError> {
    let username = req.username.trim();
    if !valid_username(username) {
        return Err(ApiError::invalid(
            "用户名须为 2–32 个字母、数字、下划线、连字符或点",
        ));
    }
    let display = req.display_name.trim();
    if display.is_empty() {
        return Err(ApiError::invalid("请填写姓名"));
    }
    let role = Role::parse(&req.role)
        .ok_or_else(|| ApiError::invalid(format!("未知的角色：{}", req.role)))?;
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "密码处理失败",
            )
        })??;
    let id = state.station.store.write(session.actor(), |tx| {
        store::create_operator(tx, username, display, role, &hash)
    })?;
    let op = state.station.store.read(|c| store::operator(c, id))?;
    Ok((StatusCode::CREATED, Json(OperatorView::from(&op))))
}

#[derive(Deserialize)]
pub struct OperatorPatch {
    disabled: Option<bool>,
    password: Option<String>,
}

pub async fn update_operator(
    State(state): State<AppState>,
    session: Granted<need::ManageOperators>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<OperatorPatch>,
) -> Result<Json<OperatorView>, ApiError> {
    if req.disabled == Some(true) && id == session.operator.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "不能停用自己的账户",
        ));
    }
    let hash = match req.password {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || auth::hash_password(&p))
                .await
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "密码处理失败",
                    )
                })??,
        ),
        None => None,
    };
    state.station.store.write(session.actor(), |tx| {
        if let Some(d) = req.disabled {
            store::set_operator_disabled(tx, id, d)?;
        }
        if let Some(h) = &hash {
            store::set_operator_password(tx, id, h)?;
        }
        Ok(())
    })?;
    let op = state.station.store.read(|c| store::operator(c, id))?;
    Ok(Json(OperatorView::from(&op)))
}

pub async fn trust(
    State(state): State<AppState>,
    _session: Granted<need::ManageTrust>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.station.trust_list().anchors)))
}

/// Adds a province root (its public key only) to the trust list.
pub async fn add_trust(
    State(state): State<AppState>,
    session: Granted<need::ManageTrust>,
    ApiJson(anchor): ApiJson<card_profile::pki::TrustAnchor>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if card_profile::pki::key_id(&anchor.public_key) != anchor.key_id {
        return Err(ApiError::invalid("根证书公钥与其标识不符"));
    }
    if anchor.valid_until < anchor.valid_from || anchor.name.trim().is_empty() {
        return Err(ApiError::invalid("根证书的名称或有效期无效"));
    }
    state
        .station
        .store
        .write(session.actor(), |tx| keyring::add_anchor(tx, &anchor))?;
    reload_trust(&state)?;
    Ok((
        StatusCode::CREATED,
        Json(json!(state.station.trust_list().anchors)),
    ))
}

pub async fn remove_trust(
    State(state): State<AppState>,
    session: Granted<need::ManageTrust>,
    Path(key_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let removed = state.station.store.write(session.actor(), |tx| {
        let n = tx.conn().execute(
            "DELETE FROM trust_anchors WHERE key_id = ?1",
            [&key_id.to_ascii_lowercase()],
        )?;
        if n > 0 {
            tx.audit("trust.anchor_removed", &key_id, json!({}))?;
        }
        Ok(n)
    })?;
    if removed == 0 {
        return Err(ApiError::not_found(format!("信任列表中没有 {key_id}")));
    }
    reload_trust(&state)?;
    Ok(Json(json!(state.station.trust_list().anchors)))
}

fn reload_trust(state: &AppState) -> Result<(), ApiError> {
    state
        .station
        .set_trust_list(keyring::trust_list(&state.station.store)?);
    Ok(())
}
