//! Logins to the reviewers' pages and the extractors every page route takes. A
//! session is a random token in an HttpOnly, SameSite=Strict cookie; the database
//! keeps only its SHA-256, so a copied database opens no sessions. The shape is the
//! station's (daemon/src/api/session.rs): the same throttle and hash gate
//! (`ecard_web_guard`), the same idle limit and absolute end, the role checked
//! before the body is read.

use super::{WebError, WebState};
use crate::keys::{new_token, token_digest};
use crate::storage::{Account, Role};
use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ecard_web_guard::login_guard::Subject;
use serde::{Deserialize, Serialize};

pub const COOKIE_NAME: &str = "ecard_registry_session";
/// A working day and then some.
pub const SESSION_HOURS: i64 = 12;
/// A session unused this long ends.
pub const DEFAULT_IDLE_MINUTES: i64 = 30;

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        // Only the exact form a login hands out is looked up.
        .filter(|t| t.len() == 64 && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The logged-in account behind a page request.
pub struct Session {
    pub account: Account,
    digest: String,
}

impl FromRequestParts<WebState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        let token = cookie_token(&parts.headers).ok_or_else(WebError::unauthenticated)?;
        let digest = token_digest(&token);
        let now = state.api.storage.clock().now();
        let idle = state.guards.idle;
        let d = digest.clone();
        let found = state
            .api
            .db(move |s| {
                let Some(found) = s.web_session(&d, &stamp(now))? else {
                    return Ok(None);
                };
                // A request is activity: the idle limit counts again from now, up to
                // the absolute end. Written only when it moves by a minute or more,
                // so that a page's requests do not each take the write lock.
                let cap = chrono::DateTime::parse_from_rfc3339(&found.created_at)
                    .map(|c| {
                        c.with_timezone(&chrono::Utc) + chrono::TimeDelta::hours(SESSION_HOURS)
                    })
                    .unwrap_or(now);
                let want = (now + idle).min(cap);
                let ends = chrono::DateTime::parse_from_rfc3339(&found.expires_at)
                    .map(|e| e.with_timezone(&chrono::Utc))
                    .unwrap_or(now);
                if want - ends >= chrono::TimeDelta::minutes(1) {
                    s.touch_web_session(&d, &stamp(want))?;
                }
                Ok::<_, crate::storage::StorageError>(Some(found.account))
            })
            .await?;
        let account = found.ok_or_else(|| {
            WebError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "登录已过期，请重新登录",
            )
        })?;
        Ok(Session { account, digest })
    }
}

/// A set of roles as a type, so that a route states who may use it in its signature.
pub trait Roles {
    fn allows(role: Role) -> bool;
}

pub mod who {
    use super::{Role, Roles};

    /// 单位管理员.
    pub struct Unit;
    /// The reviewing bureaus: 县级、市级司法局, 省司法厅.
    pub struct Reviewer;
    /// The registry's administrator (units, accounts, stations): an account of its
    /// own, not a reviewer's, so that a reviewer's session cannot change the lists
    /// and an administrator's cannot decide applications.
    pub struct Admin;
    /// Anyone logged in (what each sees is decided by `rules::oversees`).
    pub struct Anyone;

    impl Roles for Unit {
        fn allows(role: Role) -> bool {
            role == Role::Unit
        }
    }
    impl Roles for Reviewer {
        fn allows(role: Role) -> bool {
            matches!(role, Role::County | Role::City | Role::Province)
        }
    }
    impl Roles for Admin {
        fn allows(role: Role) -> bool {
            role == Role::Admin
        }
    }
    impl Roles for Anyone {
        fn allows(_: Role) -> bool {
            true
        }
    }
}

/// A session whose role is in `R`. As an extractor it runs before the body is read
/// (axum runs the parts extractors first), so a refused role gets 403 whatever it
/// sent, and a handler cannot forget the check.
pub struct As<R> {
    pub account: Account,
    roles: std::marker::PhantomData<R>,
}

