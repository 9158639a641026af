-- reporting.cohort: victims are counted by nationality too (an ISO 3166-1 country code, or not_known), and a
-- case opened directly by a specialist service by the offence its referral gave. The projection starts again from
-- the beginning of the log to fill them in.
ALTER TABLE reporting_units ADD COLUMN nationality TEXT NOT NULL DEFAULT 'not_known';
DELETE FROM reporting_units;
DELETE FROM reporting_cohort;
DELETE FROM reporting_ties;
DELETE FROM projection_checkpoints WHERE name = 'reporting.cohort';
