//! The console's files, embedded at compile time by `build.rs`, served with
//! their content type and the console's security headers.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The Content-Security-Policy of every console answer: scripts, styles,
/// fetches only from this origin, no inline script or style, no framing.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The embedded file at `path` (relative to `console/`).
pub(crate) fn asset(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

/// The content type for a file name, by extension.
pub(crate) fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Adds the console's security headers to `resp`.
pub(crate) fn secure(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Revalidate every time: the files change with the binary, not by date.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn file(path: &str) -> Response {
    match asset(path) {
        Some(bytes) => secure(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type(path))],
                Body::from(bytes),
            )
                .into_response(),
        ),
        None => ApiError::not_found(format!("no console file `{path}`"))
            .with_code("not_found")
            .into_response(),
    }
}

/// `GET /`, `/tools`, `/dashboard`, `/integrations`: the one shell page; the
/// script picks the page from the path.
pub(crate) async fn shell() -> Response {
    file("index.html")
}

/// `GET /console/{*path}`: an embedded file.
pub(crate) async fn console_file(Path(path): Path<String>) -> Response {
    file(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_and_its_scripts_are_embedded_with_their_types() {
        assert!(asset("index.html").is_some());
        assert!(asset("js/app.js").is_some());
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("css/console.css"), "text/css; charset=utf-8");
        assert!(asset("../Cargo.toml").is_none());
        // The browser tests are not served.
        assert!(ASSETS.iter().all(|(p, _)| !p.starts_with("tests/")));
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        let script = CSP
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert_eq!(script.trim(), "script-src 'self'");
        assert!(!CSP.contains("unsafe"));
    }

    #[test]
    fn scripts_and_styles_fit_the_budget() {
        let total: usize = ASSETS
            .iter()
            .filter(|(p, _)| p.ends_with(".js") || p.ends_with(".css"))
            .map(|(_, b)| b.len())
            .sum();
        assert!(total < 200 * 1024, "{total} bytes of JavaScript and CSS");
    }
}
