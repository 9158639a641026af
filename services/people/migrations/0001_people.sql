-- Who is known, without any plaintext: personal details live sealed in the log.
CREATE TABLE people (
    person_id     TEXT PRIMARY KEY,
    match_key     TEXT,
    registered_at TEXT NOT NULL,
    erased_at     TEXT
);
CREATE INDEX people_by_match_key ON people (match_key);
