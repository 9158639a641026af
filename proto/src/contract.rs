//! From a context's event enum to envelope payloads and back.

/// One released version of one event type.
#[derive(Debug, Clone)]
pub struct EventVersion {
    pub context: &'static str,
    pub event_type: &'static str,
    pub schema_version: u16,
    /// JSON Schema of the `data` of this version.
    pub schema: fn() -> schemars::Schema,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {event_type} version {schema_version} in context {context}")]
    Unknown { context: &'static str, event_type: String, schema_version: u16 },
    #[error("event {event_type} version {schema_version} does not match its schema: {source}")]
    Shape {
        event_type: String,
        schema_version: u16,
        #[source]
        source: serde_json::Error,
    },
}

/// Implemented (by [`contract!`](crate::contract!)) for each context's event enum.
pub trait EventContract: Sized + Clone + Send + Sync + 'static {
    /// The context whose aggregates emit these events (`hub`, `people`, `specialist`).
    const CONTEXT: &'static str;

    /// Stable type name of this event.
    fn event_type(&self) -> &'static str;

    /// Schema version this code writes for this event.
    fn schema_version(&self) -> u16;

    /// The payload, as it goes into the envelope's `data`.
    fn to_data(&self) -> serde_json::Value;

    /// Decodes a payload of any released version, upcasting older versions to the current shape. Reads the event
    /// straight from the payload's text: a projection decodes every event of its context.
    fn from_data(event_type: &str, schema_version: u16, data: &crate::Payload) -> Result<Self, DecodeError>;

    /// Every released version of every event of this context.
    fn versions() -> Vec<EventVersion>;
}

/// Writes a context's event enum and its [`EventContract`] implementation.
///
/// ```text
/// contract! {
///     /// Events of the hub.
///     pub enum HubEvent in "hub" {
///         ReferralReceived(ReferralReceived) = 1,
///     }
/// }
/// ```
/// Each variant wraps a struct of the same name; the number is the current schema version. When a payload changes
/// shape, bump the number, keep the old struct as `<Name>V<n>` with `impl From<<Name>V<n>> for <Name>` and list it
/// under `upcast { <Name>: <Name>V<n> = n }`.
#[macro_export]
macro_rules! contract {
    (
        $(#[$doc:meta])*
        pub enum $enum:ident in $context:literal {
            $( $variant:ident($payload:ty) = $version:literal ),+ $(,)?
        }
        $( upcast { $( $old_variant:ident : $old_payload:ty = $old_version:literal ),+ $(,)? } )?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(untagged)]
        pub enum $enum {
            $( $variant($payload), )+
        }

        $(
            impl From<$payload> for $enum {
                fn from(value: $payload) -> Self {
                    Self::$variant(value)
                }
            }
        )+

        impl $crate::EventContract for $enum {
            const CONTEXT: &'static str = $context;

            fn event_type(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => stringify!($variant), )+
                }
            }

            fn schema_version(&self) -> u16 {
                match self {
                    $( Self::$variant(_) => $version, )+
                }
            }

            fn to_data(&self) -> serde_json::Value {
                // Serialising plain data structs to a Value cannot fail (no maps with non-string keys).
                serde_json::to_value(self).expect("event payloads serialise to JSON")
            }

            fn from_data(
                event_type: &str,
                schema_version: u16,
                data: &$crate::Payload,
            ) -> Result<Self, $crate::DecodeError> {
                let shape = |source| $crate::DecodeError::Shape {
                    event_type: event_type.to_owned(),
                    schema_version,
                    source,
                };
                match (event_type, schema_version) {
                    $(
                        (stringify!($variant), $version) => serde_json::from_str::<$payload>(data.get())
                            .map(Self::$variant)
                            .map_err(shape),
                    )+
                    $( $(
                        (stringify!($old_variant), $old_version) => serde_json::from_str::<$old_payload>(data.get())
                            .map(|old| Self::$old_variant(old.into()))
                            .map_err(shape),
                    )+ )?
                    _ => Err($crate::DecodeError::Unknown {
                        context: $context,
                        event_type: event_type.to_owned(),
                        schema_version,
                    }),
                }
            }

            fn versions() -> Vec<$crate::EventVersion> {
                vec![
                    $( $crate::EventVersion {
                        context: $context,
                        event_type: stringify!($variant),
                        schema_version: $version,
                        schema: || schemars::schema_for!($payload),
                    }, )+
                    $( $( $crate::EventVersion {
                        context: $context,
                        event_type: stringify!($old_variant),
                        schema_version: $old_version,
                        schema: || schemars::schema_for!($old_payload),
                    }, )+ )?
                ]
            }
        }
    };
}
