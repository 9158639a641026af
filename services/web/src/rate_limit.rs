//! Per-address rate limits for what anyone may submit without signing in (the public self-referral form).
//!
//! Limits are held in the process (governor's keyed GCRA limiter): each process of the split topology counts on its
//! own, so the effective limit there is per process. The address is the TCP peer's; behind a reverse proxy that is
//! the proxy, so the proxy must rate-limit by client address itself (deploy/ says so).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Clone)]
pub struct AddressLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for AddressLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressLimit")
    }
}

impl AddressLimit {
    /// At most `per_hour` submissions an hour from one address (all of them at once, then one every
    /// `60 / per_hour` minutes). Zero is taken as one.
    pub fn per_hour(per_hour: u32) -> Self {
        let burst = NonZeroU32::new(per_hour).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_hour(burst).allow_burst(burst);
        Self { limiter: Arc::new(RateLimiter::keyed(quota)) }
    }

    /// True when one more submission from `address` is allowed now (and counts it).
    pub fn allow(&self, address: IpAddr) -> bool {
        // Forget addresses whose allowance has refilled, so the table cannot grow without bound.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance() {
        let limit = AddressLimit::per_hour(2);
        let (one, two): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!(limit.allow(one));
        assert!(limit.allow(one));
        assert!(!limit.allow(one), "the third within the hour is refused");
        assert!(limit.allow(two), "another address is not affected");
    }
}
