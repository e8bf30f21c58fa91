//! The Host check against DNS rebinding: a page of some web site whose name is
//! made to resolve to 127.0.0.1 (or to a registry's address) would otherwise reach
//! the server as the same origin as itself. Its requests carry that site's name in
//! `Host`, so only the names the server is reached by are served: its listen
//! address, the loopback names on its port, and the names an operator configures.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// The `Host` values (name and port, lower case) this server answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<HashSet<String>>);

impl AllowedHosts {
    /// The listen address itself, `localhost`, `127.0.0.1` and `[::1]` on its port,
    /// and `extra` names: with a port as given, without one on the listen port.
    /// On port 80 a browser sends the bare name, so bare names count too.
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        let port = listen.port();
        let mut names: Vec<String> = vec![
            listen.to_string(),
            "localhost".into(),
            "127.0.0.1".into(),
            "[::1]".into(),
        ];
        names.extend(
            extra
                .iter()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        );
        let mut set = HashSet::new();
        for name in names {
            let name = name.to_ascii_lowercase();
            if has_port(&name) {
                set.insert(name);
            } else {
                set.insert(format!("{name}:{port}"));
                if port == 80 {
                    set.insert(name);
                }
            }
        }
        Self(Arc::new(set))
    }

    pub fn allows(&self, host: &str) -> bool {
        self.0.contains(&host.to_ascii_lowercase())
    }

    /// Whether `req` names a host served here; `Err` with the name it gave (if
    /// any), for the refusal's log line.
    pub fn check<B>(&self, req: &http::Request<B>) -> Result<(), Option<String>> {
        match requested_host(req) {
            Some(host) if self.allows(&host) => Ok(()),
            host => Err(host),
        }
    }
}

/// The host a request names: the URI's authority (HTTP/2, absolute-form) or `Host`.
pub fn requested_host<B>(req: &http::Request<B>) -> Option<String> {
    if let Some(authority) = req.uri().authority() {
        return Some(authority.as_str().to_owned());
    }
    req.headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `name:port` or `[v6]:port`, not a bare name or a bare `[v6]`.
fn has_port(host: &str) -> bool {
    match host.rfind(']') {
        Some(end) => host[end..].contains(':'),
        None => host.contains(':'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_address_loopback_names_and_configured_names_are_allowed() {
        let h = AllowedHosts::new(
            "127.0.0.1:8080".parse().unwrap(),
            &["station-7.local".into(), "ecard.example:443".into()],
        );
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "station-7.local:8080",
            "ecard.example:443",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for refused in [
            "attacker.example:8080",
            "localhost",
            "localhost:8081",
            "127.0.0.1",
            "station-7.local",
            "ecard.example:8080",
            "",
        ] {
            assert!(!h.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_request_is_checked_by_its_authority_or_its_host_header() {
        let h = AllowedHosts::new("127.0.0.1:8080".parse().unwrap(), &[]);
        let req = |uri: &str, host: Option<&str>| {
            let mut b = http::Request::builder().uri(uri);
            if let Some(host) = host {
                b = b.header(http::header::HOST, host);
            }
            b.body(()).unwrap()
        };
        assert_eq!(h.check(&req("/web/", Some("localhost:8080"))), Ok(()));
        assert_eq!(
            h.check(&req("/web/", Some("evil.example:8080"))),
            Err(Some("evil.example:8080".into()))
        );
        // An absolute-form URI's authority wins over a Host header.
        assert_eq!(
            h.check(&req(
                "http://evil.example:8080/web/",
                Some("localhost:8080")
            )),
            Err(Some("evil.example:8080".into()))
        );
        assert_eq!(h.check(&req("/web/", None)), Err(None));
    }

    #[test]
    fn on_port_80_bare_names_are_allowed() {
        let h = AllowedHosts::new("[::1]:80".parse().unwrap(), &[]);
        assert!(h.allows("localhost") && h.allows("[::1]") && h.allows("[::1]:80"));
        assert!(!h.allows("evil.example"));
    }
}
