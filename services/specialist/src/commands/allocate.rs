//! Allocation (or re-allocation) of a case to a caseworker, named by their user name.

use casetrack_proto::StaffName;
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::when::Stated;
use super::{CaseAt, CaseCommand, Decide, decide};
use crate::case;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct CaseworkerRequest {
    /// The caseworker's user name, e.g. `s.jones`.
    pub caseworker: String,
}

/// An allocation is the service's own decision, made as it is recorded: dated now.
impl CaseCommand for CaseworkerRequest {
    fn stated(&self) -> Stated<'_> {
        Stated::Now
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let worker = StaffName::parse(&self.caseworker).map_err(|why| ApiError::rejected("caseworker_invalid", why))?;
        let id = at.id;
        Ok(decide(move |state, _| case::allocate(state, id, worker.clone())))
    }
}
