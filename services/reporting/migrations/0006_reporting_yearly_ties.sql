-- reporting.cohort: ties between a person's consecutive units are kept per financial year too (`fy:<dimension>`),
-- so that a period of whole financial years counts its distinct victims from a few rows per value. The projection
-- starts again from the beginning of the log to fill them in.
DELETE FROM reporting_units;
DELETE FROM reporting_cohort;
DELETE FROM reporting_ties;
DELETE FROM projection_checkpoints WHERE name = 'reporting.cohort';
