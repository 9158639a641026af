//! One referral's page (`/hub/referrals/{referral_id}`) and the actions posted from it.
//!
//! - [`page`]: the page itself: person summary, safe-contact warnings, referral summary;
//! - [`forms`]: the actions the referral's stage allows, and possible duplicates of its person;
//! - [`timeline`]: everything that happened, newest first, the closed loop included;
//! - [`actions`]: reading a posted action's form and calling its command.

pub mod actions;
pub mod forms;
pub mod page;
pub mod timeline;
