//! Allocating a referral to a hub officer (or re-allocating it), by their user name.

use casetrack_proto::{ReferralId, StaffName};
use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::handler::Written;
use crate::referral::allocate;
use crate::state::Hub;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct AllocationRequest {
    /// The officer's user name, e.g. `a.khan`.
    pub officer: String,
}

impl Hub {
    pub async fn allocate(&self, referral_id: ReferralId, request: AllocationRequest) -> Result<Written, ApiError> {
        let officer = StaffName::parse(&request.officer).map_err(|why| ApiError::rejected("officer_invalid", why))?;
        self.decide(referral_id, |state| allocate(state, referral_id, officer.clone())).await
    }
}
