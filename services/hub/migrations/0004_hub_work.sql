-- Who works each referral, the Victims' Code deadline, needs, sessions, outreach and the repeat-victim flag.
ALTER TABLE hub_referrals ADD COLUMN officer TEXT;
ALTER TABLE hub_referrals ADD COLUMN first_attempt_due TEXT;
ALTER TABLE hub_referrals ADD COLUMN first_attempt_at TEXT;
ALTER TABLE hub_referrals ADD COLUMN needs TEXT;
ALTER TABLE hub_referrals ADD COLUMN needs_assessed_at TEXT;
ALTER TABLE hub_referrals ADD COLUMN sessions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE hub_referrals ADD COLUMN outreach_sent_at TEXT;
-- Start of the 12-month window before receipt in which another referral of the same (or a linked) person makes
-- this one a repeat.
ALTER TABLE hub_referrals ADD COLUMN repeat_window_start TEXT;
ALTER TABLE hub_referrals ADD COLUMN repeat_victim BIGINT NOT NULL DEFAULT 0;
CREATE INDEX hub_referrals_by_officer ON hub_referrals (officer, status);
CREATE INDEX hub_referrals_by_person ON hub_referrals (person_id, received_at);
CREATE INDEX hub_referrals_by_due ON hub_referrals (status, enhanced_rights, first_attempt_due);

-- People decided to be the same person (both directions), as the hub saw the people service's decisions.
CREATE TABLE hub_person_links (
    person_id       TEXT NOT NULL,
    other_person_id TEXT NOT NULL,
    PRIMARY KEY (person_id, other_person_id)
);
