-- A caseload page is read in its stable order (enhanced rights first, newest first, then by id: views/cases.rs
-- CASELOAD_ORDER); this index gives that order without sorting the service's every case, so the first and any later
-- page of a 100,000-case caseload is read in about a millisecond (issue 25, docs/performance.md).
CREATE INDEX specialist_cases_caseload_order ON specialist_cases (service, enhanced_rights DESC, opened_at DESC, case_id);
