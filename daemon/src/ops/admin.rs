//! The administrator's changes: station settings, operator accounts and the trust
//! list. The API and the CLI call these, so `ecardd operator add` checks what the
//! web form checks, and every change is written with its audit row (the store's
//! functions write both in one transaction).

use super::{Invalid, OpError, Station, MAX_REVOCATION_AGE_SETTING};
use crate::auth::{self, Role};
use crate::keyring;
use crate::store::{self, OperatorRow};
use card_profile::pki::TrustAnchor;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A new operator account as the form (or the CLI) gives it.
#[derive(Debug, Deserialize)]
pub struct NewOperator {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
}

/// A change to one account: enable/disable, a new password.
#[derive(Debug, Default, Deserialize)]
pub struct OperatorChange {
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// The document signer's certificate (never its key).
#[derive(Debug, Serialize)]
pub struct SignerView {
    pub subject: String,
    pub issuer_key_id: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize)]
pub struct KeysView {
    pub unlocked: bool,
    pub stored_sealed: bool,
    pub signer: Option<SignerView>,
}

/// The station's settings page.
#[derive(Debug, Serialize)]
pub struct SettingsView {
    pub bureau_name: String,
    pub max_revocation_age_days: i64,
    /// The hard maximum of the setting (ecard_domain::field_check).
    pub max_revocation_age_limit_days: i64,
    pub keys: KeysView,
    pub trust: Vec<TrustAnchor>,
    /// The province configuration loaded at start (read-only here).
    pub province: ProvinceView,
}

/// What 设置 shows of the province configuration: enough to see which rules the
/// station runs under.
#[derive(Debug, Serialize)]
pub struct ProvinceView {
    pub province: String,
    pub numbering_province: String,
    pub regions: usize,
    pub departments: usize,
    pub department_digits: usize,
    pub serial_digits: usize,
    pub photo: ecard_domain::photo::PhotoRules,
    pub review_deadline_month: u32,
    pub review_deadline_day: u32,
    pub retirement_male_years: u32,
    pub retirement_female_years: u32,
    pub holidays: Vec<NaiveDate>,
    /// 调休上班日: weekend days that are working days.
    pub workdays: Vec<NaiveDate>,
    pub units_prefill_numbers: bool,
}

impl From<&ecard_domain::province::ProvinceConfig> for ProvinceView {
    fn from(p: &ecard_domain::province::ProvinceConfig) -> Self {
        ProvinceView {
            province: p.province.clone(),
            numbering_province: p.numbering.province.clone(),
            regions: p.numbering.regions.len(),
            departments: p.numbering.departments.len(),
            department_digits: p.numbering.department_digits,
            serial_digits: p.numbering.serial_digits,
            photo: p.photo,
            review_deadline_month: p.review.deadline_month,
            review_deadline_day: p.review.deadline_day,
            retirement_male_years: p.retirement.male.base_years,
            retirement_female_years: p.retirement.female.base_years,
            holidays: p.holidays.off.clone(),
            workdays: p.holidays.worked.clone(),
            units_prefill_numbers: p.units_prefill_numbers,
        }
    }
}

fn valid_username(u: &str) -> bool {
    (2..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl Station {
    pub fn settings(&self) -> Result<SettingsView, OpError> {
        let keys = keyring::status(&self.store)?;
        Ok(SettingsView {
            bureau_name: self.config.bureau_name.clone(),
            max_revocation_age_days: self.max_revocation_age_days(),
            max_revocation_age_limit_days: ecard_domain::field_check::HARD_MAX_REVOCATION_AGE_DAYS,
            keys: KeysView {
                unlocked: self.keys.is_some(),
                stored_sealed: keys.master,
                signer: self.keys.as_ref().map(|k| {
                    let c = &k.signer.certificate;
                    SignerView {
                        subject: c.subject.clone(),
                        issuer_key_id: hex::encode(c.issuer),
                        valid_from: c.valid_from,
                        valid_until: c.valid_until,
                    }
                }),
            },
            trust: self.trust_list().anchors,
            province: ProvinceView::from(self.config.province.as_ref()),
        })
    }

    /// Sets how old the revocation list may grow before field checks warn.
    pub fn set_max_revocation_age(&self, actor: &str, days: i64) -> Result<(), OpError> {
        // The domain's hard maximum: no admin setting may allow an older list.
        let days = ecard_domain::field_check::check_max_revocation_age(days)
            .map_err(Invalid::RevocationAgeLimit)?;
        self.store.write(actor, |tx| {
            tx.change_setting(MAX_REVOCATION_AGE_SETTING, &days.to_string())
        })?;
        Ok(())
    }

    /// Creates an account. Hashing the password takes a second and 19 MiB: call
    /// from a blocking context.
    pub fn create_operator(&self, actor: &str, new: &NewOperator) -> Result<OperatorRow, OpError> {
        let username = new.username.trim();
        if !valid_username(username) {
            return Err(Invalid::Username.into());
        }
        let display = new.display_name.trim();
        if display.is_empty() {
            return Err(Invalid::DisplayNameMissing.into());
        }
        let role = Role::parse(&new.role).ok_or_else(|| Invalid::UnknownRole(new.role.clone()))?;
        let hash = auth::hash_password(&new.password)?;
        let id = self.store.write(actor, |tx| {
            store::create_operator(tx, username, display, role, &hash)
        })?;
        Ok(self.store.read(|c| store::operator(c, id))?)
    }

    /// Disables/enables an account or sets its password; `acting_id` is the
    /// operator making the change (who may not lock themselves out).
    pub fn change_operator(
        &self,
        actor: &str,
        acting_id: i64,
        id: i64,
        change: &OperatorChange,
    ) -> Result<OperatorRow, OpError> {
        if change.disabled == Some(true) && id == acting_id {
            return Err(Invalid::DisableSelf.into());
        }
        let hash = change
            .password
            .as_deref()
            .map(auth::hash_password)
            .transpose()?;
        self.store.write(actor, |tx| {
            if let Some(d) = change.disabled {
                store::set_operator_disabled(tx, id, d)?;
            }
            if let Some(h) = &hash {
                store::set_operator_password(tx, id, h)?;
            }
            Ok(())
        })?;
        Ok(self.store.read(|c| store::operator(c, id))?)
    }

    /// Adds a province root (its public key only) to the trust list.
    pub fn add_trust_anchor(&self, actor: &str, anchor: &TrustAnchor) -> Result<(), OpError> {
        if card_profile::pki::key_id(&anchor.public_key) != anchor.key_id {
            return Err(Invalid::AnchorKeyId.into());
        }
        if anchor.valid_until < anchor.valid_from || anchor.name.trim().is_empty() {
            return Err(Invalid::AnchorFields.into());
        }
        self.store
            .write(actor, |tx| keyring::add_anchor(tx, anchor))?;
        self.reload_trust()
    }

    /// Removes a root from the trust list; `NotFound` when it is not on it.
    pub fn remove_trust_anchor(&self, actor: &str, key_id: &str) -> Result<(), OpError> {
        let removed = self
            .store
            .write(actor, |tx| keyring::remove_anchor(tx, key_id))?;
        if !removed {
            return Err(OpError::Store(store::StoreError::NotFound {
                what: "trust_anchor",
                id: key_id.to_owned(),
            }));
        }
        self.reload_trust()
    }

    fn reload_trust(&self) -> Result<(), OpError> {
        let trust = keyring::trust_list(&self.store)?;
        self.set_trust_list(trust);
        Ok(())
    }
}
