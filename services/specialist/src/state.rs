//! What every specialist route holds, the JSON API's and the pages' alike: the [`Desk`] (the context and the
//! services this process runs). Both adapters take it from here, so neither needs the other.

use casetrack_casework::catalogue::ServiceDefinition;
use casetrack_platform::Context;
use casetrack_platform::http::ApiError;
use casetrack_proto::ServiceCode;

/// What every specialist route holds: the context and the services this process runs.
#[derive(Clone)]
pub struct Desk {
    pub(crate) ctx: Context,
    services: Vec<ServiceCode>,
}

impl Desk {
    pub fn new(ctx: Context, services: Vec<ServiceCode>) -> Self {
        Self { ctx, services }
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
