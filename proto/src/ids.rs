//! Typed identifiers. A bare `Uuid` never crosses a crate boundary: each id says what it names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// One event in the log.
    EventId
);
id_type!(
    /// One command: its id is the log's idempotency key, so a retried command is stored once.
    CommandId
);
id_type!(
    /// Ties together everything that followed from one request.
    CorrelationId
);
id_type!(
    /// A person known to Casetrack (a victim, usually).
    PersonId
);
id_type!(
    /// A referral to the hub: one request for support for one victim about one matter.
    ReferralId
);
id_type!(
    /// A specialist service's piece of work with one victim.
    CaseId
);
id_type!(
    /// A user account.
    UserId
);

/// Namespace for ids derived from other ids (UUIDv5), so that a reactor handling the same event twice targets
/// the same aggregate and issues the same command id.
const DERIVED_NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_7472_6163_6b00_0000_0000_0001);

impl EventId {
    /// A deterministic id derived from this event and a purpose (`"idva-case"`, `"open-case-command"`): the same
    /// event always yields the same id.
    pub fn derive(&self, purpose: &str) -> Uuid {
        let mut name = Vec::with_capacity(16 + purpose.len());
        name.extend_from_slice(self.0.as_bytes());
        name.extend_from_slice(purpose.as_bytes());
        Uuid::new_v5(&DERIVED_NAMESPACE, &name)
    }
}

/// An encrypted value: personal data sealed with the person's data key (XChaCha20-Poly1305, the person and the
/// event ids as associated data). Only the vault (`casetrack-vault`) opens it; once the key is erased it is
/// noise forever.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Sealed(
    /// `v1.` followed by base64 (standard, no padding) of the 24-byte nonce and the ciphertext.
    pub String,
);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

/// A specialist (or the hub) service code: `hub`, `idva`, `isva`, `stalking`, `rj`, or one defined in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode(String);

impl ServiceCode {
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok = !value.is_empty()
            && value.len() <= 32
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && value.as_bytes()[0].is_ascii_lowercase();
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "service code {value:?} must be 1 to 32 lowercase letters, digits or underscores, starting with a letter"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ServiceCode> for String {
    fn from(value: ServiceCode) -> Self {
        value.0
    }
}

impl std::fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member of staff, by user name (`a.khan`): who a referral or case is allocated to. Accounts (issue 6) use the
/// same names, so allocations made before sign-in existed keep meaning the same person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct StaffName(String);

impl StaffName {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim().to_lowercase();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && value.as_bytes()[0].is_ascii_lowercase();
        if ok {
            Ok(Self(value))
        } else {
            Err("a user name is 1 to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter"
                .into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StaffName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<StaffName> for String {
    fn from(value: StaffName) -> Self {
        value.0
    }
}

impl std::fmt::Display for StaffName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
