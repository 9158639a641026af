//! What every hub route holds: the [`Hub`] (the shared context, the hub's settings and the public form's rate
//! limit) and the [`HubSettings`] it is built with.
//!
//! Its own module so that the JSON api, the pages, the commands and the views can all hold a `Hub` without any of
//! them importing another: the commands add their methods to it (`impl Hub` in each `commands/` file).

use casetrack_web::Context;
use casetrack_web::rate_limit::AddressLimit;

/// The hub's own settings. The attempt rule is a service setting, not a constant (DOMAIN.md "Attempt rule").
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    pub attempt_rule: casetrack_casework::contact::AttemptRule,
    /// Public self-referral form submissions allowed per address per hour.
    pub self_referrals_per_hour: u32,
    /// How far back a fact may be dated without a reason (14 days unless set); beyond it a command needs a reason
    /// and is flagged as a late entry in the audit trail (DESIGN.md "Domain time").
    pub back_dating: casetrack_casework::occurred::BackDating,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self { attempt_rule: Default::default(), self_referrals_per_hour: 10, back_dating: Default::default() }
    }
}

/// What every hub route holds.
#[derive(Clone)]
pub struct Hub {
    ctx: Context,
    settings: HubSettings,
    public_limit: AddressLimit,
}

impl Hub {
    /// The hub's commands on `ctx` (the router builds one; `casetrack demo` too).
    pub fn new(ctx: Context, settings: HubSettings) -> Self {
        let public_limit = AddressLimit::per_hour(settings.self_referrals_per_hour);
        Self { ctx, settings, public_limit }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    pub fn settings(&self) -> HubSettings {
        self.settings
    }

    /// How often one address may use the public self-referral form.
    pub fn public_limit(&self) -> &AddressLimit {
        &self.public_limit
    }
}
