//! Events of the specialist services (IDVA, ISVA, stalking advocacy, RJ and services defined in configuration).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{CaseId, EventId, PersonId, ReferralId, ServiceCode};

crate::contract! {
    /// Everything a specialist service records about a case.
    pub enum SpecialistEvent in "specialist" {
        CaseOpened(CaseOpened) = 1,
    }
}

/// A specialist service opened a case for a referral it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpened {
    pub case_id: CaseId,
    pub service: ServiceCode,
    pub person_id: PersonId,
    pub origin: CaseOrigin,
}

/// Where a case came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CaseOrigin {
    /// The hub's onward referral; `onward_event_id` is the `OnwardReferralMade` event the case was opened from.
    Hub { referral_id: ReferralId, onward_event_id: EventId },
    /// Referred directly (police, MARAC, partner, self).
    Direct { source: String },
}
