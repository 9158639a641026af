//! A self-referred victim has since reported the crime to police: the crime reference and the day it was reported
//! (not in the future), recorded even after the referral ended.

use casetrack_proto::ReferralId;
use casetrack_proto::hub::ReportedToPolice;
use casetrack_web::http::ApiError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use super::when::WhenRequest;
use crate::referral::record_police_report;
use crate::state::Hub;
use crate::values::{CrimeReference, InputRejection, not_in_future};

#[derive(Deserialize, Serialize, ToSchema)]
pub struct PoliceReportRequest {
    pub crime_reference: String,
    /// YYYY-MM-DD
    pub reported_on: NaiveDate,
    /// When the hub learned of it (`occurred_at`), and why it is recorded late (`late_reason`).
    #[serde(flatten)]
    pub when: WhenRequest,
}

impl Hub {
    pub async fn record_police_report(
        &self,
        referral_id: ReferralId,
        request: PoliceReportRequest,
    ) -> Result<Written, ApiError> {
        let when = self.when(&request.when)?;
        let today = when.now.date_naive();
        let reported_on = not_in_future(request.reported_on, today, InputRejection::ReportedInFuture)?;
        // A blank reference passes here: the aggregate refuses it (it is required only of a police report).
        let crime_reference =
            CrimeReference::parse(&request.crime_reference)?.map(CrimeReference::into_inner).unwrap_or_default();
        let report = ReportedToPolice { referral_id, crime_reference, reported_on };
        self.decide_when(referral_id, &when, |state| record_police_report(state, report.clone())).await
    }
}
