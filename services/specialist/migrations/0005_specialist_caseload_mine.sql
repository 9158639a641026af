-- "My caseload" is read in the caseload's order too: with only the order index (0004), the planner walked the whole
-- service's order to find one caseworker's cases (19-42 ms at 100,000 cases). This index gives one caseworker's
-- cases in that order directly (docs/performance.md, "A 100,000-case caseload page").
CREATE INDEX specialist_cases_caseload_mine ON specialist_cases (service, caseworker, enhanced_rights DESC, opened_at DESC, case_id);
