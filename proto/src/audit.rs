//! The audit trail: who did what to which record, from where, and with what outcome. Kept in its own stream of the
//! log, append-only, apart from the case history. An entry names records by id only, never by a person's details.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::Role;
use crate::ids::{PersonId, UserId};

crate::contract! {
    /// Everything the audit trail records.
    pub enum AuditEvent in "audit" {
        AccessRecorded(AccessRecorded) = 2,
    }
    upcast {
        AccessRecorded: AccessRecordedV1 = 1,
    }
}

/// One request that commanded something or showed a person's record, allowed or refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessRecorded {
    /// The account; absent for a signed-out request.
    pub user_id: Option<UserId>,
    /// The account's sign-in name at the time (accounts can be renamed; the id stays).
    pub username: Option<String>,
    pub role: Option<Role>,
    /// GET for a view, POST (or another method) for a command.
    pub method: String,
    /// The route as declared, with its placeholders (`/hub/referrals/{referral_id}`).
    pub route: String,
    /// The placeholders' values: record ids (referral, case, person, service).
    pub records: BTreeMap<String, String>,
    /// The person whose record it is, when the route names one.
    pub person_id: Option<PersonId>,
    /// The client's address.
    pub address: Option<String>,
    pub decision: AccessDecision,
    /// The HTTP status of the response (403 when refused).
    pub status: u16,
    /// The reason given to break the glass, when the access was outside the user's scope.
    pub break_glass_reason: Option<String>,
    /// A command that dated its fact further back than the service's back-dating window, and the reason given.
    pub late_entry: Option<LateEntry>,
}

/// A fact recorded late: how many days after it happened, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LateEntry {
    pub days: i64,
    pub reason: String,
}

/// Version 1: before late entries were marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessRecordedV1 {
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub role: Option<Role>,
    pub method: String,
    pub route: String,
    pub records: BTreeMap<String, String>,
    pub person_id: Option<PersonId>,
    pub address: Option<String>,
    pub decision: AccessDecision,
    pub status: u16,
    pub break_glass_reason: Option<String>,
}

impl From<AccessRecordedV1> for AccessRecorded {
    /// No entry of version 1 was marked late.
    fn from(v1: AccessRecordedV1) -> Self {
        Self {
            user_id: v1.user_id,
            username: v1.username,
            role: v1.role,
            method: v1.method,
            route: v1.route,
            records: v1.records,
            person_id: v1.person_id,
            address: v1.address,
            decision: v1.decision,
            status: v1.status,
            break_glass_reason: v1.break_glass_reason,
            late_entry: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessDecision {
    /// Within the user's role and scope.
    Allowed,
    /// Outside the user's scope, opened with a reason (break-glass).
    BreakGlass,
    /// Refused: the role or scope does not allow it.
    Refused,
}
