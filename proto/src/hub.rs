//! Events of the Victim and Witness Hub: referrals from intake to closure.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, ReferralId, ServiceCode};

crate::contract! {
    /// Everything the hub records about a referral.
    pub enum HubEvent in "hub" {
        ReferralReceived(ReferralReceived) = 1,
        OnwardReferralMade(OnwardReferralMade) = 1,
    }
}

/// A referral arrived at the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralReceived {
    pub referral_id: ReferralId,
    pub person_id: PersonId,
    pub source: ReferralSource,
    pub offence_category: Option<OffenceCategory>,
    pub domestic_abuse: bool,
    /// The police force's reference for the crime, when it was reported.
    pub crime_reference: Option<String>,
    /// The day the crime was reported to police (starts the Victims' Code clock).
    pub crime_reported_on: Option<NaiveDate>,
}

/// The hub referred the victim on to a specialist service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnwardReferralMade {
    pub referral_id: ReferralId,
    pub person_id: PersonId,
    pub target_service: ServiceCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    PoliceFeed,
    SelfReferral,
    Partner,
}

/// Offence categories of the police feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffenceCategory {
    ViolenceWithInjury,
    ViolenceWithoutInjury,
    SexualOffence,
    StalkingHarassment,
    Robbery,
    Burglary,
    Theft,
    CriminalDamage,
    Fraud,
    HateCrime,
    Other,
}
