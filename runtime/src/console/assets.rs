//! The console's files, embedded at build time, served with their type and headers that
//! keep the page to its own origin.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Only the server's own scripts, styles and API: no CDN, nothing inline to inject into.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The embedded file at `path`, if any.
pub fn find(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn serve(path: &str) -> Response {
    let Some(bytes) = find(path) else {
        return (StatusCode::NOT_FOUND, "no such console file\n").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    // Same binary, same files: revalidating is cheap, a stale script after an upgrade is not.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /console`: the single page.
pub async fn index() -> Response {
    serve("index.html")
}

/// `GET /console/{path}`: a script, style sheet or image.
pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_scripts_are_embedded() {
        let page = std::str::from_utf8(find("index.html").unwrap()).unwrap();
        assert!(page.contains("<script"));
        for (path, _) in ASSETS {
            assert!(!path.starts_with('/') && !path.contains(".."), "{path}");
        }
        assert!(ASSETS.iter().any(|(p, _)| p.ends_with(".js")));
        assert_eq!(content_type("views/x.js"), "text/javascript; charset=utf-8");
        assert!(find("../Cargo.toml").is_none());
    }
}
