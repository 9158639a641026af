-- Cases of every specialist service (each service's projection owns its own rows).
CREATE TABLE specialist_cases (
    case_id     TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    referral_id TEXT,
    origin      TEXT NOT NULL,
    opened_at   TEXT NOT NULL
);
CREATE INDEX specialist_cases_by_service ON specialist_cases (service, opened_at);