impl<R: Roles + Send + Sync> FromRequestParts<WebState> for As<R> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        let session = Session::from_request_parts(parts, state).await?;
        if !R::allows(session.account.role) {
            return Err(WebError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "“{}”账号无权进行该操作",
                    super::labels::role_zh(session.account.role)
                ),
            ));
        }
        Ok(As {
            account: session.account,
            roles: std::marker::PhantomData,
        })
    }
}

/// The logged-in account as the pages show it.
#[derive(Debug, Serialize)]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub role_label: &'static str,
    pub org_name: String,
    pub unit_name: Option<String>,
    pub region: Option<String>,
    /// The registry's date (its one clock), never the browser's.
    pub today: chrono::NaiveDate,
    /// The province's units number their own new applicants (Fujian): the unit's
    /// form offers 证编号.
    pub units_prefill_numbers: bool,
}

async fn me_of(state: &WebState, account: Account) -> Result<Me, WebError> {
    let unit_name = match account.unit_id {
        Some(id) => Some(state.api.db(move |s| s.unit(id)).await?.name),
        None => None,
    };
    Ok(Me {
        username: account.username,
        role: account.role,
        role_label: super::labels::role_zh(account.role),
        org_name: account.org_name,
        unit_name,
        region: account.region,
        today: state.api.today(),
        units_prefill_numbers: state.api.storage.province().units_prefill_numbers,
    })
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<WebState>,
    extensions: axum::http::Extensions,
    Json(req): Json<Login>,
) -> Result<Response, WebError> {
    let username = req.username.trim().to_owned();
    let client = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let account_subject = Subject::Account(username.to_lowercase());
    let subjects = [account_subject.clone(), Subject::Client(client)];
    let clock = state.api.storage.clock();
    // A blocked login is answered before the password is looked at: no hash.
    if let Some(seconds) = state.guards.throttle.wait(&subjects, clock.now()) {
        tracing::info!(username = %username, ?client, "page login throttled");
        return Err(WebError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "login_throttled",
            format!("登录失败次数过多，请在 {seconds} 秒后重试"),
        ));
    }
    let name = username.clone();
    let found = state.api.db(move |s| s.account_for_login(&name)).await?;
    // The hash is checked even for an unknown user, so timing does not tell which
    // usernames exist.
    let (account, phc) = match found {
        Some((a, phc)) => (Some(a), phc),
        None => (None, state.guards.dummy_hash.clone()),
    };
    let password = req.password;
    let ok = state
        .guards
        .hashes
        .run(move || super::password::verify_password(&phc, &password))
        .await
        .map_err(WebError::from)?
        .unwrap_or(false);
    let Some(account) = account.filter(|_| ok) else {
        tracing::info!(username = %username, ?client, "page login refused");
        state.guards.throttle.failed(&subjects, clock.now());
        return Err(WebError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "用户名或密码错误",
        ));
    };
    state.guards.throttle.succeeded(&account_subject);
    let token = new_token().map_err(WebError::internal)?;
    let digest = token_digest(&token);
    let expires = stamp(
        clock.now()
            + state
                .guards
                .idle
                .min(chrono::TimeDelta::hours(SESSION_HOURS)),
    );
    let id = account.id;
    state
        .api
        .db(move |s| s.insert_web_session(&digest, id, &expires))
        .await?;
    tracing::info!(username = %account.username, "page login");
    let secure = if state.guards.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/{secure}; Max-Age={}",
        SESSION_HOURS * 3600
    );
    let mut resp = Json(me_of(&state, account).await?).into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(WebError::internal)?,
    );
    Ok(resp)
}

pub async fn me(State(state): State<WebState>, session: Session) -> Result<Json<Me>, WebError> {
    Ok(Json(me_of(&state, session.account).await?))
}

pub async fn logout(State(state): State<WebState>, session: Session) -> Result<Response, WebError> {
    let digest = session.digest;
    state.api.db(move |s| s.delete_web_session(&digest)).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static(
            "ecard_registry_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    Ok(resp)
}
