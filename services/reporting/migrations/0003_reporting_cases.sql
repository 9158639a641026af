-- Which service each specialist case belongs to (its later events carry only the case id), and the facts counted
-- once per case: first reached, first assessed as high risk.
CREATE TABLE reporting_cases (
    case_id   TEXT PRIMARY KEY,
    service   TEXT NOT NULL,
    engaged   BIGINT NOT NULL DEFAULT 0,
    high_risk BIGINT NOT NULL DEFAULT 0
);
