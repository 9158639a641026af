-- Figures are counted by day (in England and Wales) instead of by month, so that any period from one day to
-- another adds up exactly. The pathway's read model is rebuilt from the log: its checkpoint goes back to the start.
DROP TABLE reporting_monthly;
CREATE TABLE reporting_daily (
    day    TEXT NOT NULL,
    service TEXT NOT NULL,
    figure TEXT NOT NULL,
    value  BIGINT NOT NULL,
    PRIMARY KEY (day, service, figure)
);
DELETE FROM reporting_contacted;
DELETE FROM reporting_cases;
DELETE FROM projection_checkpoints WHERE name = 'reporting.pathway';

-- reporting.cohort: one row per hub referral or specialist case, with the dimension values it is counted under
-- (fixed when received), the stages it has reached (comma-separated figure names), and its state now.
CREATE TABLE reporting_units (
    id             TEXT PRIMARY KEY,
    service        TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    received_day   TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    source         TEXT NOT NULL,
    offence        TEXT NOT NULL,
    domestic_abuse TEXT NOT NULL,
    age_band       TEXT NOT NULL,
    gender         TEXT NOT NULL,
    ethnic_group   TEXT NOT NULL,
    bame           TEXT NOT NULL,
    disability     TEXT NOT NULL,
    repeat_victim  TEXT NOT NULL,
    stages         TEXT NOT NULL,
    state          TEXT NOT NULL,
    clock_start    TEXT
);
CREATE INDEX reporting_units_person ON reporting_units (person_id, service, received_at);
CREATE INDEX reporting_units_received ON reporting_units (received_day, service, person_id);

-- The cohort's counts: units received on `day` by `service`, under `value` of `dimension`, at `figure` (a stage
-- reached or the state they are in now). Under the dimension `caseload`, units opened and ended on `day` instead.
CREATE TABLE reporting_cohort (
    service   TEXT NOT NULL,
    day       TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    figure    TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (dimension, day, service, value, figure)
);

-- Ties between a person's consecutive units of a service (per dimension value, and for `all`): the distinct
-- victims of a period are its units minus the ties with both ends inside it. Under `month:<dimension>`, the same
-- ties by month.
CREATE TABLE reporting_ties (
    service   TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    prev_day  TEXT NOT NULL,
    day       TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (dimension, prev_day, day, service, value)
);
