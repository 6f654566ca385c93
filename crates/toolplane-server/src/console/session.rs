//! Console sessions: a gateway key exchanged once for an HttpOnly,
//! SameSite=Strict session cookie, and a CSRF token every state-changing
//! request made with that cookie must repeat in `x-csrf-token`.
//!
//! ```text
//! POST /console/session {key}  ─► tp_session=<random> (HttpOnly, SameSite=Strict)
//!                                 tp_csrf=<random>    (readable by the page, SameSite=Strict)
//! later: cookie tp_session ─► principal; non-GET also needs x-csrf-token == the session's token
//! ```
//!
//! Sessions live in memory (a restart signs everybody out), are stored by the
//! SHA-256 of their cookie, expire after [`IDLE_TIMEOUT`] without use, and are
//! bounded in number (the least recently used goes first). A bearer key on a
//! request always wins over a cookie and needs no CSRF token: a cross-site
//! page cannot make the browser send one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode};
use parking_lot::Mutex;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use toolplane_core::Principal;

use crate::error::ApiError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "tp_session";
/// The CSRF cookie's name (the page reads it and sends it back as [`CSRF_HEADER`]).
pub(crate) const CSRF_COOKIE: &str = "tp_csrf";
/// The header that must carry the CSRF token on non-GET requests made with the cookie.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused for this long is gone.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// At most this many sessions at once.
const MAX_SESSIONS: usize = 10_000;
/// At most this many dock turns kept per session.
pub(crate) const MAX_TURNS: usize = 100;

/// One question asked in the dock: the run that answers it.
#[derive(Debug, Clone)]
pub(crate) struct Turn {
    /// The run (`run_...`).
    pub(crate) run_id: String,
    /// What the person asked.
    pub(crate) input: String,
    /// The model or route asked for.
    pub(crate) model: String,
}

/// A signed-in browser.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) principal: Principal,
    csrf: String,
    last_seen: Instant,
    /// The dock's conversation, oldest first.
    pub(crate) turns: Vec<Turn>,
}

/// All sessions, by the SHA-256 of their cookie value.
#[derive(Debug, Default)]
pub(crate) struct SessionStore {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new session's cookie values.
#[derive(Debug)]
pub(crate) struct NewSession {
    pub(crate) token: String,
    pub(crate) csrf: String,
}

impl SessionStore {
    /// Signs `principal` in; returns the cookie values.
    pub(crate) fn create(&self, principal: Principal) -> NewSession {
        let token = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut map = self.sessions.lock();
        map.retain(|_, s| now.duration_since(s.last_seen) < IDLE_TIMEOUT);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        map.insert(
            digest(&token),
            Session {
                principal,
                csrf: csrf.clone(),
                last_seen: now,
                turns: Vec::new(),
            },
        );
        NewSession { token, csrf }
    }

    /// Runs `f` on the live session of `token` (and marks it used); `None`
    /// when there is none or it expired.
    pub(crate) fn with<R>(&self, token: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let key = digest(token);
        let mut map = self.sessions.lock();
        let now = Instant::now();
        let expired = map
            .get(&key)
            .is_some_and(|s| now.duration_since(s.last_seen) >= IDLE_TIMEOUT);
        if expired {
            map.remove(&key);
            return None;
        }
        let s = map.get_mut(&key)?;
        s.last_seen = now;
        Some(f(s))
    }

    /// Signs the session of `token` out.
    pub(crate) fn remove(&self, token: &str) -> bool {
        self.sessions.lock().remove(&digest(token)).is_some()
    }

    /// The principal of a request made with the session cookie, checking the
    /// CSRF token on anything but GET/HEAD/OPTIONS. `Ok(None)`: no cookie.
    ///
    /// # Errors
    /// 401 for an unknown or expired session, 403 for a missing or wrong CSRF
    /// token or a cross-origin `Origin`.
    pub(crate) fn authenticate(&self, method: &Method, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some((principal, csrf)) = self.with(&token, |s| (s.principal.clone(), s.csrf.clone())) else {
            return Err(ApiError::unauthorized(
                "the console session has expired or was signed out; sign in again with a key",
            )
            .with_code("session_expired"));
        };
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(Some(principal));
        }
        check_origin(headers)?;
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if sent.is_empty() {
            return Err(csrf_error(format!(
                "a request signed in by the console's cookie must send the `{CSRF_HEADER}` header (the `{CSRF_COOKIE}` cookie's value)"
            )));
        }
        if !bool::from(sent.as_bytes().ct_eq(csrf.as_bytes())) {
            return Err(csrf_error(format!(
                "the `{CSRF_HEADER}` header does not match this session's token"
            )));
        }
        Ok(Some(principal))
    }
}

