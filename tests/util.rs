//! Test harness for end-to-end tests: a temporary directory, a command runner for the real
//! `baqylau` binary, a background `baqylau serve`, and a minimal HTTP/1.1 client (loopback only).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A temporary directory removed on drop.
pub struct Dir {
    path: PathBuf,
}

impl Dir {
    /// A new empty directory named after the test.
    pub fn new(name: &str) -> Dir {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "baqylau-e2e-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        Dir { path }
    }

    /// Path of the directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a file relative to the directory.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, contents).expect("write file");
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The binary under test.
pub fn baqylau() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baqylau"));
    c.env("BAQYLAU_LOG", "warn");
    c
}

/// Runs a command to completion, panicking with both streams if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run baqylau")
}

/// Standard output as text.
/// Runs `baqylau demo --once --json` on `data` (the embedded pipeline over the bundled fixture
/// web) and fails the test unless it succeeds; returns its output.
pub fn demo_once(data: &Path) -> Output {
    let out = run(baqylau()
        .args(["demo", "--once", "--json", "--data"])
        .arg(data));
    assert!(
        out.status.success(),
        "demo --once failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A `baqylau serve` process, killed on drop.
pub struct Server {
    child: Child,
    /// Listening address.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `baqylau serve --data DIR --port 0` and waits for its address line.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// Starts `baqylau serve --data DIR --port 0 ARGS…`.
    pub fn start_with(data: &Path, args: &[&str]) -> Server {
        let mut child = baqylau()
            .args(["serve", "--port", "0", "--data"])
            .arg(data)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start baqylau serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read serve banner");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.trim().trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in serve banner {line:?}"));
        Server { child, addr }
    }

    /// Base URL of the server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    /// SIGTERM first, so the server closes its Chromium (PDF printer); SIGKILL after 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response of [`http`].
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

impl Response {
    /// Body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.body))
    }
}

/// Minimal HTTP/1.1 request over loopback (`Connection: close`), enough for the JSON API.
pub fn http(method: &str, addr: SocketAddr, path: &str, json_body: Option<&str>) -> Response {
    http_with(method, addr, path, json_body, &[])
}

/// GET `path` with an `Authorization` header (`auth`, e.g. `Bearer …`).
pub fn get_as(addr: SocketAddr, path: &str, auth: &str) -> Response {
    http_with("GET", addr, path, None, &[("Authorization", auth)])
}

/// [`http`] with extra request headers, e.g. `("Authorization", "Bearer …")`.
pub fn http_with(
    method: &str,
    addr: SocketAddr,
    path: &str,
    json_body: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = json_body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if json_body.is_some() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    Response { status, body }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}
