-- reporting.pathway: every day's activity counts added up by month as well, so that a long period sums its whole
-- months (a year: 12 rows per service and figure, not 365) and the days either side. The projection starts again
-- from the beginning of the log to fill them in.
CREATE TABLE reporting_activity_monthly (
    month   TEXT NOT NULL,
    service TEXT NOT NULL,
    figure  TEXT NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (month, service, figure)
);
DELETE FROM reporting_daily;
DELETE FROM reporting_contacted;
DELETE FROM reporting_cases;
DELETE FROM projection_checkpoints WHERE name = 'reporting.pathway';
