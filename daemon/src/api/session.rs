//! Logins and the session extractor every protected route takes. A session is a
//! random token in an HttpOnly, SameSite=Strict cookie; the store keeps only its
//! SHA-256, so a copied database opens no sessions.

use super::error::ApiError;
use super::login_guard::Subject;
use super::{ApiJson, AppState};
use crate::auth::{self, Permission, Role, SessionToken};
use crate::store::{self, OperatorRow};
use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const COOKIE_NAME: &str = "ecard_session";
/// A working day and then some; a station left logged in overnight asks again.
pub const SESSION_HOURS: i64 = 12;
/// A session nobody used for this long ends: a station left unattended asks again.
pub const DEFAULT_IDLE_MINUTES: i64 = 30;

/// The logged-in operator behind a request.
pub struct Session {
    pub operator: OperatorRow,
    pub(super) digest: String,
}

impl Session {
    /// Refuses the request unless the operator's role has `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.operator.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.operator.role))
        }
    }

    /// The name audit rows carry.
    pub fn actor(&self) -> &str {
        &self.operator.username
    }
}

fn stamp_of(t: chrono::DateTime<chrono::Utc>) -> String {
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
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = cookie_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let token = SessionToken::parse(&token).map_err(|_| ApiError::unauthenticated())?;
        let digest = hex::encode(token.digest());
        let now = state.station.clock().now();
        let stamp = stamp_of(now);
        let (operator, ends) = state
            .station
            .store
            .read(|c| {
                let operator = store::session_operator(c, &digest, &stamp)?;
                let ends = store::session_ends(c, &digest, SESSION_HOURS)?;
                Ok(operator.map(|o| (o, ends)))
            })?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "登录已过期，请重新登录",
                )
            })?;
        // A request is activity: the idle limit counts again from now.
        let idle_until = now + state.session_idle;
        let unless_after = stamp_of(idle_until - chrono::TimeDelta::minutes(1));
        // Only when there is something to move: a write transaction per request
        // would take the database's write lock for every page and verification.
        let stale = ends.is_some_and(|(end, cap)| end < unless_after && end < cap);
        if stale {
            state.station.store.write(&operator.username, |tx| {
                store::touch_session(
                    tx,
                    &digest,
                    &stamp_of(idle_until),
                    &unless_after,
                    SESSION_HOURS,
                )
            })?;
        }
        Ok(Session { operator, digest })
    }
}

/// A permission as a type, so that a route states what it needs in its signature.
pub trait Needed {
    const PERMISSION: Permission;
}

/// The permissions as types (`Granted<need::Issue>`).
pub mod need {
    use super::{Needed, Permission};

    macro_rules! needs {
        ($($name:ident),* $(,)?) => {$(
            pub struct $name;
            impl Needed for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    needs!(
        ReadReaders,
        Issue,
        Verify,
        Review,
        ChangeStatus,
        Import,
        ViewRecords,
        ManageKeys,
        ManageOperators,
        ManageTrust,
        ViewAudit,
        DecideCorrections,
    );
}

/// A session whose role holds `P`. As an extractor it runs before the body is read
/// (axum runs the parts extractors first), so a refused role gets 403 whatever it
/// sent, and a handler cannot forget the check.
pub struct Granted<P> {
    pub session: Session,
    needed: std::marker::PhantomData<P>,
}

impl<P> std::ops::Deref for Granted<P> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<P: Needed + Send + Sync> FromRequestParts<AppState> for Granted<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state).await?;
        session.require(P::PERMISSION)?;
        Ok(Granted {
            session,
            needed: std::marker::PhantomData,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct OperatorView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub role_label: &'static str,
    pub disabled: bool,
    pub permissions: Vec<Permission>,
}

/// The session's operator and the station's date: the UI takes "today" (default
/// review year, batch names) from the station's one clock, never from the browser's.
#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub operator: OperatorView,
    pub today: chrono::NaiveDate,
    /// The annual review being worked on (named by the year it covers:
    /// `ReviewPolicy::campaign_year`), the review form's default.
    pub review_year: i32,
}

impl SessionView {
    fn new(state: &AppState, operator: &OperatorRow) -> Self {
        let today = state.station.today();
        SessionView {
            operator: OperatorView::from(operator),
            today,
            review_year: state.station.config.review_policy.campaign_year(today),
        }
    }
}

impl From<&OperatorRow> for OperatorView {
    fn from(o: &OperatorRow) -> Self {
        Self {
            id: o.id,
            username: o.username.clone(),
            display_name: o.display_name.clone(),
            role: o.role,
            role_label: crate::labels::role_zh(o.role),
            disabled: o.disabled,
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| o.role.allows(*p))
                .collect(),
        }
    }
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "用户名或密码错误",
    )
}

fn login_throttled(seconds: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "login_throttled",
        format!("登录失败次数过多，请在 {seconds} 秒后重试"),
    )
    .with("retry_after_secs", json!(seconds))
}

pub async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(req): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let store = state.station.store.clone();
    let username = req.username.trim().to_owned();
    let client = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let account = Subject::Account(username.to_lowercase());
    let subjects = [account.clone(), Subject::Client(client)];
    // A blocked login is answered before the password is looked at: no hash.
    let now = state.station.clock().now();
    if let Some(seconds) = state.login_throttle.wait(&subjects, now) {
        tracing::info!(username = %username, ?client, "login throttled");
        return Err(login_throttled(seconds));
    }
    let found = store.read(|c| store::operator_for_login(c, &username))?;
    // The hash is checked even for an unknown user, so timing does not tell
    // which usernames exist.
    let (operator, phc) = match found {
        Some((o, phc)) => (Some(o), phc),
        None => (None, state.dummy_hash.clone()),
    };
    let password = req.password;
    let ok = state
        .hashes
        .run(move || auth::verify_password(&phc, &password))
        .await
        .map_err(ApiError::from)??;
    let Some(operator) = operator.filter(|_| ok) else {
        tracing::info!(username = %username, ?client, "login refused");
        state
            .login_throttle
            .failed(&subjects, state.station.clock().now());
        return Err(bad_credentials());
    };
    state.login_throttle.succeeded(&account);
    if operator.disabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "该账户已停用，请联系管理员",
        ));
    }
    let (token, digest) = auth::new_session_token()?;
    // The session ends when idle for `session_idle`, at most SESSION_HOURS after now.
    let expires = stamp_of(
        state.station.clock().now()
            + state
                .session_idle
                .min(chrono::TimeDelta::hours(SESSION_HOURS)),
    );
    store.write(&operator.username, |tx| {
        store::insert_session(tx, &hex::encode(digest), operator.id, &expires)?;
        tx.audit("session.login", &operator.username, json!({}))?;
        Ok(())
    })?;
    let cookie = format!(
        "{COOKIE_NAME}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        token.expose(),
        SESSION_HOURS * 3600
    );
    let mut resp = Json(SessionView::new(&state, &operator)).into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "登录处理失败",
            )
        })?,
    );
    Ok(resp)
}

pub async fn me(State(state): State<AppState>, session: Session) -> Json<SessionView> {
    Json(SessionView::new(&state, &session.operator))
}

pub async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, ApiError> {
    state.station.store.write(session.actor(), |tx| {
        store::delete_session(tx, &session.digest)?;
        tx.audit("session.logout", &session.operator.username, json!({}))?;
        Ok(())
    })?;
    state.sessions_ended.send_replace(());
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("ecard_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(resp)
}
