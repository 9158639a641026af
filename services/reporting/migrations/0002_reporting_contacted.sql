-- Referrals already counted as contacted (a referral is contacted once, at its first reached attempt).
CREATE TABLE reporting_contacted (
    referral_id TEXT PRIMARY KEY
);
