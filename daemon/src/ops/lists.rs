//! The lists the people who act on them see at the station (not only the admin):
//! the 注销/换证/补证 still to be filed with the bureau and their 3-working-day
//! deadline, the overdue ones beside the overdue annual reviews, certificates
//! expiring within a window, and holders retiring within the year.
//!
//! Every date comes from the domain's one rule: `deadlines::add_working_days` (at
//! recording, with the province's holidays and 调休), `validity::review_status` (the
//! review schedule), `RetirementRule::retirement_date` (the province's rule).

use super::invalid::Invalid;
use super::{OpError, Station};
use crate::store;
use chrono::NaiveDate;
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::deadlines;
use ecard_domain::validity::ReviewStatus;
use ecard_sync_protocol::events::StatusKind;
use serde::Serialize;

/// Default window of the expiring list (days).
pub const DEFAULT_EXPIRING_DAYS: i64 = 90;
/// Largest window a request may ask for (10 years: longer than any validity).
pub const MAX_LIST_DAYS: i64 = 3650;

/// A 注销/换证/补证 recorded here and not yet delivered to the registry.
#[derive(Debug, Clone, Serialize)]
pub struct FilingDue {
    pub certificate_id: i64,
    pub kind: StatusKind,
    pub number: String,
    pub name: String,
    pub unit: String,
    pub recorded_on: String,
    pub due_on: NaiveDate,
    /// Working days left after today (0: due today; negative: overdue by that many).
    pub working_days_left: i64,
    pub overdue: bool,
}

/// One line of the overdue list: a filing past its 3 working days, or a review past
/// its deadline.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Overdue {
    Filing(FilingDue),
    Review {
        certificate_id: i64,
        number: String,
        name: String,
        unit: String,
        /// The review year (the year it covers).
        year: i32,
        deadline: NaiveDate,
    },
}

/// A certificate in use whose validity ends within the window.
#[derive(Debug, Clone, Serialize)]
pub struct Expiring {
    pub certificate_id: i64,
    pub number: String,
    pub name: String,
    pub unit: String,
    pub valid_until: NaiveDate,
    pub days_left: i64,
}

/// A holder of a certificate in use who reaches retirement within the year.
#[derive(Debug, Clone, Serialize)]
pub struct Retiring {
    pub certificate_id: i64,
    pub number: String,
    pub name: String,
    pub unit: String,
    pub retires_on: NaiveDate,
}

impl Station {
    /// The station's 注销/换证/补证 not yet filed with the bureau (their events not
    /// delivered to the registry), the nearest deadline first.
    pub fn filings_due(&self) -> Result<Vec<FilingDue>, OpError> {
        let today = self.today();
        let holidays = &self.config.province.holidays;
        Ok(self
            .store
            .read(store::open_filings)?
            .into_iter()
            .map(|f| {
                // After the deadline, the working days past it; before, those left.
                let left = if today > f.due_on {
                    -deadlines::working_days_between(f.due_on, today, holidays)
                } else {
                    deadlines::working_days_between(today, f.due_on, holidays)
                };
                FilingDue {
                    certificate_id: f.certificate_id,
                    kind: f.kind,
                    number: f.number,
                    name: f.name,
                    unit: f.unit,
                    recorded_on: f.recorded_on,
                    due_on: f.due_on,
                    working_days_left: left,
                    overdue: today > f.due_on,
                }
            })
            .collect())
    }

    /// What is late: filings past their 3 working days, then the certificates
    /// without the last review whose deadline has passed (the year before the one
    /// being worked on).
    pub fn overdue(&self) -> Result<Vec<Overdue>, OpError> {
        let mut items: Vec<Overdue> = self
            .filings_due()?
            .into_iter()
            .filter(|f| f.overdue)
            .map(Overdue::Filing)
            .collect();
        let year = self.config.review_policy.campaign_year(self.today()) - 1;
        for i in self.review_schedule(Some(year), None)?.items {
            if let ReviewStatus::Overdue { deadline } = i.status {
                items.push(Overdue::Review {
                    certificate_id: i.subject.certificate_id,
                    number: i.subject.number,
                    name: i.subject.name,
                    unit: i.subject.unit,
                    year,
                    deadline,
                });
            }
        }
        Ok(items)
    }

    /// Certificates in use whose validity ends within `days` from today (today
    /// included), soonest first; already expired ones are not listed (the field
    /// check shows them 已过期).
    pub fn expiring(&self, days: i64) -> Result<Vec<Expiring>, OpError> {
        if !(1..=MAX_LIST_DAYS).contains(&days) {
            return Err(OpError::Invalid(Invalid::ListWindow));
        }
        let today = self.today();
        let mut items: Vec<Expiring> = self
            .store
            .read(store::certificates_in_use)?
            .into_iter()
            .filter_map(|c| {
                let until = NaiveDate::parse_from_str(&c.valid_until, "%Y-%m-%d").ok()?;
                let left = (until - today).num_days();
                (0..=days).contains(&left).then_some(Expiring {
                    certificate_id: c.certificate_id,
                    number: c.number,
                    name: c.name,
                    unit: c.unit,
                    valid_until: until,
                    days_left: left,
                })
            })
            .collect();
        items.sort_by_key(|e| (e.valid_until, e.number.clone()));
        Ok(items)
    }

    /// Holders of certificates in use who reach the province's retirement date
    /// within the year: from today to the same day next year (decision: the next
    /// twelve months, so December warns as early as January). Birth date and gender
    /// come from the citizen ID.
    pub fn retiring(&self) -> Result<(NaiveDate, Vec<Retiring>), OpError> {
        let today = self.today();
        let until = today
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(NaiveDate::MAX);
        let rule = &self.config.province.retirement;
        let mut items: Vec<Retiring> = self
            .store
            .read(store::certificates_in_use)?
            .into_iter()
            .filter_map(|c| {
                // Records hold only IDs checked on entry; one that no longer parses
                // is left out rather than guessed at.
                let id = CitizenId::parse(&c.id_number, today).ok()?;
                let retires_on = rule.retirement_date(id.birth_date(), id.gender()).ok()?;
                (today..=until).contains(&retires_on).then_some(Retiring {
                    certificate_id: c.certificate_id,
                    number: c.number,
                    name: c.name,
                    unit: c.unit,
                    retires_on,
                })
            })
            .collect();
        items.sort_by_key(|r| (r.retires_on, r.number.clone()));
        Ok((until, items))
    }
}
