//! An account as the rest of the web kit reads it, apart from how accounts are managed (`accounts`): the record
//! and its row, the session policy, the role vocabulary, and the token helpers sessions and accounts share. Both
//! `accounts` and `sessions` build on this; neither needs the other's insides.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casetrack_proto::{Role, ServiceCode, StaffName, UserId};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

/// Failed sign-ins counted over this window.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, however busy.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::from_secs(30 * 60), absolute: Duration::from_secs(10 * 60 * 60) }
    }
}

/// One account, as the session and the pages see it. Never holds the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: UserId,
    pub username: StaffName,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled: bool,
}

/// The role an account may hold, from its code and service. Public and System are not account roles.
pub fn parse_role(code: &str, service: Option<&str>) -> Result<Role, String> {
    let service = || -> Result<ServiceCode, String> {
        let code = service.filter(|s| !s.is_empty()).ok_or("a caseworker or service manager needs a service")?;
        ServiceCode::parse(code)
    };
    match code {
        "hub_officer" => Ok(Role::HubOfficer),
        "hub_manager" => Ok(Role::HubManager),
        "caseworker" => Ok(Role::Caseworker(service()?)),
        "service_manager" => Ok(Role::ServiceManager(service()?)),
        "commissioner" => Ok(Role::Commissioner),
        "auditor" => Ok(Role::Auditor),
        "administrator" => Ok(Role::Administrator),
        other => Err(format!(
            "{other:?} is not a role; choose hub_officer, hub_manager, caseworker, service_manager, commissioner, \
             auditor or administrator"
        )),
    }
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) const ACCOUNT_COLUMNS: &str =
    "account_id, username, display_name, role, service, must_change_password, disabled, password_hash";

pub(crate) fn account_from_row(row: &sqlx::any::AnyRow) -> Option<(Account, Option<String>)> {
    let id: String = row.get("account_id");
    let role: String = row.get("role");
    let service: Option<String> = row.get("service");
    let account = Account {
        account_id: UserId(id.parse().ok()?),
        username: StaffName::parse(&row.get::<String, _>("username")).ok()?,
        display_name: row.get("display_name"),
        role: parse_role(&role, service.as_deref()).ok()?,
        must_change_password: row.get::<i64, _>("must_change_password") != 0,
        disabled: row.get::<i64, _>("disabled") != 0,
    };
    Some((account, row.get("password_hash")))
}
