//! What the reviewers' pages (`crate::web`) need stored: passwords of registry
//! accounts, page sessions (only a token's SHA-256), and the read-outs the pages
//! show (decision history, when an application reached its current level, unit,
//! account and station lists, counts for the statistics). SQL only; who may see
//! what is decided in `crate::web` with `crate::workflow::rules`.

use super::accounts::{unit_row, UNIT_COLUMNS};
use super::db::{params, OptionalExtension};
use super::{Account, AppState, Result, Role, Storage, Unit};
use serde::Serialize;

/// One entry of an application's history (the `decisions` log).
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub actor: String,
    pub action: String,
    pub level: Option<String>,
    pub reason: Option<String>,
    pub at: String,
}

/// An account as the admin page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountListing {
    #[serde(flatten)]
    pub account: Account,
    pub unit_name: Option<String>,
    /// Whether a page password is set (bearer tokens are for programs).
    pub can_log_in: bool,
}

/// A session's account and its current end (RFC 3339), and its absolute end.
pub struct WebSession {
    pub account: Account,
    pub expires_at: String,
    pub created_at: String,
}

/// Applications of one unit in one state whose last change was on `since`
/// (`YYYY-MM-DD`).
#[derive(Debug, Clone)]
pub struct AppCount {
    pub unit_id: i64,
    pub state: AppState,
    pub since: String,
    pub count: u64,
}

/// Counts for the statistics page: per unit and month (`YYYY-MM`).
#[derive(Debug, Clone, Serialize)]
pub struct MonthCount {
    pub unit_id: Option<i64>,
    pub month: String,
    pub what: String,
    pub count: u64,
}

fn account_of(r: &super::db::Row, at: usize) -> super::db::DbResult<Account> {
    let role: String = r.get(at + 2)?;
    Ok(Account {
        id: r.get(at)?,
        username: r.get(at + 1)?,
        role: Role::parse(&role).unwrap_or(Role::Unit),
        unit_id: r.get(at + 3)?,
        region: r.get(at + 4)?,
        org_name: r.get(at + 5)?,
    })
}

const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.role, a.unit_id, a.region, a.org_name";

