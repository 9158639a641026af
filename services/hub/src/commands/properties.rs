//! Property tests of every JSON body the hub's API reads: whatever JSON a client sends, the body is read or
//! refused (axum answers 422 with serde's reason), never a panic; and whatever is read survives being written and
//! read again unchanged, so the typed journeys in `tests/` send what a client would.

use casetrack_casework::testing::{any_json, read_or_refuse};
use proptest::prelude::*;

use super::allocate::AllocationRequest;
use super::close::ClosureRequest;
use super::contact::{ContactAttemptRequest, OutreachRequest, ReasonRequest};
use super::onward::{ConsentRequest, OnwardReferralRequest};
use super::police_report::PoliceReportRequest;
use super::receive::ReceiveReferralRequest;
use super::safe_contact::SafeContactRequest;
use super::support::{NeedsRequest, SessionRequest};
use super::when::WhenRequest;

/// The field names and values the bodies use, drawn among any others.
const KEYS: &[&str] = &[
    "person_id",
    "source",
    "occurred_at",
    "late_reason",
    "channel",
    "attempted_at",
    "outcome",
    "answers",
    "service",
    "safe_contact",
];
const VALUES: &[&str] = &["2019-05-07", "2026-12-04T10:00:00Z", "phone", "no_answer"];

proptest! {
    #[test]
    fn every_body_is_read_or_refused(value in any_json(KEYS, VALUES)) {
        read_or_refuse::<ReceiveReferralRequest>(&value)?;
        read_or_refuse::<ContactAttemptRequest>(&value)?;
        read_or_refuse::<OutreachRequest>(&value)?;
        read_or_refuse::<ReasonRequest>(&value)?;
        read_or_refuse::<ClosureRequest>(&value)?;
        read_or_refuse::<ConsentRequest>(&value)?;
        read_or_refuse::<OnwardReferralRequest>(&value)?;
        read_or_refuse::<PoliceReportRequest>(&value)?;
        read_or_refuse::<SafeContactRequest>(&value)?;
        read_or_refuse::<NeedsRequest>(&value)?;
        read_or_refuse::<SessionRequest>(&value)?;
        read_or_refuse::<AllocationRequest>(&value)?;
        read_or_refuse::<WhenRequest>(&value)?;
    }
}
