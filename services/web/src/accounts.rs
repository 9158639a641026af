//! Accounts, passwords and server-side sessions, in the shared database so that one sign-in works on every
//! service process. Passwords are hashed with argon2id; a session cookie holds a random token of which only a
//! SHA-256 hash is stored; every session carries its own CSRF token. See `docs/adr/0007-access-and-audit.md`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use casetrack_proto::{Role, StaffName, UserId};
use rand::RngCore as _;

use casetrack_eventstore::db::{DbBackend, ReadDb};

pub(crate) use crate::account::{ACCOUNT_COLUMNS, account_from_row, now_seconds, token_hash};
pub use crate::account::{Account, FAILURE_WINDOW, SessionPolicy, parse_role};

/// Passwords: at least this long (NCSC: length, not composition rules), at most 128 characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 128;

/// Failed sign-ins for one account within the window before it is refused for the rest of the window.
pub const FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins from one address within the window (any accounts) before that address is refused.
pub const FAILURES_PER_ADDRESS: i64 = 20;

/// What a new account needs.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: StaffName,
    pub display_name: String,
    pub role: Role,
    /// None: the account signs in only through the identity provider.
    pub password: Option<String>,
    /// The user must choose their own password at first sign-in (a one-time password was given to them).
    pub must_change_password: bool,
}

/// Why an account change or a sign-in was refused, in words for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("There is already an account called {0}.")]
    UsernameTaken(String),
    #[error("The user name or password is not right.")]
    WrongCredentials,
    #[error("Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator.")]
    TooManyAttempts,
    #[error("There is no such account.")]
    NoSuchAccount,
}

/// A failure of ours (database), kept apart from the refusals above.
#[derive(Debug, thiserror::Error)]
pub enum AccountFailure {
    #[error(transparent)]
    Refused(#[from] AccountError),
    #[error("the accounts database failed: {0}")]
    Database(#[from] sqlx::Error),
}

pub type AccountResult<T> = Result<T, AccountFailure>;

/// A role as stored: its code and, for per-service roles, the service.
pub fn role_code(role: &Role) -> (&'static str, Option<&str>) {
    match role {
        Role::HubOfficer => ("hub_officer", None),
        Role::HubManager => ("hub_manager", None),
        Role::Caseworker(service) => ("caseworker", Some(service.as_str())),
        Role::ServiceManager(service) => ("service_manager", Some(service.as_str())),
        Role::Commissioner => ("commissioner", None),
        Role::Auditor => ("auditor", None),
        Role::Administrator => ("administrator", None),
        Role::Public => ("public", None),
        Role::System => ("system", None),
    }
}

/// The account roles, for pickers and documentation.
pub const ACCOUNT_ROLES: &[(&str, &str)] = &[
    ("hub_officer", "Hub officer"),
    ("hub_manager", "Hub manager"),
    ("caseworker", "Caseworker (one service)"),
    ("service_manager", "Service manager (one service)"),
    ("commissioner", "Commissioner (figures only)"),
    ("auditor", "Auditor (audit trail only)"),
    ("administrator", "Administrator (accounts only)"),
];

/// A role in words: "a hub officer", "an IDVA caseworker".
pub fn role_label(role: &Role) -> String {
    match role {
        Role::HubOfficer => "a hub officer".to_owned(),
        Role::HubManager => "a hub manager".to_owned(),
        Role::Caseworker(service) => format!("a {} caseworker", service.as_str().to_uppercase()),
        Role::ServiceManager(service) => format!("a {} manager", service.as_str().to_uppercase()),
        Role::Commissioner => "a commissioner".to_owned(),
        Role::Auditor => "an auditor".to_owned(),
        Role::Administrator => "an administrator".to_owned(),
        Role::Public => "the victim, online".to_owned(),
        Role::System => "Casetrack (import)".to_owned(),
    }
}

fn check_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "The password must be at least {MIN_PASSWORD_CHARS} characters. A few unrelated words make a good one."
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!("The password can be at most {MAX_PASSWORD_CHARS} characters.")));
    }
    Ok(())
}

