-- What became of each onward referral at the specialist service (the closed loop), and when.
ALTER TABLE hub_onward_referrals ADD COLUMN case_status TEXT;
ALTER TABLE hub_onward_referrals ADD COLUMN case_status_at TEXT;
-- At closure: how many of the service's outcome measures the victim said improved, of those asked.
ALTER TABLE hub_onward_referrals ADD COLUMN case_outcome TEXT;
CREATE INDEX hub_onward_referrals_by_case ON hub_onward_referrals (case_id);
