//! Events of the specialist services (IDVA, ISVA, stalking advocacy, RJ and services defined in configuration).
//!
//! Every case follows the common pathway: referral received (`CaseOpened`), accepted or declined by the service or
//! withdrawn; allocated to a caseworker; contact attempts under the service's attempt rule and the victim's
//! safe-contact rules; engaged (reached), declined by the victim or unable to contact; risk assessments with review
//! dates, a plan, interventions and notes; closed with a reason and outcome answers; re-opened. IDVA cases add the
//! DASH checklist and MARAC; ISVA cases the criminal-justice stage; stalking cases S-DASH and Stalking Protection
//! Orders; restorative-justice cases the information given, suitability, the offender's consent, the form taken and
//! the outcome.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::contact::{AttemptOutcome, ContactChannel, SafeContact, TimeBand};
use crate::hub::MeasureAnswer;
use crate::hub::OffenceCategory;
use crate::ids::{CaseId, EventId, PersonId, ReferralId, Sealed, ServiceCode, StaffName};
use crate::profile::{AgeBand, Nationality, YesNoUnknown};

crate::contract! {
    /// Everything a specialist service records about a case.
    pub enum SpecialistEvent in "specialist" {
        CaseOpened(CaseOpened) = 3,
        ReferralAccepted(ReferralAccepted) = 1,
        ReferralDeclinedByService(ReferralDeclinedByService) = 1,
        ReferralWithdrawn(ReferralWithdrawn) = 1,
        CaseAllocated(CaseAllocated) = 1,
        CaseSafeContactUpdated(CaseSafeContactUpdated) = 1,
        CaseContactAttemptRecorded(CaseContactAttemptRecorded) = 1,
        CaseUnableToContactRecorded(CaseUnableToContactRecorded) = 1,
        CaseSupportDeclined(CaseSupportDeclined) = 1,
        RiskAssessed(RiskAssessed) = 1,
        MaracReferred(MaracReferred) = 1,
        MaracHeard(MaracHeard) = 1,
        PlanRecorded(PlanRecorded) = 1,
        InterventionRecorded(InterventionRecorded) = 1,
        CaseNoteAdded(CaseNoteAdded) = 1,
        CaseClosed(CaseClosed) = 1,
        CaseReopened(CaseReopened) = 1,
        CjsStageRecorded(CjsStageRecorded) = 1,
        SpoRecorded(SpoRecorded) = 1,
        RjInformationGiven(RjInformationGiven) = 1,
        RjSuitabilityAssessed(RjSuitabilityAssessed) = 1,
        OffenderConsentRecorded(OffenderConsentRecorded) = 1,
        RjFormAgreed(RjFormAgreed) = 1,
        RjConcluded(RjConcluded) = 1,
    }
    upcast {
        CaseOpened: CaseOpenedV1 = 1,
        CaseOpened: CaseOpenedV2 = 2,
    }
}

/// A specialist service received a referral: the case exists, awaiting the service's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpened {
    pub case_id: CaseId,
    pub service: ServiceCode,
    pub person_id: PersonId,
    pub origin: CaseOrigin,
    /// How the victim may be contacted, as the referrer knew it.
    pub safe_contact: SafeContact,
    /// Times of day the victim may be phoned or visited; empty means any time.
    pub safe_times: Vec<TimeBand>,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    /// Age band on the day of referral (ISVA counts under-18s apart); absent when not known.
    pub age_band: Option<AgeBand>,
    /// The offence the referral is about, as a direct referrer gave it (a case opened from the hub's onward
    /// referral leaves it out: the hub's referral holds it).
    pub offence_category: Option<OffenceCategory>,
    /// The victim's nationality, as a direct referrer gave it (an ISO 3166-1 country code).
    pub nationality: Option<Nationality>,
}

