-- What data protection needs to know of each person, kept by access from the log (never read from another
-- service's tables): when they were registered and, once erased, when.
CREATE TABLE access_people (
    person_id     TEXT PRIMARY KEY,
    registered_at TEXT NOT NULL,
    erased_at     TEXT
);
-- Each person's records: hub referrals (kind 'referral', service 'hub') and specialist cases (kind 'case',
-- service the service's code), when each was opened and when it ended (empty while open).
CREATE TABLE access_records (
    record_id  TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    service    TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX access_records_by_person ON access_records (person_id, kind, opened_at);