/// An argon2id hash (the crate's defaults: OWASP's minimum of 19 MiB, 2 passes), in PHC string form.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 accepts any password").to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A one-time password: 20 characters from an alphabet without look-alikes.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// Creates an account. The user name must be free; the password (when given) long enough.
pub async fn create_account(db: &ReadDb, new: NewAccount) -> AccountResult<Account> {
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AccountError::Invalid(
            "Give the person's name as colleagues know it (1 to 100 characters).".into(),
        ))?;
    }
    if matches!(new.role, Role::Public | Role::System) {
        return Err(AccountError::Invalid("That is not a role an account can hold.".into()))?;
    }
    let hash = match &new.password {
        Some(password) => {
            check_password(password)?;
            Some(hash_password(password))
        }
        None => None,
    };
    let account = Account {
        account_id: UserId::new(),
        username: new.username,
        display_name,
        role: new.role,
        must_change_password: new.must_change_password,
        disabled: false,
    };
    let (role, service) = role_code(&account.role);
    let inserted = sqlx::query(
        "INSERT INTO accounts (account_id, username, display_name, role, service, password_hash, \
         must_change_password, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(account.account_id.0.to_string())
    .bind(account.username.as_str())
    .bind(&account.display_name)
    .bind(role)
    .bind(service)
    .bind(hash)
    .bind(i64::from(account.must_change_password))
    .bind(chrono::Utc::now().to_rfc3339())
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AccountError::UsernameTaken(account.username.as_str().to_owned()))?;
    }
    Ok(account)
}

/// On the first start of an installation with no administrator, creates `admin` (administrator) with `password`,
/// or a generated one-time password that must be changed at first sign-in. Returns the password it generated, if
/// it created the account with one; None when an administrator already exists (or another process created it
/// first). (Other accounts may exist before: `casetrack demo` makes its demo staff.)
pub async fn bootstrap_administrator(db: &ReadDb, password: Option<&str>) -> AccountResult<Option<String>> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role = 'administrator'").fetch_one(db.pool()).await?;
    if count > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(one_time_password);
    let new = NewAccount {
        username: StaffName::parse("admin").expect("a valid name"),
        display_name: "Administrator".into(),
        role: Role::Administrator,
        password: Some(password.map_or_else(|| generated.clone().unwrap_or_default(), str::to_owned)),
        must_change_password: generated.is_some(),
    };
    match create_account(db, new).await {
        Ok(_) => Ok(generated),
        Err(AccountFailure::Refused(AccountError::UsernameTaken(_))) => Ok(None),
        Err(error) => Err(error),
    }
}

pub async fn find_account(db: &ReadDb, account_id: UserId) -> AccountResult<Option<Account>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1")))
        .bind(account_id.0.to_string())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.as_ref().and_then(account_from_row).map(|(account, _)| account))
}

pub async fn list_accounts(db: &ReadDb) -> AccountResult<Vec<Account>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username")))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().filter_map(account_from_row).map(|(account, _)| account).collect())
}

