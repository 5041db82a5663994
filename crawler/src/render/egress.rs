//! The browser's only way out: a loopback HTTP proxy that applies the crawler's SSRF guard to
//! every connection Chromium makes.
//!
//! A rendered page loads far more than its URL: scripts, images, `fetch()`, iframes, redirects,
//! WebSockets. Left to itself, Chromium would fetch `http://127.0.0.1:5432/` or the cloud metadata
//! address for any hostile page, from inside the operator's network. Checking URLs in DevTools
//! (`Fetch.enable`) misses out-of-process iframes, workers and WebSockets, and checks a name that
//! Chromium then resolves again (DNS rebinding). A proxy sees every HTTP(S) and WebSocket
//! connection of every frame and worker, and it connects to exactly the addresses it checked.
//!
//! The policy is [`TargetGuard::connect_addrs`], the same one the crawler's own HTTP client uses:
//! `--resolve` names go to their mapped address (the host name is kept in the request, the TLS
//! tunnel and the screenshot), every other name or literal that is or resolves to a loopback,
//! private, link-local or metadata address is refused. The browser is started so nothing goes
//! around the proxy (see `pool::launch`): no implicit loopback bypass, no non-proxied WebRTC UDP,
//! and its own resolver answers no name.
//!
//! `CONNECT host:port` (HTTPS, WebSockets) becomes an opaque tunnel; a plain `GET http://…`
//! is forwarded once with `Connection: close` and the connection ends with the response, so every
//! request is checked on its own (no keep-alive connection reused for another host). Blocking
//! threads, like the rest of the renderer: one accept thread and a thread per connection, capped.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::resolve::{ResolveError, TargetGuard};

/// Longest request head accepted from the browser.
const MAX_HEAD: usize = 64 * 1024;
/// Connections served at once; beyond it new ones are dropped (the browser retries).
const MAX_CONNECTIONS: usize = 256;
/// Bound on connecting upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection (or tunnel) idle this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Stack of a connection thread: it only copies bytes through an 8 KiB buffer.
const CONN_STACK: usize = 256 * 1024;

/// What the proxy did, for logs and tests.
#[derive(Debug, Default)]
pub(super) struct EgressCounters {
    /// Connections opened upstream (tunnels and forwarded requests).
    pub(super) allowed: AtomicU64,
    /// Requests refused by the SSRF guard.
    pub(super) refused: AtomicU64,
}

/// The running proxy; dropping it stops accepting (tunnels in flight end with their browser).
pub(super) struct EgressProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<EgressCounters>,
    accept: Option<JoinHandle<()>>,
}

