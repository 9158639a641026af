//! The names the cohort counts under, shared with the views that read it: the dimensions a cohort is broken down
//! by, the funnel's stages and states, the caseload's pseudo-dimension, and how months and financial years are
//! named in the stored keys.

/// The dimensions a cohort can be broken down by, as named in the API (`by=`) and stored (each is a column of
/// `reporting_units`). Every unit also counts under the dimension `all`, value `all`.
pub const DIMENSIONS: [&str; 10] = [
    "source",
    "offence",
    "domestic_abuse",
    "age_band",
    "gender",
    "ethnic_group",
    "bame",
    "disability",
    "repeat_victim",
    "nationality",
];

/// What each dimension is called on a page.
pub fn dimension_label(dimension: &str) -> &'static str {
    match dimension {
        "source" => "Referral source",
        "offence" => "Offence category",
        "domestic_abuse" => "Domestic abuse",
        "age_band" => "Age band",
        "gender" => "Gender",
        "ethnic_group" => "Ethnic group (census)",
        "bame" => "BAME roll-up",
        "disability" => "Disability",
        "repeat_victim" => "Repeat victim",
        "nationality" => "Nationality",
        _ => "All",
    }
}

/// Figures of the funnel (stages: counted once a unit reaches them, never taken back).
pub mod stage {
    pub const RECEIVED: &str = "referrals_received";
    pub const CONTACT_ATTEMPTED: &str = "contact_attempted";
    pub const CONTACTED: &str = "contacted";
    pub const SUPPORTED: &str = "supported";
    pub const ACCEPTED: &str = "accepted";
    pub const HIGH_RISK: &str = "high_risk";
    pub const SELF_REFERRALS: &str = "self_referrals";
    pub const SELF_REFERRALS_REPORTED: &str = "self_referrals_reported_to_police";
    pub const ONWARD_PREFIX: &str = "onward_referrals.";
    /// `onward_outcome.<service>.<milestone>`: what became of the referral's onward referral to a service, each
    /// milestone of [`ONWARD_MILESTONES`] counted once.
    pub const ONWARD_OUTCOME_PREFIX: &str = "onward_outcome.";
    /// What can become of an onward referral, in the order a page shows it.
    pub const ONWARD_MILESTONES: [&str; 8] = [
        "opened",
        "accepted",
        "contacted",
        "closed",
        "declined_by_service",
        "withdrawn",
        "declined",
        "unable_to_contact",
    ];
    /// `first_attempt_days.N`: days from the crime report (or the referral) to the first attempt, 31 for 31 or
    /// more.
    pub const FIRST_ATTEMPT_DAYS_PREFIX: &str = "first_attempt_days.";
    pub const FIRST_ATTEMPT_ON_TIME: &str = "first_attempt_within_deadline";
    /// `code.<group>`: units the Victims' Code's support time limit applies to (hub referrals not withheld from
    /// contact, specialist cases), `group` being `enhanced` (enhanced rights: 2 working days) or `standard` (5);
    /// `code.<group>.contacted_on_time`: of them, first reached within the limit; `code.<group>.needs_on_time`: hub
    /// referrals whose first needs assessment was within it (docs/metrics.md, "Victims' Code compliance").
    pub const CODE_PREFIX: &str = "code.";
    pub const CODE_GROUPS: [&str; 2] = ["enhanced", "standard"];
    pub const CODE_CONTACTED: &str = "contacted_on_time";
    pub const CODE_NEEDS: &str = "needs_on_time";
    /// Days counted one by one in the histogram; longer waits count as this many.
    pub const FIRST_ATTEMPT_DAYS_CAP: i64 = 31;
}

/// Where a unit is now: exactly one state each, so the states of a cohort add up to the referrals received.
pub mod state {
    pub const OPEN: &str = "open";
    pub const NOT_WORKED: &str = "not_worked";
    pub const DECLINED: &str = "declined";
    pub const UNABLE_TO_CONTACT: &str = "unable_to_contact";
    pub const NO_SAFE_CONTACT: &str = "no_safe_contact";
    pub const CLOSED: &str = "closed";
    pub const DECLINED_BY_SERVICE: &str = "declined_by_service";
    pub const WITHDRAWN: &str = "withdrawn";
    /// Every state, in the order a page shows them.
    pub const ALL: [&str; 8] =
        [OPEN, NOT_WORKED, DECLINED, UNABLE_TO_CONTACT, NO_SAFE_CONTACT, CLOSED, DECLINED_BY_SERVICE, WITHDRAWN];
}

pub(super) const NOT_KNOWN: &str = "not_known";

/// The pseudo-dimension of the caseload's running counts (never a breakdown: not in [`DIMENSIONS`]).
pub const CASELOAD: &str = "caseload";
pub const CASELOAD_OPENED: &str = "opened";
pub const CASELOAD_ENDED: &str = "ended";

/// The dimension under which a dimension's counts are kept per month as well as per day (`month:gender`), so that
/// a long period sums months, not days.
pub fn monthly(dimension: &str) -> String {
    format!("month:{dimension}")
}

/// The dimension under which ties are kept per financial year as well (`fy:gender`, between `2024` and `2025`, the
/// years April to March begin in), so that a period of whole financial years sums a few rows per value, not one
/// per pair of months.
pub fn yearly(dimension: &str) -> String {
    format!("fy:{dimension}")
}

/// The financial year (April to March) a `YYYY-MM-DD` day falls in, by the year it begins in: `2025` for
/// 2025-04-01 to 2026-03-31.
pub fn financial_year(day: &str) -> String {
    let (year, month) = (&day[..4], &day[5..7]);
    if month >= "04" {
        year.to_owned()
    } else {
        year.parse::<i32>().map_or_else(|_| year.to_owned(), |year| format!("{:04}", year - 1))
    }
}
