//! Name resolution with `--resolve` mappings and the SSRF guard.
//!
//! The crawler must reach fixture hosts on loopback under their real names (the Host header, TLS
//! SNI and the URLs in the index keep the name, like curl's `--connect-to`), and must *never* be
//! steered by a hostile page into the operator's own network. Both live here: [`GuardedResolver`]
//! is the `reqwest` DNS resolver (mapped names answer with their mapped address *and port* —
//! hyper keeps a resolver's port when the URL names none), every other name goes through the
//! system resolver and is refused when any answer is a non-public address. IP-literal URLs bypass
//! DNS in reqwest, so [`TargetGuard::check`] is called before every request and on every redirect
//! hop.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// One `--resolve HOST=IP:PORT` mapping: connections to `host` go to `addr`, the name is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    /// Host name as it appears in URLs (compared case-insensitively).
    pub host: String,
    /// Address (and port) to connect to instead.
    pub addr: SocketAddr,
}

/// A `--resolve` argument that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid --resolve {input:?}: {reason} (expected HOST=IP:PORT, e.g. example.kz=127.0.0.1:8080 or example.kz=[::1]:8080)"
)]
pub struct ResolveRuleError {
    /// The argument as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for ResolveRule {
    type Err = ResolveRuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| ResolveRuleError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let (host, addr) = s.split_once('=').ok_or_else(|| err("missing '='"))?;
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Err(err("empty host"));
        }
        if host.contains(['/', ':', ' ', '@']) && !host.starts_with('[') {
            return Err(err("host must be a bare name without scheme, port or path"));
        }
        let addr = addr
            .trim()
            .parse::<SocketAddr>()
            .map_err(|e| err(&format!("address: {e}")))?;
        Ok(ResolveRule { host, addr })
    }
}

impl fmt::Display for ResolveRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.host, self.addr)
    }
}

/// Why a host could not be resolved, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The host is (or resolves to) a loopback, private, link-local or otherwise non-public
    /// address and is not mapped with `--resolve`.
    #[error(
        "{host} resolves to non-public address {addr} (SSRF guard); map it with --resolve to allow"
    )]
    Blocked {
        /// Host name or literal.
        host: String,
        /// The refused address.
        addr: IpAddr,
    },
    /// The URL names a port other than the one its host is mapped to, and the mapping points at
    /// a non-public address: a page on a mapped fixture host must not reach other local services
    /// (hyper would connect to the mapped address with the URL's port).
    #[error(
        "{host}:{port} is mapped to {mapped} (SSRF guard); only the mapped port may be reached"
    )]
    PortNotMapped {
        /// Host name or literal.
        host: String,
        /// The port the URL asked for.
        port: u16,
        /// The mapping.
        mapped: SocketAddr,
    },
    /// The system resolver returned no address.
    #[error("{host}: no address found")]
    NotFound {
        /// Host name.
        host: String,
    },
    /// The system resolver failed.
    #[error("{host}: dns lookup failed: {source}")]
    Lookup {
        /// Host name.
        host: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// True for every address a crawler must not reach unless explicitly mapped: loopback, private
/// (RFC 1918, fc00::/7), link-local (incl. the 169.254.169.254 metadata endpoint, fe80::/10),
/// unspecified, multicast, broadcast, CGNAT 100.64/10, reserved 240/4, "this network" 0/8, and
/// IPv4-mapped / IPv4-compatible / NAT64 forms of those.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_non_public(v4),
        IpAddr::V6(v6) => v6_non_public(v6),
    }
}

fn v4_non_public(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || a >= 240
}

fn v6_non_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_non_public(v4);
    }
    let seg = ip.segments();
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed an IPv4 address.
    if seg[..6] == [0; 6] || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        let v4 = Ipv4Addr::new(a, b, c, d);
        if !ip.is_loopback() && !ip.is_unspecified() && v4_non_public(v4) {
            return true;
        }
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00
        || (seg[0] & 0xffc0) == 0xfe80
}

/// The `--resolve` table plus the SSRF policy, shared by the resolver and the redirect policy.
#[derive(Debug, Default)]
pub(crate) struct TargetGuard {
    mapped: HashMap<String, SocketAddr>,
}

impl TargetGuard {
    pub(crate) fn new(rules: &[ResolveRule]) -> Self {
        TargetGuard {
            mapped: rules
                .iter()
                .map(|r| (r.host.to_ascii_lowercase(), r.addr))
                .collect(),
        }
    }

