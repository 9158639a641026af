-- Where each referral stands, and every contact attempt.
ALTER TABLE hub_referrals ADD COLUMN status TEXT NOT NULL DEFAULT 'awaiting_contact';
ALTER TABLE hub_referrals ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE hub_referrals ADD COLUMN ended_at TEXT;

CREATE TABLE hub_contact_attempts (
    referral_id  TEXT NOT NULL,
    attempt_no   BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    time_band    TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    PRIMARY KEY (referral_id, attempt_no)
);
