//! Units (the bodies that apply) and registry operator accounts with bearer tokens.
//! Only a token's SHA-256 is stored.

use super::db::{params, OptionalExtension};
use super::{is_constraint, NewUnit, Result, Storage, StorageError, Tx};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A unit's operator: files applications for its unit.
    Unit,
    County,
    City,
    Province,
    /// Administers the registry's lists on the pages (units, accounts, stations);
    /// reviews nothing and oversees no application.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unit => "unit",
            Role::County => "county",
            Role::City => "city",
            Role::Province => "province",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Unit,
            Role::County,
            Role::City,
            Role::Province,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub region: String,
    pub department: String,
    pub province_level: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub region: Option<String>,
    pub org_name: String,
}

pub(super) fn unit_row(r: &super::db::Row) -> super::db::DbResult<Unit> {
    Ok(Unit {
        id: r.get(0)?,
        name: r.get(1)?,
        region: r.get(2)?,
        department: r.get(3)?,
        province_level: r.get(4)?,
    })
}

fn account_row(r: &super::db::Row) -> super::db::DbResult<Account> {
    let role: String = r.get(2)?;
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        // The CHECK constraint admits only known roles.
        role: Role::parse(&role).unwrap_or(Role::Unit),
        unit_id: r.get(3)?,
        region: r.get(4)?,
        org_name: r.get(5)?,
    })
}

pub(super) const UNIT_COLUMNS: &str = "id, name, region, department, province_level";

impl Tx<'_> {
    /// Inserts a unit (its name trimmed); a taken name is `Exists`.
    pub(crate) fn insert_unit(&self, unit: &NewUnit) -> Result<Unit> {
        let id: i64 = self.conn()
            .query_row(
                "INSERT INTO units (name, region, department, province_level, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![unit.name.trim(), unit.region, unit.department, unit.province_level, self.now()],
                |r| r.get(0),
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    StorageError::Exists { what: "unit", id: unit.name.clone() }
                } else {
                    e.into()
                }
            })?;
        Ok(Unit {
            id,
            name: unit.name.trim().to_owned(),
            region: unit.region.clone(),
            department: unit.department.clone(),
            province_level: unit.province_level,
        })
    }
}

impl Storage {
    pub fn unit(&self, id: i64) -> Result<Unit> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = ?1"),
                params![id],
                unit_row,
            )
            .optional()?
            .ok_or_else(|| StorageError::NotFound {
                what: "unit",
                id: id.to_string(),
            })
        })
    }

    pub fn unit_by_name(&self, name: &str) -> Result<Option<Unit>> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {UNIT_COLUMNS} FROM units WHERE name = ?1"),
                params![name],
                unit_row,
            )
            .optional()?)
        })
    }

    /// Creates an account holding the token whose SHA-256 is `token_digest`.
    pub fn add_account(
        &self,
        username: &str,
        role: Role,
        unit_id: Option<i64>,
        region: Option<&str>,
        org_name: &str,
        token_digest: &str,
    ) -> Result<Account> {
        if username.trim().is_empty() {
            return Err(StorageError::Invalid("用户名不能为空".into()));
        }
        match role {
            Role::Unit if unit_id.is_none() => {
                return Err(StorageError::Invalid("单位账号须指定所属单位".into()))
            }
            Role::County | Role::City if region.is_none() => {
                return Err(StorageError::Invalid(
                    "县级、市级账号须指定所辖地区代码".into(),
                ))
            }
            _ => {}
        }
        if let Some(id) = unit_id {
            self.unit(id)?;
        }
        let id = self.write(|tx| {
            let id: i64 = tx.conn()
                .query_row(
                    "INSERT INTO accounts (username, role, unit_id, region, org_name, token_digest, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                    params![username, role.as_str(), unit_id, region, org_name, token_digest, tx.now()],
                    |r| r.get(0),
                )
                .map_err(|e| {
                    if is_constraint(&e) {
                        StorageError::Exists { what: "account", id: username.to_owned() }
                    } else {
                        e.into()
                    }
                })?;
            Ok(id)
        })?;
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id, username, role, unit_id, region, org_name FROM accounts WHERE id = ?1",
                params![id],
                account_row,
            )?)
        })
    }

    pub fn account_by_token_digest(&self, digest: &str) -> Result<Option<Account>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id, username, role, unit_id, region, org_name FROM accounts WHERE token_digest = ?1",
                params![digest],
                account_row,
            )
            .optional()?)
        })
    }
}
