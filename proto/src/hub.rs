//! Events of the Victim and Witness Hub: referrals from intake to closure.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::contact::{AttemptOutcome, ConsentBasis, ContactChannel, OutcomeAnswer, SafeContact, TimeBand};
use crate::ids::{PersonId, ReferralId, Sealed, ServiceCode, StaffName};
use crate::profile::{AgeBand, VictimProfile, VictimProfileV1};

crate::contract! {
    /// Everything the hub records about a referral.
    pub enum HubEvent in "hub" {
        ReferralReceived(ReferralReceived) = 2,
        ContactAttemptRecorded(ContactAttemptRecorded) = 1,
        UnableToContactRecorded(UnableToContactRecorded) = 1,
        ReturnedToReferrer(ReturnedToReferrer) = 1,
        SupportAccepted(SupportAccepted) = 1,
        SupportDeclined(SupportDeclined) = 1,
        OnwardReferralMade(OnwardReferralMade) = 2,
        ReferralClosed(ReferralClosed) = 1,
        ReportedToPolice(ReportedToPolice) = 1,
        ReferralAllocated(ReferralAllocated) = 1,
        SafeContactUpdated(SafeContactUpdated) = 1,
        OutreachSent(OutreachSent) = 1,
        NeedsAssessed(NeedsAssessed) = 1,
        SupportSessionRecorded(SupportSessionRecorded) = 1,
        ConsentRecorded(ConsentRecorded) = 1,
    }
    upcast {
        OnwardReferralMade: OnwardReferralMadeV1 = 1,
        ReferralReceived: ReferralReceivedV1 = 1,
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
    /// How the victim may be contacted, as the referrer gave it.
    pub safe_contact: SafeContact,
    /// On what basis the victim's details came to the hub.
    pub consent: ConsentBasis,
    /// Why consent was overridden, when it was.
    pub consent_override_reason: Option<String>,
    /// Enhanced rights under the Victims' Code (shorter deadlines).
    pub enhanced_rights: bool,
    /// The victim's characteristics as codes, as recorded with this referral (age band on the day received).
    pub profile: VictimProfile,
}

/// Version 1: before the profile held nationality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralReceivedV1 {
    pub referral_id: ReferralId,
    pub person_id: PersonId,
    pub source: ReferralSource,
    pub offence_category: Option<OffenceCategory>,
    pub domestic_abuse: bool,
    pub crime_reference: Option<String>,
    pub crime_reported_on: Option<NaiveDate>,
    pub safe_contact: SafeContact,
    pub consent: ConsentBasis,
    pub consent_override_reason: Option<String>,
    pub enhanced_rights: bool,
    pub profile: VictimProfileV1,
}

impl From<ReferralReceivedV1> for ReferralReceived {
    fn from(v1: ReferralReceivedV1) -> Self {
        Self {
            referral_id: v1.referral_id,
            person_id: v1.person_id,
            source: v1.source,
            offence_category: v1.offence_category,
            domestic_abuse: v1.domestic_abuse,
            crime_reference: v1.crime_reference,
            crime_reported_on: v1.crime_reported_on,
            safe_contact: v1.safe_contact,
            consent: v1.consent,
            consent_override_reason: v1.consent_override_reason,
            enhanced_rights: v1.enhanced_rights,
            profile: v1.profile.into(),
        }
    }
}

/// A hub officer tried to reach the victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContactAttemptRecorded {
    pub referral_id: ReferralId,
    pub channel: ContactChannel,
    pub attempted_at: DateTime<Utc>,
    /// Time of day in England and Wales, derived from `attempted_at` when recorded.
    pub time_band: TimeBand,
    pub outcome: AttemptOutcome,
}

/// The victim could not be reached after the service's attempt rule was met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnableToContactRecorded {
    pub referral_id: ReferralId,
    /// Unsuccessful attempts made.
    pub attempts: u32,
    /// The distinct times of day they were made in.
    pub time_bands: Vec<TimeBand>,
}

/// No safe or valid way to reach the victim: the referral went back to whoever sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnedToReferrer {
    pub referral_id: ReferralId,
    pub reason: String,
}

/// The victim accepted support from the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportAccepted {
    pub referral_id: ReferralId,
}

/// The victim, once contacted, declined support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportDeclined {
    pub referral_id: ReferralId,
    pub reason: String,
}

/// Support ended; the victim's answers to the outcome measures in force were recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralClosed {
    pub referral_id: ReferralId,
    /// Which version of the outcome-measure list the answers follow (reference data, set by the funder).
    pub measures_version: String,
    pub answers: Vec<MeasureAnswer>,
}

/// A victim who referred themselves without reporting to police has since reported the crime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportedToPolice {
    pub referral_id: ReferralId,
    pub crime_reference: String,
    pub reported_on: NaiveDate,
}

