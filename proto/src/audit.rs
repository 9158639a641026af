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
        AccessRecorded(AccessRecorded) = 1,
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
