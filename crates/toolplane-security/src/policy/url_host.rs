//! URL host allowlists that compare hosts after canonicalization.
//!
//! A URL is parsed with the WHATWG rules browsers use (the `url` crate), so
//! the host is what a client would really connect to: userinfo before `@` is
//! dropped, IDNA/punycode is applied and lowercased, and IPv4 written in
//! decimal, hex, octal or shortened forms (`2852039166`, `0xA9FEA9FE`,
//! `0251.0376.0251.0376`, `127.1`) becomes dotted decimal. On top of that a
//! trailing dot is removed and IPv4-mapped IPv6 addresses (`[::ffff:7f00:1]`)
//! are compared as the IPv4 address they map to.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use url::{Host, Url};

/// A host in canonical form, ready to compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CanonicalHost {
    /// A DNS name: lowercase ASCII (punycode), no trailing dot.
    Domain(String),
    /// An IP address; IPv4-mapped IPv6 addresses are stored as IPv4.
    Ip(IpAddr),
}

impl fmt::Display for CanonicalHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(d) => f.write_str(d),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Why a URL could not be reduced to a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlHostError {
    /// The text is not a URL.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// The URL has no host (`mailto:`, `file:///`).
    #[error("the URL has no host")]
    NoHost,
    /// The scheme is not http or https.
    #[error("scheme `{0}` is not allowed (only http and https)")]
    Scheme(String),
}

fn unmap(ip: Ipv6Addr) -> IpAddr {
    match ip.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(ip),
    }
}

fn canonical_from_host(host: Host<&str>) -> CanonicalHost {
    match host {
        Host::Domain(d) => CanonicalHost::Domain(d.trim_end_matches('.').to_ascii_lowercase()),
        Host::Ipv4(v4) => CanonicalHost::Ip(IpAddr::V4(v4)),
        Host::Ipv6(v6) => CanonicalHost::Ip(unmap(v6)),
    }
}

/// The canonical host of an `http` or `https` URL.
///
/// ```
/// use toolplane_security::policy::{canonical_url_host, CanonicalHost};
/// let h = canonical_url_host("http://user@0xA9FEA9FE./latest").unwrap();
/// assert_eq!(h.to_string(), "169.254.169.254");
/// ```
pub fn canonical_url_host(text: &str) -> Result<CanonicalHost, UrlHostError> {
    if text.chars().any(|c| c.is_control()) {
        return Err(UrlHostError::Invalid("control characters in URL".into()));
    }
    let url = Url::parse(text.trim()).map_err(|e| UrlHostError::Invalid(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlHostError::Scheme(other.to_string())),
    }
    let host = url.host().ok_or(UrlHostError::NoHost)?;
    let ends_with_dot = matches!(host, Host::Domain(d) if d.ends_with('.'));
    let mut canon = canonical_from_host(host);
    // A domain that is really an IPv4 literal once its trailing dot is removed.
    if let (true, CanonicalHost::Domain(d)) = (ends_with_dot, &canon) {
        if let Ok(Host::Ipv4(v4)) = Host::parse(d) {
            canon = CanonicalHost::Ip(IpAddr::V4(v4));
        }
    }
    Ok(canon)
}

/// One allowlist entry: an exact host or `*.suffix` (any subdomain, not the
/// suffix itself).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Exact(CanonicalHost),
    Suffix(String),
}

/// A set of hosts compared in canonical form.
///
/// ```
/// use toolplane_security::policy::HostAllowlist;
/// let list = HostAllowlist::new(["api.github.com", "*.example.com"]).unwrap();
/// assert!(list.allows_url("https://API.GitHub.com./repos").is_ok());
/// assert!(list.allows_url("https://a.example.com/").is_ok());
/// assert!(list.allows_url("http://api.github.com@169.254.169.254/").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowlist {
    entries: Vec<Entry>,
}

impl HostAllowlist {
    /// Builds a list; each entry is canonicalized the same way as URLs.
    pub fn new<I, S>(entries: I) -> Result<Self, UrlHostError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            if let Some(rest) = e.strip_prefix("*.") {
                match canonical_url_host(&format!("http://{rest}/"))? {
                    CanonicalHost::Domain(d) => out.push(Entry::Suffix(d)),
                    CanonicalHost::Ip(_) => {
                        return Err(UrlHostError::Invalid(format!("`{e}`: a wildcard needs a domain")));
                    }
                }
            } else {
                let text = if e.contains(':') && !e.starts_with('[') {
                    format!("http://[{e}]/")
                } else {
                    format!("http://{e}/")
                };
                out.push(Entry::Exact(canonical_url_host(&text)?));
            }
        }
        Ok(Self { entries: out })
    }

    /// True when the canonical host is in the list.
    pub fn contains(&self, host: &CanonicalHost) -> bool {
        self.entries.iter().any(|e| match (e, host) {
            (Entry::Exact(h), _) => h == host,
            (Entry::Suffix(s), CanonicalHost::Domain(d)) => {
                d.len() > s.len() + 1 && d.ends_with(s.as_str()) && d.as_bytes()[d.len() - s.len() - 1] == b'.'
            }
            (Entry::Suffix(_), CanonicalHost::Ip(_)) => false,
        })
    }

    /// Checks a URL (call it again for every redirect hop): `Ok(host)` when
    /// the canonical host is listed, else a message naming the host.
    pub fn allows_url(&self, url: &str) -> Result<CanonicalHost, String> {
        let host = canonical_url_host(url).map_err(|e| e.to_string())?;
        if self.contains(&host) {
            Ok(host)
        } else {
            Err(format!("host {host} is not in the allowlist"))
        }
    }
}
