-- The hub's referrals as hub officers see them (codes only: personal details stay sealed in the log).
CREATE TABLE hub_referrals (
    referral_id       TEXT PRIMARY KEY,
    person_id         TEXT NOT NULL,
    source            TEXT NOT NULL,
    offence_category  TEXT,
    domestic_abuse    BIGINT NOT NULL,
    crime_reference   TEXT,
    crime_reported_on TEXT,
    received_at       TEXT NOT NULL
);

-- Onward referrals and what became of them at the specialist service (the closed loop).
CREATE TABLE hub_onward_referrals (
    referral_id    TEXT NOT NULL,
    service        TEXT NOT NULL,
    referred_at    TEXT NOT NULL,
    case_id        TEXT,
    case_opened_at TEXT,
    PRIMARY KEY (referral_id, service)
);
