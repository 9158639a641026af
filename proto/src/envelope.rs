//! The envelope every event travels in, and the names of aggregate instances in the log.
//!
//! Field names follow CloudEvents where one fits (`id`, `type`, `subject`, `time`-like fields are spelt out as
//! `occurred_at` and `recorded_at` because we need both).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{EventId, UserId};

/// One event as stored in the log. `D` is the payload: its JSON text ([`Payload`]) inside the log, a context's event
/// enum once decoded by [`crate::EventContract`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope<D = Payload> {
    /// UUIDv7, unique across the log.
    pub id: EventId,
    /// Stable type name, e.g. `ReferralReceived`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Schema version of `data` for this type; see `proto/schemas/<context>/<type>.v<N>.json`.
    pub schema_version: u16,
    /// The aggregate instance the event belongs to.
    pub subject: StreamId,
    /// Dense version of the aggregate after this event (1 for its first event).
    pub version: u32,
    /// When it happened in the world (domain time, given by the command).
    pub occurred_at: DateTime<Utc>,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// The request everything that followed from it shares.
    pub correlation_id: Uuid,
    /// The command or event that directly caused this one.
    pub causation_id: Uuid,
    pub data: D,
}

impl<D> Envelope<D> {
    /// The same envelope with another payload (after decoding or upcasting).
    pub fn map<E>(self, f: impl FnOnce(D) -> E) -> Envelope<E> {
        Envelope {
            id: self.id,
            event_type: self.event_type,
            schema_version: self.schema_version,
            subject: self.subject,
            version: self.version,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            actor: self.actor,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            data: f(self.data),
        }
    }
}

/// An event's payload as the JSON text it is stored as. Only the context that owns the event looks inside it
/// ([`crate::EventContract::from_data`] reads its typed event straight from the text); the log, and everything that
/// only passes events along, keep the text as read. Reading it back as a tree of values instead cost a rebuild a
/// tree of small allocations per event, built by the thread that read the log and freed by another.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<serde_json::value::RawValue>);

impl Payload {
    /// The JSON text of `value`.
    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(serde_json::value::to_raw_value(value).expect("a JSON value serialises"))
    }

    /// The JSON text, as stored.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into a value, for code that edits or walks a payload it does not decode (exports, tests).
    pub fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.get())
    }
}

/// Two payloads are equal when their texts are: the log stores and returns a payload's text unchanged.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// Any JSON, as the schema of `data` always said: each event version's own schema is in `proto/schemas/<context>/`.
impl JsonSchema for Payload {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        serde_json::Value::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        serde_json::Value::json_schema(generator)
    }
}

/// Who did it: a user in a role, or Casetrack itself (a reactor, an import, a scheduled job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    /// The user's id; absent for the system and for anonymous members of the public (self-referral form).
    pub user_id: Option<UserId>,
    pub role: Role,
}

impl Actor {
    pub fn system() -> Self {
        Self { user_id: None, role: Role::System }
    }

    pub fn user(user_id: UserId, role: Role) -> Self {
        Self { user_id: Some(user_id), role }
    }
}

/// The roles of DESIGN.md "Access". Per-service roles carry the service code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "role", content = "service")]
pub enum Role {
    HubOfficer,
    HubManager,
    Caseworker(crate::ids::ServiceCode),
    ServiceManager(crate::ids::ServiceCode),
    Commissioner,
    Auditor,
    Administrator,
    /// A member of the public using the self-referral form.
    Public,
    /// Casetrack itself: reactors, imports, scheduled jobs.
    System,
}

/// Names one aggregate instance: `<context>.<aggregate>.<uuid>`, which is also its JetStream subject under the
/// log's prefix (`casetrack.hub.referral.0190...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    context: String,
    aggregate: String,
    id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamIdError {
    #[error("stream id {0:?} must look like <context>.<aggregate>.<uuid>")]
    Shape(String),
    #[error("{0:?} must be 1 to 32 lowercase letters or underscores")]
    Token(String),
    #[error("stream id {0:?} does not end in a uuid")]
    Uuid(String),
}

fn valid_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 32 && token.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl StreamId {
    pub fn new(context: &str, aggregate: &str, id: Uuid) -> Result<Self, StreamIdError> {
        for token in [context, aggregate] {
            if !valid_token(token) {
                return Err(StreamIdError::Token(token.to_owned()));
            }
        }
        Ok(Self { context: context.to_owned(), aggregate: aggregate.to_owned(), id })
    }

    pub fn parse(value: &str) -> Result<Self, StreamIdError> {
        let mut parts = value.splitn(3, '.');
        let (Some(context), Some(aggregate), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(StreamIdError::Shape(value.to_owned()));
        };
        let id = Uuid::parse_str(id).map_err(|_| StreamIdError::Uuid(value.to_owned()))?;
        Self::new(context, aggregate, id)
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn aggregate(&self) -> &str {
        &self.aggregate
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.context, self.aggregate, self.id.hyphenated())
    }
}

impl Serialize for StreamId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StreamId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for StreamId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StreamId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "<context>.<aggregate>.<uuid>",
            "pattern": "^[a-z_]{1,32}\\.[a-z_]{1,32}\\.[0-9a-f-]{36}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_id_round_trips_through_its_text_form() {
        let id = StreamId::new("hub", "referral", Uuid::now_v7()).unwrap();
        assert_eq!(StreamId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn stream_id_refuses_tokens_that_would_break_a_subject() {
        assert!(StreamId::new("hub.x", "referral", Uuid::nil()).is_err());
        assert!(StreamId::new("hub", "*", Uuid::nil()).is_err());
        assert!(StreamId::parse("hub.referral.not-a-uuid").is_err());
        assert!(StreamId::parse("hub").is_err());
    }

    #[test]
    fn a_payload_keeps_its_text_through_an_envelope() {
        // Not the order or spacing serde_json would write: the log hands back what it was given.
        let text = r#"{"b": 1, "a": {"c": [true, null]}}"#;
        let envelope = format!(
            r#"{{"id":"{id}","type":"T","schema_version":1,"subject":"hub.referral.{id}","version":1,
            "occurred_at":"2026-11-24T10:00:00Z","recorded_at":"2026-11-24T10:00:01Z",
            "actor":{{"user_id":null,"role":{{"role":"system"}}}},"correlation_id":"{id}","causation_id":"{id}",
            "data":{text}}}"#,
            id = Uuid::nil()
        );
        let read: Envelope = serde_json::from_str(&envelope).unwrap();
        assert_eq!(read.data.get(), text);
        let again: Envelope = serde_json::from_str(&serde_json::to_string(&read).unwrap()).unwrap();
        assert_eq!(again, read);
        assert_eq!(read.data.to_value().unwrap(), serde_json::json!({"a": {"c": [true, null]}, "b": 1}));
        assert_ne!(
            Payload::from_value(&serde_json::json!({"b": 2})),
            Payload::from_value(&serde_json::json!({"b": 1}))
        );
    }
}