fn csrf_error(message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "permission_error", message).with_code("csrf_failed")
}

/// Refuses a request whose `Origin` is another site than the `Host` it was sent to.
pub(crate) fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(csrf_error(format!(
            "the request comes from `{origin}`, another origin than this server (`{host}`)"
        )))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` values for a new session; `secure` adds `Secure` (behind HTTPS).
pub(crate) fn set_cookies(s: &NewSession, secure: bool) -> [String; 2] {
    let secure = if secure { "; Secure" } else { "" };
    [
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
            s.token
        ),
        format!("{CSRF_COOKIE}={}; Path=/; SameSite=Strict{secure}", s.csrf),
    ]
}

/// The `Set-Cookie` values that clear both cookies.
pub(crate) fn clear_cookies() -> [String; 2] {
    [
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        format!("{CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn signed_in() -> (SessionStore, NewSession) {
        let store = SessionStore::default();
        let s = store.create(Principal::new("alice").with_role("member"));
        (store, s)
    }

    #[test]
    fn a_get_with_the_cookie_needs_no_csrf_token() {
        let (store, s) = signed_in();
        let h = headers(&[("cookie", format!("other=1; {SESSION_COOKIE}={}", s.token))]);
        let p = store.authenticate(&Method::GET, &h).unwrap().unwrap();
        assert_eq!(p.id, "alice");
    }

    #[test]
    fn a_post_with_the_cookie_but_no_csrf_token_is_refused_with_403() {
        let (store, s) = signed_in();
        let h = headers(&[("cookie", format!("{SESSION_COOKIE}={}", s.token))]);
        let e = store.authenticate(&Method::POST, &h).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code.as_deref(), Some("csrf_failed"));
        assert!(e.message.contains(CSRF_HEADER), "{}", e.message);
    }

    #[test]
    fn a_post_with_a_wrong_csrf_token_is_refused_and_the_right_one_passes() {
        let (store, s) = signed_in();
        let wrong = headers(&[
            ("cookie", format!("{SESSION_COOKIE}={}", s.token)),
            (CSRF_HEADER, "0".repeat(64)),
        ]);
        assert_eq!(
            store.authenticate(&Method::DELETE, &wrong).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        let right = headers(&[
            ("cookie", format!("{SESSION_COOKIE}={}", s.token)),
            (CSRF_HEADER, s.csrf.clone()),
            ("host", "127.0.0.1:8080".into()),
            ("origin", "http://127.0.0.1:8080".into()),
        ]);
        assert_eq!(store.authenticate(&Method::POST, &right).unwrap().unwrap().id, "alice");
    }

    #[test]
    fn another_origin_is_refused_even_with_the_token() {
        let (store, s) = signed_in();
        let h = headers(&[
            ("cookie", format!("{SESSION_COOKIE}={}", s.token)),
            (CSRF_HEADER, s.csrf.clone()),
            ("host", "127.0.0.1:8080".into()),
            ("origin", "http://evil.example".into()),
        ]);
        let e = store.authenticate(&Method::POST, &h).unwrap_err();
        assert!(e.message.contains("evil.example"), "{}", e.message);
    }

    #[test]
    fn unknown_and_signed_out_sessions_are_401_and_no_cookie_is_none() {
        let (store, s) = signed_in();
        assert!(store.authenticate(&Method::GET, &HeaderMap::new()).unwrap().is_none());
        let h = headers(&[("cookie", format!("{SESSION_COOKIE}={}", s.token))]);
        assert!(store.remove(&s.token));
        let e = store.authenticate(&Method::GET, &h).unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let forged = headers(&[("cookie", format!("{SESSION_COOKIE}={}", "ab".repeat(32)))]);
        assert!(store.authenticate(&Method::GET, &forged).is_err());
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let (_, s) = signed_in();
        let [session, csrf] = set_cookies(&s, false);
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        assert!(!csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"), "{csrf}");
        assert!(set_cookies(&s, true)[0].ends_with("; Secure"));
        assert_ne!(s.token, s.csrf);
        assert_eq!(s.token.len(), 64);
    }
}
