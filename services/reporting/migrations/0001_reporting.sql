-- Pathway figures per service, calendar month (UTC) and figure name. See docs/metrics.md for each rule.
CREATE TABLE reporting_monthly (
    service TEXT NOT NULL,
    month   TEXT NOT NULL,
    figure  TEXT NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (service, month, figure)
);
