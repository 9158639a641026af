-- Checkpoints of projections and reactors: the last log position whose commit is fully applied.
CREATE TABLE projection_checkpoints (
    name       TEXT PRIMARY KEY,
    position   BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Per-person data keys, wrapped by the master key. Erasure sets wrapped_key to NULL: the row stays as proof.
CREATE TABLE person_keys (
    person_id   TEXT PRIMARY KEY,
    wrapped_key TEXT,
    created_at  TEXT NOT NULL,
    erased_at   TEXT
);
