//! The page assets, embedded in the binary: the design systems' built files as `scripts/update-frontend` copied them
//! into `assets/vendor/` (versions in `assets/vendor/VERSIONS`), Casetrack's own few rules on top, and the one
//! module script that turns on the components' JavaScript. Pages never need the script: it only improves them.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The stylesheets every page links, in order: GOV.UK, then MoJ, then Casetrack's own rules.
pub const STYLESHEETS: [&str; 3] =
    ["/assets/vendor/govuk-frontend.min.css", "/assets/vendor/moj-frontend.min.css", "/assets/casetrack.css"];

/// The module script every page loads (external: the content security policy allows no inline script).
pub const SCRIPT: &str = "/assets/casetrack.mjs";

/// The design systems' versions, as `scripts/update-frontend` recorded them.
pub const VERSIONS: &str = include_str!("../../assets/vendor/VERSIONS");

const VENDOR: [(&str, &str, &[u8]); 4] = [
    ("govuk-frontend.min.css", "text/css", include_bytes!("../../assets/vendor/govuk-frontend.min.css")),
    ("moj-frontend.min.css", "text/css", include_bytes!("../../assets/vendor/moj-frontend.min.css")),
    ("govuk-frontend.min.js", "text/javascript", include_bytes!("../../assets/vendor/govuk-frontend.min.js")),
    ("moj-frontend.min.js", "text/javascript", include_bytes!("../../assets/vendor/moj-frontend.min.js")),
];

/// The images the stylesheets name as `/assets/images/...`.
const IMAGES: &[(&str, &[u8])] = &[
    ("favicon.svg", include_bytes!("../../assets/vendor/images/favicon.svg")),
    ("govuk-crest.svg", include_bytes!("../../assets/vendor/images/govuk-crest.svg")),
    ("icon-alert-information.svg", include_bytes!("../../assets/vendor/images/icon-alert-information.svg")),
    ("icon-alert-success.svg", include_bytes!("../../assets/vendor/images/icon-alert-success.svg")),
    ("icon-alert-warning.svg", include_bytes!("../../assets/vendor/images/icon-alert-warning.svg")),
    ("icon-arrow-black-down.svg", include_bytes!("../../assets/vendor/images/icon-arrow-black-down.svg")),
    ("icon-arrow-black-up.svg", include_bytes!("../../assets/vendor/images/icon-arrow-black-up.svg")),
    ("icon-arrow-white-down.svg", include_bytes!("../../assets/vendor/images/icon-arrow-white-down.svg")),
    ("icon-arrow-white-up.svg", include_bytes!("../../assets/vendor/images/icon-arrow-white-up.svg")),
    ("icon-close-cross-black.svg", include_bytes!("../../assets/vendor/images/icon-close-cross-black.svg")),
    ("icon-document.svg", include_bytes!("../../assets/vendor/images/icon-document.svg")),
    ("icon-progress-tick.svg", include_bytes!("../../assets/vendor/images/icon-progress-tick.svg")),
    ("icon-search-black.svg", include_bytes!("../../assets/vendor/images/icon-search-black.svg")),
    ("icon-search-blue.svg", include_bytes!("../../assets/vendor/images/icon-search-blue.svg")),
    ("icon-search-white.svg", include_bytes!("../../assets/vendor/images/icon-search-white.svg")),
    ("icon-tag-remove-cross-white.svg", include_bytes!("../../assets/vendor/images/icon-tag-remove-cross-white.svg")),
    ("icon-tag-remove-cross.svg", include_bytes!("../../assets/vendor/images/icon-tag-remove-cross.svg")),
    ("icon-toggle-plus-minus.svg", include_bytes!("../../assets/vendor/images/icon-toggle-plus-minus.svg")),
    ("icon-wysiwyg-bold.svg", include_bytes!("../../assets/vendor/images/icon-wysiwyg-bold.svg")),
    ("icon-wysiwyg-italic.svg", include_bytes!("../../assets/vendor/images/icon-wysiwyg-italic.svg")),
    ("icon-wysiwyg-ordered-list.svg", include_bytes!("../../assets/vendor/images/icon-wysiwyg-ordered-list.svg")),
    ("icon-wysiwyg-underline.svg", include_bytes!("../../assets/vendor/images/icon-wysiwyg-underline.svg")),
    ("icon-wysiwyg-unordered-list.svg", include_bytes!("../../assets/vendor/images/icon-wysiwyg-unordered-list.svg")),
];

/// `/assets/vendor/{file}`: a design system's stylesheet or script.
pub async fn vendor(Path(file): Path<String>) -> Response {
    match VENDOR.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => asset(content_type, body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/assets/images/{file}`: an image a stylesheet names.
pub async fn image(Path(file): Path<String>) -> Response {
    match IMAGES.iter().find(|(name, _)| *name == file) {
        Some((_, body)) => asset("image/svg+xml", body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/assets/casetrack.css`: Casetrack's own rules over the design systems (the safe-contact panel, phone layouts).
pub async fn stylesheet() -> Response {
    asset("text/css", include_bytes!("../../assets/casetrack.css"))
}

/// `/assets/casetrack.mjs`: turns on GOV.UK's and MoJ's component scripts.
pub async fn script() -> Response {
    asset("text/javascript", include_bytes!("../../assets/casetrack.mjs"))
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stylesheets_name_no_gov_uk_font_and_every_image_they_name_is_served() {
        for (name, _, body) in super::VENDOR {
            let text = std::str::from_utf8(body).unwrap();
            assert!(!text.contains("GDS Transport"), "{name} names the GOV.UK font");
            for image in text.split("url(/assets/images/").skip(1) {
                let image = &image[..image.find(')').unwrap()];
                assert!(super::IMAGES.iter().any(|(n, _)| *n == image), "{name} names {image}, which is not served");
            }
        }
    }
}