/// Reserves one sign-in attempt for `username` from `address`, or refuses it while either has used up its
/// failures of the last [`FAILURE_WINDOW`]. The reservation is a failure until the password is found right: it is
/// taken before the slow password check, under a lock that makes count-and-reserve one step for every process, so
/// attempts sent in parallel cannot all be checked against a count none of them has added to yet.
async fn reserve_attempt(db: &ReadDb, username: &str, address: &str) -> AccountResult<()> {
    let since = now_seconds() - FAILURE_WINDOW.as_secs() as i64;
    // SQLite: `begin` takes the write lock at once. PostgreSQL: this lock mode conflicts with itself, so
    // reservations queue one after another while plain reads of the table go on.
    let mut tx = db.begin().await?;
    if db.backend() == DbBackend::Postgres {
        sqlx::query("LOCK TABLE sign_in_failures IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    }
    let (by_account, by_address): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE username = $1 AND at >= $3), \
         (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at >= $3)",
    )
    .bind(username)
    .bind(address)
    .bind(since)
    .fetch_one(&mut *tx)
    .await?;
    if by_account >= FAILURES_PER_ACCOUNT || by_address >= FAILURES_PER_ADDRESS {
        return Err(AccountError::TooManyAttempts)?;
    }
    sqlx::query("INSERT INTO sign_in_failures (at, username, address) VALUES ($1, $2, $3)")
        .bind(now_seconds())
        .bind(username)
        .bind(address)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a user name and password. Refused while the account or the address has too many recent failures;
/// a wrong user name costs the same time as a wrong password, so neither can be told from the other.
pub async fn authenticate(db: &ReadDb, username: &str, password: &str, address: &str) -> AccountResult<Account> {
    let username = username.trim().to_lowercase();
    reserve_attempt(db, &username, address).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1")))
        .bind(&username)
        .fetch_optional(db.pool())
        .await?;
    let found = row.as_ref().and_then(account_from_row);
    let verified = match &found {
        Some((account, Some(hash))) => verify_password(password, hash) && !account.disabled,
        _ => {
            // Spend the same effort as a real check.
            verify_password(password, DUMMY_HASH.get_or_init(|| hash_password("not a real password")));
            false
        }
    };
    if !verified {
        // The reservation stays: it was this failure.
        return Err(AccountError::WrongCredentials)?;
    }
    sqlx::query("DELETE FROM sign_in_failures WHERE username = $1").bind(&username).execute(db.pool()).await?;
    Ok(found.expect("verified implies found").0)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets a new password (an administrator's reset, with `must_change` set). Every session of the account ends: whoever
/// held the old password is out.
pub async fn set_password(db: &ReadDb, account_id: UserId, password: &str, must_change: bool) -> AccountResult<()> {
    store_password(db, account_id, password, must_change, None).await
}

async fn store_password(
    db: &ReadDb,
    account_id: UserId,
    password: &str,
    must_change: bool,
    keep_session: Option<&str>,
) -> AccountResult<()> {
    check_password(password)?;
    let updated =
        sqlx::query("UPDATE accounts SET password_hash = $1, must_change_password = $2 WHERE account_id = $3")
            .bind(hash_password(password))
            .bind(i64::from(must_change))
            .bind(account_id.0.to_string())
            .execute(db.pool())
            .await?;
    if updated.rows_affected() == 0 {
        return Err(AccountError::NoSuchAccount)?;
    }
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account_id.0.to_string())
        .bind(keep_session.map(token_hash).unwrap_or_default())
        .execute(db.pool())
        .await?;
    // No process may take an ended session (or the kept one's old must-change flag) from its cache after this.
    crate::sessions::account_changed(account_id).await;
    Ok(())
}

/// Changes one's own password: the current one must be right. The session it was changed in stays; every other
/// session of the account ends.
pub async fn change_own_password(
    db: &ReadDb,
    account: &Account,
    current: &str,
    new: &str,
    session_token: &str,
) -> AccountResult<()> {
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE account_id = $1")
        .bind(account.account_id.0.to_string())
        .fetch_optional(db.pool())
        .await?
        .flatten();
    if !hash.is_some_and(|hash| verify_password(current, &hash)) {
        return Err(AccountError::Invalid("Your current password is not right.".into()))?;
    }
    if current == new {
        return Err(AccountError::Invalid("Choose a password different from the current one.".into()))?;
    }
    store_password(db, account.account_id, new, false, Some(session_token)).await
}

/// Disables (or enables again) an account. Disabling ends its sessions at once.
pub async fn set_disabled(db: &ReadDb, account_id: UserId, disabled: bool) -> AccountResult<()> {
    let updated = sqlx::query("UPDATE accounts SET disabled = $1 WHERE account_id = $2")
        .bind(i64::from(disabled))
        .bind(account_id.0.to_string())
        .execute(db.pool())
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AccountError::NoSuchAccount)?;
    }
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account_id.0.to_string())
            .execute(db.pool())
            .await?;
        // No process may take one of its sessions as live from its cache after this.
        crate::sessions::account_changed(account_id).await;
    }
    Ok(())
}

/// The account an identity provider's user signs in to: the one linked to their subject, or else the unlinked
/// account whose user name is the provider's `preferred_username`, which is linked to the subject from then on.
/// A disabled account, or none, is refused.
pub async fn account_for_subject(db: &ReadDb, subject: &str, username: Option<&str>) -> AccountResult<Account> {
    let by_subject =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE oidc_subject = $1")))
            .bind(subject)
            .fetch_optional(db.pool())
            .await?;
    let found = match by_subject.as_ref().and_then(account_from_row) {
        Some((account, _)) => Some(account),
        None => match username.map(|name| name.trim().to_lowercase()) {
            Some(name) => {
                let linked =
                    sqlx::query("UPDATE accounts SET oidc_subject = $1 WHERE username = $2 AND oidc_subject IS NULL")
                        .bind(subject)
                        .bind(&name)
                        .execute(db.pool())
                        .await?;
                if linked.rows_affected() == 1 {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1"
                    )))
                    .bind(&name)
                    .fetch_optional(db.pool())
                    .await?;
                    row.as_ref().and_then(account_from_row).map(|(account, _)| account)
                } else {
                    None
                }
            }
            None => None,
        },
    };
    match found {
        Some(account) if !account.disabled => Ok(account),
        _ => Err(AccountError::NoSuchAccount)?,
    }
}
