-- What each kind of service records beyond the common pathway.
ALTER TABLE specialist_cases ADD COLUMN cjs_stage TEXT;
ALTER TABLE specialist_cases ADD COLUMN cjs_stage_on TEXT;
ALTER TABLE specialist_cases ADD COLUMN spo_status TEXT;
ALTER TABLE specialist_cases ADD COLUMN spo_on TEXT;
ALTER TABLE specialist_cases ADD COLUMN rj_information_due TEXT;
ALTER TABLE specialist_cases ADD COLUMN rj_informed_on TEXT;
ALTER TABLE specialist_cases ADD COLUMN rj_form TEXT;
ALTER TABLE specialist_cases ADD COLUMN rj_outcome TEXT;
ALTER TABLE specialist_cases ADD COLUMN rj_satisfaction BIGINT;