/// Version 2: before a direct referral carried the offence and the victim's nationality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpenedV2 {
    pub case_id: CaseId,
    pub service: ServiceCode,
    pub person_id: PersonId,
    pub origin: CaseOrigin,
    pub safe_contact: SafeContact,
    pub safe_times: Vec<TimeBand>,
    pub domestic_abuse: bool,
    pub enhanced_rights: bool,
    pub age_band: Option<AgeBand>,
}

impl From<CaseOpenedV2> for CaseOpened {
    /// Neither was asked: not known.
    fn from(v2: CaseOpenedV2) -> Self {
        Self {
            case_id: v2.case_id,
            service: v2.service,
            person_id: v2.person_id,
            origin: v2.origin,
            safe_contact: v2.safe_contact,
            safe_times: v2.safe_times,
            domestic_abuse: v2.domestic_abuse,
            enhanced_rights: v2.enhanced_rights,
            age_band: v2.age_band,
            offence_category: None,
            nationality: None,
        }
    }
}

/// Version 1: before the case carried the safe-contact rules and the victim's characteristics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpenedV1 {
    pub case_id: CaseId,
    pub service: ServiceCode,
    pub person_id: PersonId,
    pub origin: CaseOrigin,
}

impl From<CaseOpenedV1> for CaseOpened {
    /// Nothing was known: every channel unknown (never assumed safe), any time, no flags, age not known.
    fn from(v1: CaseOpenedV1) -> Self {
        Self {
            case_id: v1.case_id,
            service: v1.service,
            person_id: v1.person_id,
            origin: v1.origin,
            safe_contact: SafeContact::default(),
            safe_times: Vec::new(),
            domestic_abuse: false,
            enhanced_rights: false,
            age_band: None,
            offence_category: None,
            nationality: None,
        }
    }
}

/// Where a case came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CaseOrigin {
    /// The hub's onward referral; `onward_event_id` is the `OnwardReferralMade` event the case was opened from.
    Hub { referral_id: ReferralId, onward_event_id: EventId },
    /// Referred directly: `source` is one of the service's referral sources (police, marac, partner, self, ...).
    Direct { source: String },
}

/// The service took the referral on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralAccepted {
    pub case_id: CaseId,
}

/// The service declined the referral (not for this service, criteria not met, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralDeclinedByService {
    pub case_id: CaseId,
    pub reason: String,
}

/// The referrer withdrew the referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralWithdrawn {
    pub case_id: CaseId,
    pub reason: String,
}

/// The case was given to a caseworker (or handed to another).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseAllocated {
    pub case_id: CaseId,
    pub caseworker: StaffName,
    pub previous_caseworker: Option<StaffName>,
}

/// The victim told the caseworker how they may (and may not) be contacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseSafeContactUpdated {
    pub case_id: CaseId,
    pub safe_contact: SafeContact,
    pub safe_times: Vec<TimeBand>,
}

/// One try to reach the victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseContactAttemptRecorded {
    pub case_id: CaseId,
    pub channel: ContactChannel,
    pub attempted_at: DateTime<Utc>,
    pub time_band: TimeBand,
    pub outcome: AttemptOutcome,
}

/// The victim could not be reached after the service's attempt rule was met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseUnableToContactRecorded {
    pub case_id: CaseId,
    pub attempts: u32,
    pub time_bands: Vec<TimeBand>,
}

/// The victim, once reached, declined the service's support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseSupportDeclined {
    pub case_id: CaseId,
    pub reason: String,
}

/// Which risk checklist an assessment used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskChecklist {
    /// Domestic abuse, stalking and harassment, and honour-based violence checklist: 24 questions.
    Dash,
    /// The stalking screening questions: 11.
    SDash,
    /// The service's own judgement without a scored checklist.
    Professional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Standard,
    Medium,
    High,
}

/// Why a case is high risk (more than one may apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HighRiskReason {
    /// 14 or more "yes" answers on the DASH checklist.
    Score,
    ProfessionalJudgement,
    /// The abuse is escalating.
    Escalation,
    /// A repeat incident (a repeat MARAC case).
    Repeat,
}

