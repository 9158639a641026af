// Turns on the design systems' component scripts (tabs, character count, exit this page, service navigation,
// sortable tables). Every page works without this script; it only improves what is already there.
import { initAll as initGovuk } from "/assets/vendor/govuk-frontend.min.js";
import { initAll as initMoj } from "/assets/vendor/moj-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initGovuk();
initMoj();