    fn mapped(&self, host: &str) -> Option<SocketAddr> {
        self.mapped
            .get(host.trim_end_matches('.').to_ascii_lowercase().as_str())
            .copied()
    }

    /// Refuses an IP-literal URL pointing at a non-public address (reqwest skips DNS for those),
    /// and a URL naming another port of a host mapped to a non-public address (the resolver's
    /// answer only carries the mapped port when the URL names none). Names are checked later, by
    /// the resolver, when they are actually resolved.
    pub(crate) fn check(&self, url: &Url) -> Result<(), ResolveError> {
        let literal = url.host_str().unwrap_or_default();
        if let Some(mapped) = self.mapped(literal) {
            return match url.port() {
                Some(port) if port != mapped.port() && is_non_public(mapped.ip()) => {
                    Err(ResolveError::PortNotMapped {
                        host: literal.to_string(),
                        port,
                        mapped,
                    })
                }
                _ => Ok(()),
            };
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if is_non_public(ip) {
            return Err(ResolveError::Blocked {
                host: literal.to_string(),
                addr: ip,
            });
        }
        Ok(())
    }

    /// Where a connection to `host:port` may go, for clients that do their own connecting (the
    /// browser's egress proxy): a mapped host (name or literal) goes to its mapped address *and
    /// port*, as Chromium's `MAP host ip:port` did; a non-public literal is refused; a name goes
    /// through the system resolver and is refused when any answer is non-public. The caller
    /// connects to exactly these addresses, so there is no second lookup to rebind. Blocking
    /// (`getaddrinfo`): call it from a plain thread, not a tokio worker.
    pub(crate) fn connect_addrs(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, ResolveError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Some(addr) = self.mapped(host).or_else(|| self.mapped(bare)) {
            return Ok(vec![addr]);
        }
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if is_non_public(ip) {
                return Err(ResolveError::Blocked {
                    host: host.to_string(),
                    addr: ip,
                });
            }
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        use std::net::ToSocketAddrs;
        let addrs: Vec<SocketAddr> = (bare, port)
            .to_socket_addrs()
            .map_err(|source| ResolveError::Lookup {
                host: host.to_string(),
                source,
            })?
            .collect();
        only_public(host.to_string(), addrs)
    }
}

/// The system resolver's answers for `host`, refused when empty or when *any* answer is
/// non-public: a mixed answer is a classic rebinding trick.
fn only_public(host: String, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, ResolveError> {
    if addrs.is_empty() {
        return Err(ResolveError::NotFound { host });
    }
    if let Some(bad) = addrs.iter().find(|a| is_non_public(a.ip())) {
        tracing::warn!(host = %host, addr = %bad.ip(), "refused non-public address");
        return Err(ResolveError::Blocked {
            host,
            addr: bad.ip(),
        });
    }
    Ok(addrs)
}

/// The `reqwest` resolver: mapped names first, then the system resolver behind the SSRF guard.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    guard: Arc<TargetGuard>,
}

impl GuardedResolver {
    pub(crate) fn new(guard: Arc<TargetGuard>) -> Self {
        GuardedResolver { guard }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        if let Some(addr) = self.guard.mapped(&host) {
            tracing::trace!(host = %host, %addr, "resolved by --resolve mapping");
            return Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as Addrs) });
        }
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| ResolveError::Lookup {
                    host: host.clone(),
                    source,
                })?
                .collect();
            let addrs = only_public(host, addrs)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolve_rules() {
        let r: ResolveRule = "Example-Fixture.KZ=127.0.0.1:8080".parse().unwrap();
        assert_eq!(r.host, "example-fixture.kz");
        assert_eq!(r.addr, "127.0.0.1:8080".parse().unwrap());
        let r6: ResolveRule = "a.kz=[::1]:8443".parse().unwrap();
        assert_eq!(r6.addr, "[::1]:8443".parse().unwrap());
        assert_eq!(r6.to_string(), "a.kz=[::1]:8443");
        for bad in [
            "a.kz",
            "=127.0.0.1:80",
            "a.kz=127.0.0.1",
            "a.kz=::1:80",
            "http://a.kz=1.2.3.4:80",
        ] {
            let e = bad.parse::<ResolveRule>().unwrap_err();
            assert!(e.to_string().contains("HOST=IP:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn classifies_non_public_addresses() {
        let table = [
            ("127.0.0.1", true),
            ("127.9.9.9", true),
            ("10.1.2.3", true),
            ("172.16.0.1", true),
            ("172.31.255.255", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("100.127.255.255", true),
            ("100.128.0.1", false),
            ("0.0.0.0", true),
            ("224.0.0.1", true),
            ("255.255.255.255", true),
            ("8.8.8.8", false),
            ("195.210.46.1", false),
            ("::1", true),
            ("::", true),
            ("fc00::1", true),
            ("fd12::1", true),
            ("fe80::1", true),
            ("ff02::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:169.254.169.254", true),
            ("::ffff:8.8.8.8", false),
            ("64:ff9b::a9fe:a9fe", true),
            ("2a00:1450::1", false),
        ];
        for (ip, want) in table {
            assert_eq!(is_non_public(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn guard_refuses_unmapped_literals_only() {
        let guard = TargetGuard::new(&["10.0.0.5=127.0.0.1:9".parse().unwrap()]);
        let check = |u: &str| guard.check(&Url::parse(u).unwrap());
        assert!(matches!(
            check("http://127.0.0.1:8080/"),
            Err(ResolveError::Blocked { .. })
        ));
        assert!(check("http://[::ffff:7f00:1]/").is_err());
        assert!(check("http://169.254.169.254/latest/meta-data").is_err());
        assert!(
            check("http://10.0.0.5/").is_ok(),
            "mapped literal is allowed"
        );
        assert!(check("http://8.8.8.8/").is_ok());
        assert!(
            check("http://localhost/").is_ok(),
            "names are checked by the resolver"
        );
    }

    #[test]
    fn a_mapped_host_reaches_only_its_mapped_port() {
        let guard = TargetGuard::new(&[
            "shop.kz=127.0.0.1:8080".parse().unwrap(),
            "public.kz=8.8.8.8:8080".parse().unwrap(),
        ]);
        let check = |u: &str| guard.check(&Url::parse(u).unwrap());
        assert!(check("http://shop.kz/").is_ok(), "no port: the mapped one");
        assert!(
            check("http://shop.kz:8080/a").is_ok(),
            "the mapped port itself"
        );
        assert!(
            check("http://SHOP.kz.:80/").is_ok(),
            "default port = none named"
        );
        let refused = check("http://shop.kz:6379/").unwrap_err();
        assert!(
            matches!(refused, ResolveError::PortNotMapped { port: 6379, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("only the mapped port"));
        assert!(
            check("http://public.kz:9000/").is_ok(),
            "a mapping to a public address is not the SSRF guard's business"
        );
    }

    #[test]
    fn connect_addrs_maps_refuses_and_resolves() {
        let guard = TargetGuard::new(&[
            "fixture.kz=127.0.0.1:4321".parse().unwrap(),
            "10.0.0.5=127.0.0.1:9".parse().unwrap(),
        ]);
        let ok = |h: &str, p| guard.connect_addrs(h, p).unwrap();
        let blocked =
            |h: &str, p| matches!(guard.connect_addrs(h, p), Err(ResolveError::Blocked { .. }));
        // The mapping wins over the requested port (a page cannot pick another loopback port).
        assert_eq!(
            ok("fixture.kz", 80),
            vec!["127.0.0.1:4321".parse().unwrap()]
        );
        assert_eq!(
            ok("FIXTURE.kz.", 8080),
            vec!["127.0.0.1:4321".parse().unwrap()]
        );
        assert_eq!(ok("10.0.0.5", 443), vec!["127.0.0.1:9".parse().unwrap()]);
        assert!(blocked("127.0.0.1", 4321));
        assert!(blocked("[::1]", 80));
        assert!(blocked("169.254.169.254", 80));
        assert!(blocked("localhost", 80), "names resolving to loopback");
        assert_eq!(ok("8.8.8.8", 53), vec!["8.8.8.8:53".parse().unwrap()]);
        assert_eq!(
            ok("[2a00:1450::1]", 443),
            vec!["[2a00:1450::1]:443".parse().unwrap()]
        );
    }

    #[tokio::test]
    async fn resolver_maps_names_with_port_and_blocks_loopback() {
        let guard = Arc::new(TargetGuard::new(&["fixture.kz=127.0.0.1:4321"
            .parse()
            .unwrap()]));
        let r = GuardedResolver::new(guard);
        let got: Vec<SocketAddr> = r
            .resolve(Name::from_str("FIXTURE.kz").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(got, vec!["127.0.0.1:4321".parse().unwrap()]);
        let err = match r.resolve(Name::from_str("localhost").unwrap()).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        assert!(matches!(
            err.downcast_ref::<ResolveError>(),
            Some(ResolveError::Blocked { .. })
        ));
    }
}