/// A risk assessment, with the date it is next due for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskAssessed {
    pub case_id: CaseId,
    pub checklist: RiskChecklist,
    /// One answer per question, in checklist order (empty for a professional assessment).
    pub answers: Vec<YesNoUnknown>,
    /// The number of "yes" answers.
    pub score: u32,
    pub level: RiskLevel,
    /// Why high, when high; empty otherwise.
    pub high_risk_reasons: Vec<HighRiskReason>,
    pub review_on: Option<NaiveDate>,
    /// Re-assessed as part of closing the case.
    pub at_closure: bool,
}

/// The case was referred to the Multi-Agency Risk Assessment Conference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MaracReferred {
    pub case_id: CaseId,
    pub referred_on: NaiveDate,
}

/// MARAC heard the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MaracHeard {
    pub case_id: CaseId,
    pub heard_on: NaiveDate,
    /// The same victim was heard at MARAC in the 12 months before (this or another case).
    pub repeat: bool,
}

/// The safety or support plan, in the caseworker's words (sealed with the person's key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRecorded {
    pub case_id: CaseId,
    pub plan: Sealed,
    pub review_on: Option<NaiveDate>,
}

/// A piece of work done with or for the victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InterventionRecorded {
    pub case_id: CaseId,
    /// One of the service's need-category codes the intervention addressed.
    pub need: String,
    pub held_on: NaiveDate,
    pub minutes: u32,
}

/// A case note (sealed with the person's key). A restricted note may be withheld from a subject-access export
/// after review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseNoteAdded {
    pub case_id: CaseId,
    pub note: Sealed,
    pub restricted: bool,
}

/// Why a case closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// The support planned was given.
    SupportCompleted,
    /// The victim stopped engaging.
    DisengagedLater,
    /// Passed to another service or area.
    TransferredOut,
    /// The victim moved away.
    MovedAway,
}

/// The case closed, with the victim's answers to the service's outcome measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosed {
    pub case_id: CaseId,
    pub reason: ClosureReason,
    pub measures_version: String,
    pub answers: Vec<MeasureAnswer>,
}

/// A closed (or ended) case was opened again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseReopened {
    pub case_id: CaseId,
    pub reason: String,
}

/// Where the criminal-justice process stands (ISVA cases stay open for months while it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CjsStage {
    NotReported,
    Reported,
    UnderInvestigation,
    Charged,
    Trial,
    Verdict,
    NoFurtherAction,
}

/// The criminal-justice process reached a stage, on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CjsStageRecorded {
    pub case_id: CaseId,
    pub stage: CjsStage,
    pub on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpoStatus {
    Applied,
    Granted,
    Refused,
}

/// A Stalking Protection Order was applied for, granted or refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpoRecorded {
    pub case_id: CaseId,
    pub status: SpoStatus,
    pub on: NaiveDate,
}

/// The victim was told about restorative justice and explored it with the service (the Victims' Code clock: within
/// 5 working days of the referral, 1 under enhanced rights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RjInformationGiven {
    pub case_id: CaseId,
    pub on: NaiveDate,
}

/// Whether restorative justice is suitable and safe here (the facilitator's risk assessment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RjSuitabilityAssessed {
    pub case_id: CaseId,
    pub suitable: bool,
    pub reason: String,
}

/// The offender agreed to take part, or did not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OffenderConsentRecorded {
    pub case_id: CaseId,
    pub consents: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RjForm {
    /// The parties meet, with a facilitator.
    FaceToFaceConference,
    /// Messages carried between the parties.
    ShuttleMediation,
    /// A letter or recorded message.
    IndirectCommunication,
}

/// The form the restorative process will take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RjFormAgreed {
    pub case_id: CaseId,
    pub form: RjForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RjOutcome {
    Completed,
    WithdrawnByVictim,
    WithdrawnByOffender,
    Unsuitable,
}

/// How the restorative process ended, and how satisfied the victim was (1 to 5, when asked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RjConcluded {
    pub case_id: CaseId,
    pub outcome: RjOutcome,
    pub satisfaction: Option<u8>,
}
