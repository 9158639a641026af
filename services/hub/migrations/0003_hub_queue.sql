-- Enhanced-rights cases go first in the work queues.
ALTER TABLE hub_referrals ADD COLUMN enhanced_rights BIGINT NOT NULL DEFAULT 0;
CREATE INDEX hub_referrals_by_status ON hub_referrals (status, received_at);