impl Storage {
    /// Sets (or replaces) the page password of `username` as an argon2id PHC string;
    /// the account's open page sessions end. `false` when there is no such account.
    pub fn set_account_password(&self, username: &str, phc: &str) -> Result<bool> {
        self.write(|tx| {
            let id: Option<i64> = tx
                .conn()
                .query_row(
                    "SELECT id FROM accounts WHERE username = ?1",
                    params![username],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else { return Ok(false) };
            tx.conn().execute(
                "INSERT INTO account_passwords (account_id, phc, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id) DO UPDATE SET phc = excluded.phc, updated_at = excluded.updated_at",
                params![id, phc, tx.now()],
            )?;
            tx.conn()
                .execute("DELETE FROM web_sessions WHERE account_id = ?1", params![id])?;
            Ok(true)
        })
    }

    /// The account `username` (exact) and its password hash, when it has one.
    pub fn account_for_login(&self, username: &str) -> Result<Option<(Account, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, p.phc FROM accounts a
                     JOIN account_passwords p ON p.account_id = a.id WHERE a.username = ?1"
                ),
                params![username],
                |r| Ok((account_of(r, 0)?, r.get(6)?)),
            )
            .optional()?)
        })
    }

    pub fn insert_web_session(
        &self,
        digest: &str,
        account_id: i64,
        expires_at: &str,
    ) -> Result<()> {
        self.write(|tx| {
            // Ended sessions are swept here, where sessions are made, not on every read.
            tx.conn().execute(
                "DELETE FROM web_sessions WHERE expires_at < ?1",
                params![tx.now()],
            )?;
            tx.conn().execute(
                "INSERT INTO web_sessions (digest, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![digest, account_id, tx.now(), expires_at],
            )?;
            Ok(())
        })
    }

    /// The session with this digest when it has not ended by `now` (RFC 3339).
    pub fn web_session(&self, digest: &str, now: &str) -> Result<Option<WebSession>> {
        self.read(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, s.expires_at, s.created_at FROM web_sessions s
                     JOIN accounts a ON a.id = s.account_id
                     JOIN account_passwords p ON p.account_id = a.id
                     WHERE s.digest = ?1 AND s.expires_at > ?2"
                ),
                params![digest, now],
                |r| {
                    Ok(WebSession {
                        account: account_of(r, 0)?,
                        expires_at: r.get(6)?,
                        created_at: r.get(7)?,
                    })
                },
            )
            .optional()?)
        })
    }

    pub fn touch_web_session(&self, digest: &str, expires_at: &str) -> Result<()> {
        self.write(|tx| {
            tx.conn().execute(
                "UPDATE web_sessions SET expires_at = ?2 WHERE digest = ?1",
                params![digest, expires_at],
            )?;
            Ok(())
        })
    }

    pub fn delete_web_session(&self, digest: &str) -> Result<()> {
        self.write(|tx| {
            tx.conn().execute(
                "DELETE FROM web_sessions WHERE digest = ?1",
                params![digest],
            )?;
            Ok(())
        })
    }

    /// The history of application `id`, oldest first.
    pub fn decisions(&self, id: i64) -> Result<Vec<Decision>> {
        self.read(|c| {
            Ok(c.prepare(
                "SELECT actor, action, level, reason, at FROM decisions WHERE application_id = ?1 ORDER BY id",
            )?
            .query_map(params![id], |r| {
                Ok(Decision {
                    actor: r.get(0)?,
                    action: r.get(1)?,
                    level: r.get(2)?,
                    reason: r.get(3)?,
                    at: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?)
        })
    }

    /// Applications counted by unit, state and the day of their last change (the
    /// day a waiting one reached its level), in one grouped query: what the
    /// statistics count, without reading each application.
    pub fn application_counts(&self) -> Result<Vec<AppCount>> {
        self.read(|c| {
            Ok(c.prepare(
                "SELECT unit_id, state, substr(updated_at, 1, 10), COUNT(*) FROM applications
                 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            )?
            .query_map(params![], |r| {
                let state: String = r.get(1)?;
                Ok(AppCount {
                    unit_id: r.get(0)?,
                    // The CHECK constraint admits only known states.
                    state: AppState::parse(&state).unwrap_or(AppState::Submitted),
                    since: r.get(2)?,
                    count: r.get::<_, i64>(3)?.max(0) as u64,
                })
            })?
            .collect::<Result<_, _>>()?)
        })
    }

    /// The applications' photos' bytes (for the photo checks and the page).
    pub fn photo_of_application(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT photo_jpeg FROM applications WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
        })
    }

    pub fn units(&self) -> Result<Vec<Unit>> {
        self.read(|c| {
            Ok(c.prepare(&format!(
                "SELECT {UNIT_COLUMNS} FROM units ORDER BY region, name"
            ))?
            .query_map(params![], unit_row)?
            .collect::<Result<_, _>>()?)
        })
    }

    pub fn account_listing(&self) -> Result<Vec<AccountListing>> {
        self.read(|c| {
            Ok(c.prepare(&format!(
                "SELECT {ACCOUNT_COLUMNS}, u.name, p.account_id IS NOT NULL FROM accounts a
                 LEFT JOIN units u ON u.id = a.unit_id
                 LEFT JOIN account_passwords p ON p.account_id = a.id ORDER BY a.role, a.username"
            ))?
            .query_map(params![], |r| {
                Ok(AccountListing {
                    account: account_of(r, 0)?,
                    unit_name: r.get(6)?,
                    can_log_in: r.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?)
        })
    }

    /// The trust list as published (the signed JSON) and when, if any.
    pub fn trust_list_as_published(&self) -> Result<Option<(String, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT list_json, updated_at FROM trust_list WHERE id = 1",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// The current revocation list's number and when it was made (`None` before any).
    pub fn revocation_list_issued(&self) -> Result<Option<(u64, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT number, issued_at FROM revocation_lists ORDER BY number DESC LIMIT 1",
                params![],
                |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// Certificates issued (cards written), reviewed (annual reviews recorded) and
    /// cancelled, per unit (of the application that made the certificate; `None`
    /// for certificates a station recorded without one) and month.
    pub fn month_counts(&self) -> Result<Vec<MonthCount>> {
        self.read(|c| {
            let sql = "
                SELECT a.unit_id, substr(k.issued_on, 1, 7), 'issued', COUNT(*) FROM cards k
                  JOIN certificates c ON c.number = k.number
                  LEFT JOIN applications a ON a.id = c.application_id
                  GROUP BY 1, 2
                UNION ALL
                SELECT a.unit_id, substr(r.review_date, 1, 7), 'reviewed', COUNT(*) FROM reviews r
                  JOIN certificates c ON c.number = r.number
                  LEFT JOIN applications a ON a.id = c.application_id
                  GROUP BY 1, 2
                UNION ALL
                SELECT a.unit_id, substr(s.effective_on, 1, 7), 'cancelled', COUNT(*) FROM status_changes s
                  JOIN certificates c ON c.number = s.number
                  LEFT JOIN applications a ON a.id = c.application_id
                  WHERE s.kind = 'cancel'
                  GROUP BY 1, 2
                ORDER BY 2, 1, 3";
            Ok(c.prepare(sql)?
                .query_map(params![], |r| {
                    Ok(MonthCount {
                        unit_id: r.get(0)?,
                        month: r.get(1)?,
                        what: r.get(2)?,
                        count: r.get::<_, i64>(3)?.max(0) as u64,
                    })
                })?
                .collect::<Result<_, _>>()?)
        })
    }
}
