//! Named entry points for the commands that callers outside the crate gave by name before [`Desk::run`] existed
//! (`casetrack demo` in `services/casetrack`). Each only gives its command through `run`; new callers give the
//! command themselves (`desk.run(service, case_id, Decline(reason))`), and these go once the demo does.

use casetrack_proto::CaseId;
use casetrack_web::http::ApiError;

use crate::commands::close::CloseRequest;
use crate::commands::contact::{AttemptRequest, UnableToContact};
use crate::commands::decision::{Accept, Decline, ReasonRequest};
use crate::commands::{CaseWritten, DateRequest};
use crate::kinds::RiskRequest;
use crate::kinds::idva::{MaracHearing, MaracReferral};
use crate::state::Desk;

impl Desk {
    pub async fn accept(&self, service: &str, case_id: CaseId) -> Result<CaseWritten, ApiError> {
        self.run(service, case_id, Accept::default()).await
    }

    pub async fn decline(&self, service: &str, id: CaseId, request: ReasonRequest) -> Result<CaseWritten, ApiError> {
        self.run(service, id, Decline(request)).await
    }

    pub async fn record_attempt(
        &self,
        service: &str,
        case_id: CaseId,
        request: AttemptRequest,
    ) -> Result<CaseWritten, ApiError> {
        self.run(service, case_id, request).await
    }

    pub async fn record_unable_to_contact(&self, service: &str, case_id: CaseId) -> Result<CaseWritten, ApiError> {
        self.run(service, case_id, UnableToContact::default()).await
    }

    pub async fn assess_risk(&self, service: &str, id: CaseId, request: RiskRequest) -> Result<CaseWritten, ApiError> {
        self.run(service, id, request).await
    }

    pub async fn refer_to_marac(&self, service: &str, id: CaseId, on: DateRequest) -> Result<CaseWritten, ApiError> {
        self.run(service, id, MaracReferral(on)).await
    }

    pub async fn marac_heard(&self, service: &str, id: CaseId, on: DateRequest) -> Result<CaseWritten, ApiError> {
        self.run(service, id, MaracHearing(on)).await
    }

    pub async fn close(&self, service: &str, id: CaseId, request: CloseRequest) -> Result<CaseWritten, ApiError> {
        self.run(service, id, request).await
    }
}
