-- The audit trail as auditors search it: one row per recorded access, in log order. Built from the audit stream.
CREATE TABLE audit_entries (
    position    BIGINT NOT NULL,
    event_id    TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     TEXT,
    username    TEXT,
    role        TEXT,
    method      TEXT NOT NULL,
    route       TEXT NOT NULL,
    -- The route's placeholders and their values, as JSON.
    records     TEXT NOT NULL,
    person_id   TEXT,
    address     TEXT,
    decision    TEXT NOT NULL,
    status      BIGINT NOT NULL,
    reason      TEXT
);
CREATE INDEX audit_entries_person ON audit_entries (person_id, position);
CREATE INDEX audit_entries_user ON audit_entries (username, position);
CREATE INDEX audit_entries_at ON audit_entries (at);
