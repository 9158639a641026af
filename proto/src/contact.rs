//! Value types of working a referral or a case, shared by the hub's and the specialist services' events: contact
//! channels and their safety, time-of-day bands, attempt outcomes, consent, outcome answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A way of reaching a victim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Phone,
    Voicemail,
    Text,
    Email,
    Letter,
    Visit,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 6] =
        [Self::Phone, Self::Voicemail, Self::Text, Self::Email, Self::Letter, Self::Visit];

    /// The stored code (its serde name), as forms send it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Voicemail => "voicemail",
            Self::Text => "text",
            Self::Email => "email",
            Self::Letter => "letter",
            Self::Visit => "visit",
        }
    }

    /// The word a caseworker uses.
    pub fn label(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Voicemail => "voicemail",
            Self::Text => "text message",
            Self::Email => "email",
            Self::Letter => "letter",
            Self::Visit => "home visit",
        }
    }
}

/// Whether a channel may be used. `Unknown` is not `Safe`: the officer must check before a message that could be
/// seen by someone else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Safety {
    Safe,
    Unsafe,
    #[default]
    Unknown,
}

impl Safety {
    /// The stored code (its serde name), as forms send it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Unsafe => "unsafe",
            Self::Unknown => "unknown",
        }
    }
}

/// Safe-contact rules per channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeContact {
    #[serde(default)]
    pub phone: Safety,
    #[serde(default)]
    pub voicemail: Safety,
    #[serde(default)]
    pub text: Safety,
    #[serde(default)]
    pub email: Safety,
    #[serde(default)]
    pub letter: Safety,
    #[serde(default)]
    pub visit: Safety,
}

impl SafeContact {
    pub fn safety(&self, channel: ContactChannel) -> Safety {
        match channel {
            ContactChannel::Phone => self.phone,
            ContactChannel::Voicemail => self.voicemail,
            ContactChannel::Text => self.text,
            ContactChannel::Email => self.email,
            ContactChannel::Letter => self.letter,
            ContactChannel::Visit => self.visit,
        }
    }

    pub fn set(&mut self, channel: ContactChannel, safety: Safety) {
        let slot = match channel {
            ContactChannel::Phone => &mut self.phone,
            ContactChannel::Voicemail => &mut self.voicemail,
            ContactChannel::Text => &mut self.text,
            ContactChannel::Email => &mut self.email,
            ContactChannel::Letter => &mut self.letter,
            ContactChannel::Visit => &mut self.visit,
        };
        *slot = safety;
    }

    /// True when no channel may be used at all.
    pub fn no_usable_channel(&self) -> bool {
        ContactChannel::ALL.iter().all(|c| self.safety(*c) == Safety::Unsafe)
    }
}

/// Time of day of an attempt, in the local time of England and Wales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeBand {
    /// 08:00 to 11:59
    Morning,
    /// 12:00 to 16:59
    Afternoon,
    /// 17:00 to 20:59
    Evening,
    /// any other time
    OutOfHours,
}

impl TimeBand {
    pub const ALL: [TimeBand; 4] = [Self::Morning, Self::Afternoon, Self::Evening, Self::OutOfHours];

    /// The stored code (its serde name), as forms send it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
            Self::Evening => "evening",
            Self::OutOfHours => "out_of_hours",
        }
    }

    /// The words a caseworker uses.
    pub fn label(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
            Self::Evening => "evening",
            Self::OutOfHours => "out of hours",
        }
    }
}

/// What one contact attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The victim was reached.
    Reached,
    NoAnswer,
    VoicemailLeft,
    WrongNumber,
    /// Unsafe to continue (for example someone else answered): the call was ended and the channel is now unsafe.
    Unsafe,
}

impl AttemptOutcome {
    pub fn reached(self) -> bool {
        self == Self::Reached
    }
}

/// The basis on which a victim's details were passed to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentBasis {
    /// Police referral without the victim opting out.
    OptOut,
    /// The victim explicitly agreed.
    Explicit,
    /// The victim withheld consent: the referral is recorded but not worked.
    Withheld,
    /// Consent overridden (for example a risk to life), with the reason recorded.
    Overridden,
}

/// One answer to one outcome measure at closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeAnswer {
    Improved,
    NoChange,
    Worse,
    NotAsked,
}
