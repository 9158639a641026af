//! The service's decision on a referral (accept or decline), the referrer's withdrawal, and re-opening an ended
//! case: each a reason in words (accepting needs none), and when it happened ([`WhenRequest`]).

use casetrack_web::http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::when::{Stated, WhenRequest};
use super::{CaseAt, CaseCommand, Decide, decide};
use crate::case;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
    #[serde(flatten)]
    pub when: WhenRequest,
}

/// The service takes the referral on (the request, when there is one, says only when).
#[derive(Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Accept(pub WhenRequest);

/// The service declines the referral, with the reason (the referrer sees it).
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct Decline(pub ReasonRequest);

/// The referrer withdrew the referral.
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct Withdraw(pub ReasonRequest);

/// Opens an ended case again (not one the service declined or the referrer withdrew).
#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub struct Reopen(pub ReasonRequest);

impl CaseCommand for Accept {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| case::accept(state, id)))
    }
}

impl CaseCommand for Decline {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| case::decline_referral(state, id, &self.0.reason)))
    }
}

impl CaseCommand for Withdraw {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| case::withdraw(state, id, &self.0.reason)))
    }
}

impl CaseCommand for Reopen {
    fn stated(&self) -> Stated<'_> {
        Stated::Given(&self.0.when)
    }

    async fn decision(self, at: &mut CaseAt<'_>) -> Result<Decide, ApiError> {
        let id = at.id;
        Ok(decide(move |state, _| case::reopen(state, id, &self.0.reason)))
    }
}
