-- Where each case stands, who works it, its risk, reviews and MARAC, and the flags its figures are split by.
ALTER TABLE specialist_cases ADD COLUMN status TEXT NOT NULL DEFAULT 'awaiting_decision';
ALTER TABLE specialist_cases ADD COLUMN caseworker TEXT;
ALTER TABLE specialist_cases ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE specialist_cases ADD COLUMN risk_level TEXT;
ALTER TABLE specialist_cases ADD COLUMN risk_score BIGINT;
ALTER TABLE specialist_cases ADD COLUMN review_due TEXT;
ALTER TABLE specialist_cases ADD COLUMN marac_referred_on TEXT;
ALTER TABLE specialist_cases ADD COLUMN marac_heard_on TEXT;
ALTER TABLE specialist_cases ADD COLUMN marac_repeat BIGINT NOT NULL DEFAULT 0;
ALTER TABLE specialist_cases ADD COLUMN domestic_abuse BIGINT NOT NULL DEFAULT 0;
ALTER TABLE specialist_cases ADD COLUMN enhanced_rights BIGINT NOT NULL DEFAULT 0;
ALTER TABLE specialist_cases ADD COLUMN age_band TEXT;
ALTER TABLE specialist_cases ADD COLUMN ended_at TEXT;
ALTER TABLE specialist_cases ADD COLUMN closure_reason TEXT;
CREATE INDEX specialist_cases_by_caseworker ON specialist_cases (service, caseworker, status);
CREATE INDEX specialist_cases_by_review ON specialist_cases (service, review_due);
CREATE INDEX specialist_cases_by_person ON specialist_cases (person_id);