impl EgressProxy {
    /// Listens on an ephemeral loopback port.
    pub(super) fn start(guard: TargetGuard) -> io::Result<EgressProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(EgressCounters::default());
        let accept = {
            let (stop, counters, guard) =
                (Arc::clone(&stop), Arc::clone(&counters), Arc::new(guard));
            std::thread::Builder::new()
                .name("chromium-egress".into())
                .spawn(move || accept_loop(&listener, &guard, &stop, &counters))?
        };
        tracing::debug!(%addr, "chromium egress proxy listening");
        Ok(EgressProxy {
            addr,
            stop,
            counters,
            accept: Some(accept),
        })
    }

    /// `host:port` for `--proxy-server`.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(super) fn counters(&self) -> &EgressCounters {
        &self.counters
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    guard: &Arc<TargetGuard>,
    stop: &AtomicBool,
    counters: &Arc<EgressCounters>,
) {
    let live = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = conn else { continue };
        if live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            tracing::warn!("chromium egress proxy: too many connections; dropping one");
            continue;
        }
        live.fetch_add(1, Ordering::SeqCst);
        let (guard, counters, done) = (Arc::clone(guard), Arc::clone(counters), Arc::clone(&live));
        let spawned = std::thread::Builder::new()
            .name("chromium-egress-conn".into())
            .stack_size(CONN_STACK)
            .spawn(move || {
                if let Err(e) = serve(client, &guard, &counters) {
                    tracing::trace!(error = %e, "egress connection ended");
                }
                done.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            live.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A parsed request head.
#[derive(Debug, PartialEq)]
struct Head {
    method: String,
    /// Host as written (a bracketed IPv6 literal keeps its brackets).
    host: String,
    port: u16,
    /// Origin-form target for a forwarded request; empty for `CONNECT`.
    path: String,
    version: String,
    /// Header lines other than the hop-by-hop ones.
    headers: Vec<String>,
}

fn serve(mut client: TcpStream, guard: &TargetGuard, counters: &EgressCounters) -> io::Result<()> {
    client.set_read_timeout(Some(IDLE_TIMEOUT))?;
    client.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let (raw, rest) = read_head(&mut client)?;
    let head = match parse_head(&raw) {
        Ok(h) => h,
        Err(why) => {
            tracing::debug!(why, "egress proxy: bad request");
            return client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    };
    let connect = head.method.eq_ignore_ascii_case("CONNECT");
    let addrs = match guard.connect_addrs(&head.host, head.port) {
        Ok(a) => a,
        Err(e) => {
            if matches!(e, ResolveError::Blocked { .. }) {
                counters.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(host = %head.host, port = head.port, error = %e, "browser request refused");
            } else {
                tracing::debug!(host = %head.host, error = %e, "browser request: no address");
            }
            // A tunnel refusal is a proxy error to Chromium (`ERR_TUNNEL_CONNECTION_FAILED`); a
            // plain request gets no response at all (`ERR_EMPTY_RESPONSE`), so a refused page
            // fails to load instead of rendering a proxy error page as if it were the site.
            if connect {
                client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
            }
            return Ok(());
        }
    };
    let Some(mut upstream) = connect_any(&addrs) else {
        if connect {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
        }
        return Ok(());
    };
    counters.allowed.fetch_add(1, Ordering::Relaxed);
    upstream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    upstream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    if connect {
        client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
        upstream.write_all(&rest)?;
    } else {
        let mut out = format!("{} {} {}\r\n", head.method, head.path, head.version);
        for h in &head.headers {
            out.push_str(h);
            out.push_str("\r\n");
        }
        out.push_str("Connection: close\r\n\r\n");
        upstream.write_all(out.as_bytes())?;
        upstream.write_all(&rest)?;
        forward_response_head(&mut upstream, &mut client)?;
    }
    pipe(client, upstream)
}

/// Passes the upstream's response head(s) to the browser with `Connection: close`: a server that
/// ignores the request's `Connection: close` must not get the browser to reuse this connection —
/// already checked and bound to *that* server — for a request to another host. Interim `1xx`
/// heads (Early Hints) are passed on as they come; the body follows through [`pipe`].
fn forward_response_head(upstream: &mut TcpStream, client: &mut TcpStream) -> io::Result<()> {
    let mut pending = Vec::new();
    loop {
        let (head, rest) = read_head_after(upstream, std::mem::take(&mut pending))?;
        let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
        let interim = (100..200).contains(&status) && status != 101;
        let mut out = format!("{status_line}\r\n");
        for line in lines {
            let name = line.split(':').next().unwrap_or_default().trim();
            if !["connection", "proxy-connection", "keep-alive"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
            {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        if !interim {
            out.push_str("Connection: close\r\nProxy-Connection: close\r\n");
        }
        out.push_str("\r\n");
        client.write_all(out.as_bytes())?;
        if interim {
            pending = rest; // the start of the next head
        } else {
            return client.write_all(&rest);
        }
    }
}

/// Copies both ways until either side ends (the response is complete and the browser closed,
/// or the tunnel closed), then closes both.
fn pipe(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut c_read, mut u_write) = (client.try_clone()?, upstream.try_clone()?);
    let up = std::thread::Builder::new()
        .name("chromium-egress-up".into())
        .stack_size(CONN_STACK)
        .spawn(move || {
            let _ = io::copy(&mut c_read, &mut u_write);
            // The browser is done with this connection: nothing more may come back on it.
            let _ = u_write.shutdown(Shutdown::Both);
        })?;
    let (mut u_read, mut c_write) = (upstream, client);
    let _ = io::copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = u_read.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

fn connect_any(addrs: &[SocketAddr]) -> Option<TcpStream> {
    addrs.iter().find_map(|a| {
        TcpStream::connect_timeout(a, CONNECT_TIMEOUT)
            .map_err(|e| tracing::debug!(addr = %a, error = %e, "egress connect failed"))
            .ok()
    })
}

/// Reads up to the blank line; returns the head and any bytes read past it.
fn read_head(stream: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    read_head_after(stream, Vec::new())
}

/// [`read_head`] when `buf` already holds its first bytes.
fn read_head_after(stream: &mut TcpStream, mut buf: Vec<u8>) -> io::Result<(String, Vec<u8>)> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            let head = String::from_utf8(buf)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "head is not UTF-8"))?;
            return Ok((head, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Parses a proxy request head: `CONNECT host:port` or `METHOD http://host[:port]/path`.
fn parse_head(raw: &str) -> Result<Head, &'static str> {
    let mut lines = raw.split("\r\n").filter(|l| !l.is_empty());
    let first = lines.next().ok_or("empty request")?;
    let mut parts = first.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if v.starts_with("HTTP/1.") => (m, t, v),
        _ => return Err("malformed request line"),
    };
    let headers = lines
        .filter(|l| {
            let name = l.split(':').next().unwrap_or_default().trim();
            ![
                "proxy-connection",
                "proxy-authorization",
                "connection",
                "keep-alive",
            ]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        })
        .map(str::to_string)
        .collect();
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = target.rsplit_once(':').ok_or("CONNECT without a port")?;
        let port = port.parse().map_err(|_| "bad CONNECT port")?;
        if host.is_empty() {
            return Err("CONNECT without a host");
        }
        return Ok(Head {
            method: method.to_string(),
            host: host.to_string(),
            port,
            path: String::new(),
            version: version.to_string(),
            headers,
        });
    }
    let url = url::Url::parse(target).map_err(|_| "target is not an absolute URL")?;
    if url.scheme() != "http" {
        return Err("only http:// is forwarded; other schemes use CONNECT");
    }
    let host = url.host_str().ok_or("URL without a host")?.to_string();
    let port = url.port_or_known_default().ok_or("URL without a port")?;
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok(Head {
        method: method.to_string(),
        host,
        port,
        path,
        version: version.to_string(),
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connect_and_absolute_form() {
        let h = parse_head(
            "CONNECT t.me:443 HTTP/1.1\r\nHost: t.me:443\r\nProxy-Connection: keep-alive\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (h.host.as_str(), h.port, h.path.as_str()),
            ("t.me", 443, "")
        );
        assert_eq!(h.headers, vec!["Host: t.me:443"]);
        let h = parse_head("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((h.host.as_str(), h.port), ("[::1]", 8443));
        let h = parse_head(
            "GET http://casino.kz/a/b?c=1 HTTP/1.1\r\nHost: casino.kz\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (h.method.as_str(), h.host.as_str(), h.port, h.path.as_str()),
            ("GET", "casino.kz", 80, "/a/b?c=1")
        );
        assert_eq!(h.headers, vec!["Host: casino.kz", "Accept: */*"]);
        let h = parse_head("POST http://127.0.0.1:9/x HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((h.host.as_str(), h.port), ("127.0.0.1", 9));
        for bad in [
            "GET /direct HTTP/1.1\r\n\r\n",
            "GET ftp://a/b HTTP/1.1\r\n\r\n",
            "CONNECT host HTTP/1.1\r\n\r\n",
            "GET http://a/ HTTP/2\r\n\r\n",
            "",
        ] {
            assert!(parse_head(bad).is_err(), "{bad:?}");
        }
    }

    /// A forwarded request reaches the mapped upstream with `Connection: close`; a request for
    /// an unmapped loopback port never opens a connection there.
    #[test]
    fn forwards_mapped_and_refuses_unmapped_loopback() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let canary = TcpListener::bind("127.0.0.1:0").unwrap();
        canary.set_nonblocking(true).unwrap();
        let up_addr = upstream.local_addr().unwrap();
        let rule = format!("fixture.kz={up_addr}").parse().unwrap();
        let proxy = EgressProxy::start(TargetGuard::new(&[rule])).unwrap();
        // A server that keeps the connection open whatever the request says, and sends an
        // interim Early Hints head first.
        let server = std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().unwrap();
            let (head, _) = read_head(&mut s).unwrap();
            s.write_all(
                b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
                  HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            )
            .unwrap();
            // Open until the proxy closes it (after the browser is done).
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            head
        });
        let mut c = TcpStream::connect(proxy.addr()).unwrap();
        c.write_all(b"GET http://fixture.kz/p?q HTTP/1.1\r\nHost: fixture.kz\r\nProxy-Connection: keep-alive\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 512];
        while !answer.ends_with(b"\r\n\r\nok") {
            let n = c.read(&mut buf).unwrap();
            assert!(n > 0, "{}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buf[..n]);
        }
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 103 Early Hints\r\n"),
            "{answer}"
        );
        assert!(!answer.contains("keep-alive"), "{answer}");
        drop(c); // the browser closes; the proxy must close the upstream connection too
        assert!(
            answer.contains("\r\nConnection: close\r\n"),
            "the browser never reuses a forwarded connection: {answer}"
        );
        let head = server.join().unwrap();
        assert!(head.starts_with("GET /p?q HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("Connection: close\r\n"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("proxy-connection"),
            "{head}"
        );

        let canary_port = canary.local_addr().unwrap().port();
        for req in [
            format!("GET http://127.0.0.1:{canary_port}/ HTTP/1.1\r\n\r\n"),
            format!("GET http://localhost:{canary_port}/ HTTP/1.1\r\n\r\n"),
        ] {
            let mut c = TcpStream::connect(proxy.addr()).unwrap();
            c.write_all(req.as_bytes()).unwrap();
            let mut answer = Vec::new();
            c.read_to_end(&mut answer).unwrap();
            assert!(answer.is_empty(), "refused request gets no response");
        }
        let mut c = TcpStream::connect(proxy.addr()).unwrap();
        c.write_all(format!("CONNECT 127.0.0.1:{canary_port} HTTP/1.1\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(
            canary.accept().is_err(),
            "the canary must see no connection"
        );
        assert_eq!(proxy.counters().refused.load(Ordering::Relaxed), 3);
        assert_eq!(proxy.counters().allowed.load(Ordering::Relaxed), 1);
    }
}
