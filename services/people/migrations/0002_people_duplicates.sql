-- Decisions on candidate duplicates (same blind match key); the latest decision for a pair stands.
CREATE TABLE people_duplicate_decisions (
    person_id       TEXT NOT NULL,
    other_person_id TEXT NOT NULL,
    decision        TEXT NOT NULL,
    decided_at      TEXT NOT NULL,
    PRIMARY KEY (person_id, other_person_id)
);
