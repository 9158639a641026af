//! What every specialist route holds, the JSON API's and the pages' alike: the [`Desk`] (the context, the services
//! this process runs and their back-dating window). Both adapters take it from here, so neither needs the other.

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_casework::occurred::BackDating;
use casetrack_proto::ServiceCode;
use casetrack_web::Context;
use casetrack_web::http::ApiError;

/// What every specialist route holds: the context, the services this process runs, and how far back their
/// records may be dated without a reason.
#[derive(Clone)]
pub struct Desk {
    pub(crate) ctx: Context,
    services: Vec<ServiceCode>,
    back_dating: BackDating,
}

impl Desk {
    /// The services' desk, with the default back-dating window (14 days).
    pub fn new(ctx: Context, services: Vec<ServiceCode>) -> Self {
        Self { ctx, services, back_dating: BackDating::default() }
    }

    /// The same with another back-dating window (the installation's setting): a fact dated further back needs a
    /// reason, and is flagged as a late entry in the audit trail (DESIGN.md "Domain time").
    pub fn with_back_dating(self, back_dating: BackDating) -> Self {
        Self { back_dating, ..self }
    }

    pub fn back_dating(&self) -> BackDating {
        self.back_dating
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The definition of a service run by this process, or 404.
    pub fn service(&self, code: &str) -> Result<&ServiceDefinition, ApiError> {
        let here = self.services.iter().any(|s| s.as_str() == code);
        match self.ctx.catalogue.get(code) {
            Some(definition) if here => Ok(definition),
            _ => Err(ApiError::not_found("This service is not run here.")),
        }
    }
}
