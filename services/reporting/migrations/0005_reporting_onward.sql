-- reporting.cohort: the hub referral a specialist case came from, so that what became of each onward referral is
-- counted on the referral it came from (docs/metrics.md, "Onward referrals and what became of them"). The
-- projection starts again from the beginning of the log to fill it in.
ALTER TABLE reporting_units ADD COLUMN origin TEXT;
DELETE FROM reporting_units;
DELETE FROM reporting_cohort;
DELETE FROM reporting_ties;
DELETE FROM projection_checkpoints WHERE name = 'reporting.cohort';