/// One outcome measure and the victim's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasureAnswer {
    pub measure: String,
    pub answer: OutcomeAnswer,
}

/// The hub referred the victim on to a specialist service, with what the service needs to work the case safely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnwardReferralMade {
    pub referral_id: ReferralId,
    pub person_id: PersonId,
    pub target_service: ServiceCode,
    pub safe_contact: SafeContact,
    pub safe_times: Vec<TimeBand>,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub age_band: Option<AgeBand>,
}

/// Version 1: before the onward referral carried the safe-contact rules and the victim's characteristics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnwardReferralMadeV1 {
    pub referral_id: ReferralId,
    pub person_id: PersonId,
    pub target_service: ServiceCode,
}

impl From<OnwardReferralMadeV1> for OnwardReferralMade {
    /// Nothing was passed on: every channel unknown (never assumed safe), any time, no flags, age not known.
    fn from(v1: OnwardReferralMadeV1) -> Self {
        Self {
            referral_id: v1.referral_id,
            person_id: v1.person_id,
            target_service: v1.target_service,
            safe_contact: SafeContact::default(),
            safe_times: Vec::new(),
            domestic_abuse: false,
            enhanced_rights: false,
            age_band: None,
        }
    }
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

impl OffenceCategory {
    pub const ALL: [Self; 11] = [
        Self::ViolenceWithInjury,
        Self::ViolenceWithoutInjury,
        Self::SexualOffence,
        Self::StalkingHarassment,
        Self::Robbery,
        Self::Burglary,
        Self::Theft,
        Self::CriminalDamage,
        Self::Fraud,
        Self::HateCrime,
        Self::Other,
    ];

    /// The code stored in events and typed in the API (`sexual_offence`).
    pub fn code(self) -> &'static str {
        match self {
            Self::ViolenceWithInjury => "violence_with_injury",
            Self::ViolenceWithoutInjury => "violence_without_injury",
            Self::SexualOffence => "sexual_offence",
            Self::StalkingHarassment => "stalking_harassment",
            Self::Robbery => "robbery",
            Self::Burglary => "burglary",
            Self::Theft => "theft",
            Self::CriminalDamage => "criminal_damage",
            Self::Fraud => "fraud",
            Self::HateCrime => "hate_crime",
            Self::Other => "other",
        }
    }

    /// The words on a page or in an export.
    pub fn label(self) -> &'static str {
        match self {
            Self::ViolenceWithInjury => "Violence with injury",
            Self::ViolenceWithoutInjury => "Violence without injury",
            Self::SexualOffence => "Sexual offence",
            Self::StalkingHarassment => "Stalking or harassment",
            Self::Robbery => "Robbery",
            Self::Burglary => "Burglary",
            Self::Theft => "Theft",
            Self::CriminalDamage => "Criminal damage",
            Self::Fraud => "Fraud",
            Self::HateCrime => "Hate crime",
            Self::Other => "Something else",
        }
    }

    /// The category of a code, as [`Self::code`] gives it.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|category| category.code() == code.trim())
    }
}

/// A hub officer took the referral on (or it was handed to another officer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralAllocated {
    pub referral_id: ReferralId,
    pub officer: StaffName,
    /// Who had it before, when it was re-allocated.
    pub previous_officer: Option<StaffName>,
}

/// The victim told the hub how they may (and may not) be contacted; this replaces what the referrer gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SafeContactUpdated {
    pub referral_id: ReferralId,
    pub safe_contact: SafeContact,
    /// Times of day the victim may be phoned or visited; empty means any time.
    pub safe_times: Vec<TimeBand>,
    /// A caution in the victim's or officer's words ("if a man answers, say it is the surgery"), sealed with the
    /// person's key: it can identify people.
    pub caution: Option<Sealed>,
}

/// The victim's consent to passing their details on to another service, as they gave it to the hub (or consent
/// overridden, with the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentRecorded {
    pub referral_id: ReferralId,
    /// explicit, withheld or overridden (opt-out is only ever the basis a referral arrives with).
    pub basis: ConsentBasis,
    /// Why consent was overridden, when it was.
    pub override_reason: Option<String>,
}

/// A letter or email about the hub's support went to the victim (only where that channel is safe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutreachSent {
    pub referral_id: ReferralId,
    pub channel: ContactChannel,
}

/// A hub officer assessed the contacted victim's needs (a later assessment is a reassessment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NeedsAssessed {
    pub referral_id: ReferralId,
    /// Need-category codes of the hub's list (`reference/need-categories.json`).
    pub needs: Vec<String>,
    pub reassessment: bool,
}

/// One session of support the hub gave the victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportSessionRecorded {
    pub referral_id: ReferralId,
    pub held_on: NaiveDate,
    pub mode: SessionMode,
    pub minutes: u32,
}

/// How a support session was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    Phone,
    InPerson,
    Video,
    Written,
}
