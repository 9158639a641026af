-- Commands that dated their fact further back than the back-dating window: how late, and the reason given.
ALTER TABLE audit_entries ADD COLUMN late_entry TEXT;
