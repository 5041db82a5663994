//! End-to-end tests: they drive the real `baqylau` binary against the bundled fixture web on
//! 127.0.0.1 and a real headless Chromium. Nothing here is mocked, and nothing is skipped: a
//! missing Chromium fails the tests (the README's test command installs it).

mod crawler_e2e;
mod detection_e2e;
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{Dir, Server, baqylau, demo_once, get_as, http, http_with, run, stderr, stdout};

/// One `baqylau demo --once --json` run shared by the tests that inspect its result.
struct DemoRun {
    _dir: Dir,
    data: PathBuf,
    summary: Value,
    /// API token of an analyst created on the demo data (the API needs a login).
    token: String,
}

fn demo() -> &'static DemoRun {
    static DEMO: OnceLock<DemoRun> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Dir::new("demo");
        let data = dir.path().join("data");
        let out = demo_once(&data);
        let summary: Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("summary is not one JSON object ({e}): {}", stdout(&out)));
        add_user(&data, "e2e-reader", "analyst", None);
        let token = create_token(&data, "e2e-reader");
        DemoRun {
            _dir: dir,
            data,
            summary,
            token,
        }
    })
}

/// `baqylau user add NAME --role ROLE --json` (password from stdin when given); returns the
/// printed JSON (generated password, TOTP secret).
fn add_user(data: &Path, name: &str, role: &str, password: Option<&str>) -> Value {
    use std::io::Write;
    let mut cmd = baqylau();
    cmd.args(["user", "add", name, "--role", role, "--json", "--data"])
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if password.is_some() {
        cmd.arg("--password-stdin")
            .stdin(std::process::Stdio::piped());
    }
    let mut child = cmd.spawn().expect("start user add");
    if let Some(p) = password {
        writeln!(child.stdin.take().unwrap(), "{p}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add {name}: {}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).expect("user add prints JSON")
}

/// `baqylau token create --user NAME`.
fn create_token(data: &Path, name: &str) -> String {
    let out = run(baqylau()
        .args(["token", "create", "--user", name, "--data"])
        .arg(data));
    assert!(out.status.success(), "token create: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// GET `path` with the demo analyst's bearer token.
fn api_get(server: &Server, path: &str) -> util::Response {
    let auth = format!("Bearer {}", demo().token);
    get_as(server.addr, path, &auth)
}

#[derive(serde::Deserialize)]
struct Expected {
    violating: Vec<ExpectedViolation>,
    benign: Vec<ExpectedBenign>,
}

#[derive(serde::Deserialize)]
struct ExpectedViolation {
    url: String,
    categories: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ExpectedBenign {
    url: String,
}

fn expected() -> Expected {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-web/expected.toml");
    toml::from_str(&std::fs::read_to_string(p).expect("expected.toml")).expect("parse expected")
}

fn all_cases(server: &Server) -> Vec<Value> {
    let r = api_get(server, "/api/cases");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_array().expect("array of cases").clone()
}

#[test]
fn demo_summary_has_the_documented_fields() {
    let s = &demo().summary;
    for key in [
        "pages_fetched",
        "captures",
        "hits",
        "cases",
        "screenshots",
        "seconds",
    ] {
        assert!(s.get(key).is_some(), "summary lacks {key}: {s}");
    }
    assert!(s["pages_fetched"].as_u64().unwrap() >= 40, "{s}");
    assert!(
        s["captures"].as_u64().unwrap() > s["pages_fetched"].as_u64().unwrap(),
        "telegram posts are captures of their own: {s}"
    );
    assert!(s["hits"].as_u64().unwrap() >= s["cases"].as_u64().unwrap());
    assert_eq!(s["screenshots"], s["cases"], "one screenshot per case: {s}");
}

#[test]
fn demo_flags_every_violation_and_no_reporting_about_it() {
    let d = demo();
    let server = Server::start(&d.data);
    let cases = all_cases(&server);
    let mut by_url: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in &cases {
        by_url
            .entry(c["url"].as_str().unwrap().to_string())
            .or_default()
            .insert(c["category"].as_str().unwrap().to_string());
    }
    let exp = expected();
    let mut problems = Vec::new();
    for v in &exp.violating {
        let got = by_url.get(&v.url);
        for cat in &v.categories {
            if !got.is_some_and(|g| g.contains(cat)) {
                problems.push(format!("missed {cat} on {} (got {got:?})", v.url));
            }
        }
    }
    for b in &exp.benign {
        if let Some(got) = by_url.get(&b.url) {
            problems.push(format!("false positive on {}: {got:?}", b.url));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_case_has_a_png_screenshot_matching_its_sha256() {
    let d = demo();
    let server = Server::start(&d.data);
    let cases = all_cases(&server);
    assert!(!cases.is_empty());
    for c in cases {
        let id = c["id"].as_i64().unwrap();
        let detail = api_get(&server, &format!("/api/cases/{id}")).json();
        let shots: Vec<&Value> = detail["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.get("screenshot").filter(|s| !s.is_null()))
            .collect();
        assert!(!shots.is_empty(), "case {id} has no screenshot: {detail}");
        for s in shots {
            let path = d.data.join("blobs").join(s["path"].as_str().unwrap());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
            let mut reader = decoder.read_info().expect("valid PNG header");
            let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
            let info = reader.next_frame(&mut buf).expect("PNG decodes");
            assert!(
                info.width >= 300 && info.height >= 300,
                "tiny screenshot {info:?}"
            );
            assert_eq!(
                s["sha256"].as_str().unwrap(),
                sha256_hex(&bytes),
                "stored SHA-256 of case {id} does not match the file"
            );
        }
    }
}

#[test]
fn search_finds_captures_by_russian_stem() {
    let d = demo();
    let out = run(baqylau()
        .args(["search", "--json", "--data"])
        .arg(&d.data)
        .arg("пирамиды"));
    assert!(out.status.success(), "{}", stderr(&out));
    let hits: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(hits.as_array().is_some_and(|a| !a.is_empty()), "{hits}");
}

#[test]
fn analyst_confirms_a_case_in_a_real_browser() {
    use headless_chrome::{Browser, LaunchOptions};

    let d = demo();
    add_user(&d.data, "aigul", "analyst", Some("aigul-password-1"));
    let server = Server::start(&d.data);
    let browser = Browser::new(LaunchOptions {
        headless: true,
        sandbox: false,
        path: Some(PathBuf::from("/usr/bin/chromium")),
        window_size: Some((1366, 900)),
        args: vec![
            std::ffi::OsStr::new("--disable-gpu"),
            std::ffi::OsStr::new("--no-first-run"),
            std::ffi::OsStr::new("--disable-background-networking"),
        ],
        ..LaunchOptions::default()
    })
    .expect("chromium starts (apt-get install -y chromium)");
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    // Not signed in: the case list sends the browser to the login page.
    tab.navigate_to(&server.url("/cases?status=new")).unwrap();
    tab.wait_for_element("form.login").unwrap();
    assert!(tab.get_url().contains("/login?next="), "{}", tab.get_url());
    login(&tab, "aigul", "aigul-password-1", "");
    tab.wait_for_element("table#cases tr.case-row a.case-link")
        .unwrap();
    let rows = tab.find_elements("tr.case-row").unwrap();
    assert!(rows.len() >= 10, "only {} rows listed", rows.len());

    tab.find_element("tr.case-row a.case-link")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("img.screenshot").unwrap();
    let loaded = wait_true(
        &tab,
        "(() => { const i = document.querySelector('img.screenshot'); return !!i && i.complete && i.naturalWidth > 300; })()",
    );
    assert!(loaded, "screenshot image did not load");
    let case_url = tab.get_url();
    let id: i64 = case_url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no case id in {case_url}"));
    assert!(
        tab.find_elements("mark")
            .map(|m| !m.is_empty())
            .unwrap_or(false),
        "no highlighted span"
    );

    // A form stripped of its CSRF token is refused, and nothing changes.
    tab.evaluate(
        "document.querySelector('form.dismiss input[name=csrf]').remove(); \
         document.querySelector('textarea[name=reason]').value = 'forged';",
        false,
    )
    .unwrap();
    tab.find_element("button#dismiss").unwrap().click().unwrap();
    let refused = wait_true(&tab, "document.body.innerText.includes('CSRF')");
    assert!(refused, "a form without its CSRF token was not refused");
    let case = api_get(&server, &format!("/api/cases/{id}")).json();
    assert_eq!(case["status"], "in_review", "{case}");
    tab.navigate_to(&server.url(&format!("/cases/{id}")))
        .unwrap();
    confirm_blocking(&tab, "казино без лицензии, зеркало");
    let confirmed = wait_true(
        &tab,
        "(() => { const s = document.querySelector('.status'); return !!s && s.getAttribute('data-status') === 'confirmed'; })()",
    );
    assert!(confirmed, "UI does not show the confirmed status");

    let case = api_get(&server, &format!("/api/cases/{id}")).json();
    assert_eq!(case["status"], "confirmed", "{case}");
    assert_eq!(case["route"], "blocking", "{case}");
    assert_eq!(case["decided_by"], "aigul", "{case}");
}

/// Confirms the case open in `tab` on the blocking route, with `justification`.
fn confirm_blocking(tab: &headless_chrome::Tab, justification: &str) {
    tab.wait_for_element("button#confirm").unwrap();
    let js = format!(
        "document.querySelector('select[name=route]').value = 'blocking'; \
         document.querySelector('textarea[name=justification]').value = {justification:?};"
    );
    tab.evaluate(&js, false).unwrap();
    tab.find_element("button#confirm").unwrap().click().unwrap();
}

/// Fills and submits the login form on the current page.
fn login(tab: &headless_chrome::Tab, name: &str, password: &str, totp: &str) {
    if tab.wait_for_element("form.login").is_err() {
        let body = tab
            .evaluate("document.body.innerText", false)
            .ok()
            .and_then(|r| r.value)
            .unwrap_or_default();
        panic!("no login form at {}: {body}", tab.get_url());
    }
    let js = format!(
        "document.querySelector('input[name=name]').value = {name:?}; \
         document.querySelector('input[name=password]').value = {password:?}; \
         document.querySelector('input[name=totp]').value = {totp:?};"
    );
    tab.evaluate(&js, false).unwrap();
    tab.find_element("button#login").unwrap().click().unwrap();
    let ok = wait_true(
        tab,
        "(() => !!document.querySelector('#whoami') || !!document.querySelector('#login-error'))()",
    );
    let body = tab
        .evaluate("document.body.innerText", false)
        .ok()
        .and_then(|r| r.value)
        .unwrap_or_default();
    assert!(ok, "login page did not answer: {} {body}", tab.get_url());
    assert!(
        tab.find_elements("#login-error")
            .map(|e| e.is_empty())
            .unwrap_or(true),
        "login of {name} refused"
    );
}

/// A consistent copy of the demo data (SQLite `VACUUM INTO` + blobs), for a test that must not
/// share its outbox with the other tests' servers.
fn copy_demo_data(to: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let d = demo();
    std::fs::create_dir_all(to).unwrap();
    let db = rusqlite::Connection::open(d.data.join("cases.sqlite")).unwrap();
    db.execute(
        "VACUUM INTO ?1",
        [to.join("cases.sqlite").to_str().unwrap()],
    )
    .unwrap();
    copy_dir(&d.data.join("blobs"), &to.join("blobs"));
}

/// The whole way from a hit to the authority, in a real browser and on the real broker: an
/// analyst logs in, confirms a case on the blocking route and drafts its Form 2; the same analyst
/// is refused approval; an approver logs in with a TOTP code and approves; the outbox publishes to
/// RabbitMQ, where a consumer finds the message with the approved content hash; the Form 2 PDF
/// prints; the evidence bundle exports and verifies, and a tampered one does not.
#[test]
fn notification_goes_from_triage_to_rabbitmq_with_four_eyes() {
    use headless_chrome::{Browser, LaunchOptions};
    const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    let dir = Dir::new("notify");
    let data = dir.path().join("data");
    copy_demo_data(&data);
    add_user(&data, "nurlan", "analyst", Some("nurlan-password-1"));
    let bolat = add_user(&data, "bolat", "approver", Some("bolat-password-1"));
    let secret = bolat["totp_secret"]
        .as_str()
        .expect("approvers get TOTP")
        .to_string();
    let token = create_token(&data, "nurlan");
    let auth = format!("Bearer {token}");

    let queue = format!("baqylau-e2e-{}", std::process::id());
    let bind = run(baqylau().args([
        "notify", "consume", "--amqp", AMQP, "--queue", &queue, "--max", "0",
    ]));
    assert!(
        bind.status.success(),
        "RabbitMQ must run on 127.0.0.1:5672: {}",
        stderr(&bind)
    );

    let server = Server::start_with(&data, &["--amqp", AMQP]);
    let cases = get_as(
        server.addr,
        "/api/cases?category=illegal_gambling&status=new",
        &auth,
    )
    .json();
    let id = cases[0]["id"]
        .as_i64()
        .expect("a new gambling case in the demo");

    let browser = Browser::new(LaunchOptions {
        headless: true,
        sandbox: false,
        path: Some(PathBuf::from("/usr/bin/chromium")),
        window_size: Some((1366, 900)),
        ..LaunchOptions::default()
    })
    .expect("chromium starts");
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));

    // Analyst: log in, triage, confirm with the blocking route, draft Form 2.
    tab.navigate_to(&server.url(&format!("/cases/{id}")))
        .unwrap();
    login(&tab, "nurlan", "nurlan-password-1", "");
    confirm_blocking(&tab, "лицензиясыз онлайн-казино");
    tab.wait_for_element("button#draft-form2").unwrap();
    tab.find_element("button#draft-form2")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("#form2").unwrap();
    let nurl = tab.get_url();
    let nid: i64 = nurl.rsplit('/').next().unwrap().parse().unwrap();
    let text_of = |sel: &str| {
        tab.find_element(sel)
            .unwrap()
            .get_inner_text()
            .unwrap()
            .trim()
            .to_string()
    };
    let sha = text_of("#content-sha256");
    let message_id = text_of("#message-id");
    assert!(text_of("#form2").contains(
        "Осы хабарламада көрсетілген мәліметтердің заңдылығы мен негізділігін растаймын."
    ));

    // The same analyst is refused approval (no approve form is offered; a forged one is refused).
    assert!(
        tab.find_elements("button#approve")
            .map(|v| v.is_empty())
            .unwrap_or(true)
    );
    let forge = format!(
        "(() => {{ const f = document.createElement('form'); f.method = 'post'; \
         f.action = '/notifications/{nid}/approve'; \
         const c = document.querySelector('input[name=csrf]').cloneNode(); f.appendChild(c); \
         const h = document.createElement('input'); h.name = 'sha256'; h.value = '{sha}'; f.appendChild(h); \
         document.body.appendChild(f); f.submit(); return true; }})()"
    );
    tab.evaluate(&forge, false).unwrap();
    assert!(
        wait_true(&tab, "document.body.innerText.includes('may not')"),
        "approval by the analyst was not refused"
    );
    let n = get_as(server.addr, &format!("/api/notifications/{nid}"), &auth).json();
    assert_eq!(n["status"], "draft", "{n}");

    // Approver, at another browser (own cookie jar): log in with a TOTP code, approve.
    let context = browser.new_context().unwrap();
    let tab2 = context.new_tab().unwrap();
    tab2.set_default_timeout(Duration::from_secs(20));
    tab2.navigate_to(&server.url(&format!("/notifications/{nid}")))
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let code = reporter::auth::totp::code_at(&secret, now).unwrap();
    login(&tab2, "bolat", "bolat-password-1", &code);
    tab2.wait_for_element("button#approve")
        .unwrap()
        .click()
        .unwrap();
    // The relay publishes after the approval commits (printing the PDFs first, which takes a cold
    // Chromium start): wait for the notification's own status, not for a page reload loop. A
    // failed publish is retried and logged by the server (its stderr is in the test output).
    let sent = wait_for_status(server.addr, nid, &auth, "sent", Duration::from_secs(90));
    assert!(
        sent,
        "the notification was not published (see the server's log above)"
    );
    tab2.navigate_to(&server.url(&format!("/notifications/{nid}")))
        .unwrap();
    tab2.wait_for_element(".nstatus[data-status='sent']")
        .unwrap();
    let approved_by = tab2
        .find_element("#approved-by")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert_eq!(approved_by.split(' ').next(), Some("bolat"));

    // The analyst signs out: the session is gone.
    tab.navigate_to(&server.url("/cases")).unwrap();
    tab.wait_for_element("#whoami").unwrap();
    tab.find_element("button#logout").unwrap().click().unwrap();
    tab.wait_for_element("form.login").unwrap();
    tab.navigate_to(&server.url("/cases")).unwrap();
    assert!(
        wait_true(
            &tab,
            "location.pathname === '/login' && location.search.includes('next=')"
        ),
        "after signing out, the case list asks for a login again"
    );

    // On the real broker.
    let out = run(baqylau().args([
        "notify",
        "consume",
        "--amqp",
        AMQP,
        "--queue",
        &queue,
        "--max",
        "1",
        "--timeout",
        "20",
    ]));
    assert!(
        out.status.success(),
        "no message on {queue}: {}",
        stderr(&out)
    );
    let msg: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(msg["message_id"], message_id.as_str());
    assert_eq!(msg["routing_key"], "form2.illegal_gambling");
    assert_eq!(msg["payload"]["content_sha256"], sha.as_str());
    assert_eq!(msg["payload"]["signatory"]["user"], "bolat");
    assert_eq!(msg["payload"]["content"]["facts"][0]["case_id"], id);
    let case = get_as(server.addr, &format!("/api/cases/{id}"), &auth).json();
    assert_eq!(case["status"], "sent", "{case}");

    // The PDF prints; the bundle exports and verifies; tampering is detected.
    let pdf = get_as(
        server.addr,
        &format!("/notifications/{nid}/form2.pdf?lang=kk"),
        &auth,
    );
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with("%PDF"), "not a PDF");
    // Close the test's browser first: the server then has no open connections and shuts down
    // at once on SIGTERM, closing its own PDF Chromium.
    drop(tab2);
    drop(context);
    drop(tab);
    drop(browser);
    drop(server);
    let zip = dir.path().join("bundle.zip");
    let out = run(baqylau()
        .args(["export", "--case", &id.to_string(), "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&zip));
    assert!(out.status.success(), "{}", stderr(&out));
    for needle in [
        "notifications/",
        ".kk.pdf",
        "screenshots/",
        "warc/",
        "captures/",
    ] {
        assert!(
            stdout(&out).contains(needle),
            "bundle lacks {needle}: {}",
            stdout(&out)
        );
    }
    let ok = run(baqylau().arg("verify").arg(&zip));
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let mut bytes = std::fs::read(&zip).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == b"\x89PNG\r\n\x1a\n")
        .unwrap()
        + 100;
    bytes[at] ^= 0x55;
    std::fs::write(&zip, bytes).unwrap();
    let bad = run(baqylau().arg("verify").arg(&zip));
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));

    // Re-check after sending: the host now answers nothing (a closed loopback port).
    let domain = msg["payload"]["content"]["facts"][0]["domain"]
        .as_str()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(baqylau()
        .args([
            "notify",
            "recheck",
            "--every-hours",
            "0",
            "--json",
            "--resolve",
        ])
        .arg(format!("{domain}=127.0.0.1:{port}"))
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value =
        serde_json::from_str(stdout(&out).lines().next().expect("one re-check")).unwrap();
    assert_eq!(line["case_id"], id);
    assert_eq!(line["outcome"], "unreachable", "{line}");
}

/// Reloads `url` until its notification status is `status` (20 s).
/// Polls `GET /api/notifications/{nid}` until its status is `status` or `limit` passes. The limit
/// only matters when the machine is loaded (the whole suite runs in parallel): a pass returns as
/// soon as the relay has published.
fn wait_for_status(
    addr: std::net::SocketAddr,
    nid: i64,
    auth: &str,
    status: &str,
    limit: Duration,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        let n = http_with(
            "GET",
            addr,
            &format!("/api/notifications/{nid}"),
            None,
            &[("Authorization", auth)],
        )
        .json();
        if n["status"] == status {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

fn wait_true_for(tab: &headless_chrome::Tab, js: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if tab
            .evaluate(js, false)
            .ok()
            .and_then(|r| r.value)
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn desk_refuses_anonymous_callers_and_detects_a_tampered_audit_log() {
    let dir = Dir::new("security");
    let data = dir.path().join("data");
    add_user(&data, "aigul", "analyst", Some("aigul-password-1"));
    let token = create_token(&data, "aigul");
    {
        let server = Server::start(&data);
        let r = http("GET", server.addr, "/api/cases", None);
        assert_eq!(r.status, 401, "{}", r.body);
        let r = http("GET", server.addr, "/cases", None);
        assert_eq!(
            r.status, 303,
            "the UI sends anonymous browsers to the login page"
        );
        let r = http(
            "POST",
            server.addr,
            "/api/cases/1/decision",
            Some(r#"{"action":"dismiss","reason":"x"}"#),
        );
        assert_eq!(r.status, 401);
        let auth = format!("Bearer {token}");
        let r = get_as(server.addr, "/api/cases", &auth);
        assert_eq!(r.status, 200, "{}", r.body);
        let r = get_as(server.addr, "/admin/users", &auth);
        assert_eq!(r.status, 403, "an analyst is no admin");
    }
    let verify = || run(baqylau().args(["audit", "verify", "--data"]).arg(&data));
    let ok = verify();
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(stdout(&ok).contains("intact"), "{}", stdout(&ok));

    let db = rusqlite::Connection::open(data.join("cases.sqlite")).unwrap();
    let n = db
        .execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", [])
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let bad = verify();
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(
        stdout(&bad).contains("BROKEN at entry 1"),
        "{}",
        stdout(&bad)
    );
}

fn wait_true(tab: &headless_chrome::Tab, js: &str) -> bool {
    wait_true_for(tab, js, Duration::from_secs(20))
}

#[test]
fn malformed_rule_is_rejected_with_file_and_line() {
    let dir = Dir::new("badrule");
    let taxonomy =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/taxonomy.toml"))
            .unwrap();
    dir.write("rules/taxonomy.toml", &taxonomy);
    dir.write(
        "rules/broken.toml",
        "[[rule]]\nid = \"casino.broken\"\nversion = 1\ncategory = \"illegal_gambling\"\nexpr = '''\n  (казино AND\n'''\nexamples.match = []\nexamples.no_match = []\n",
    );
    let out = run(baqylau()
        .args(["rules", "check"])
        .arg(dir.path().join("rules")));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    // The expression opens on line 6 and ends (unfinished) where line 7 begins.
    assert!(
        err.contains("broken.toml:7:1:"),
        "no file:line:col in {err:?}"
    );
    assert!(err.contains("casino.broken"), "rule id missing in {err:?}");

    // A TOML syntax error is located the same way.
    dir.write(
        "rules/broken.toml",
        "[[rule]]\nid = \"casino.unterminated\nversion = 1\n",
    );
    let out = run(baqylau()
        .args(["rules", "check"])
        .arg(dir.path().join("rules")));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.toml:2:"), "{}", stderr(&out));
}

#[test]
fn unreachable_seed_is_a_failed_capture_and_the_run_completes() {
    let dir = Dir::new("unreachable");
    let data = dir.path().join("data");
    // A port nobody listens on: bind, note, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(baqylau()
        .args([
            "crawl",
            "--json",
            "--no-screenshots",
            "--seed",
            "http://gone.example.kz/",
        ])
        .args(["--resolve", &format!("gone.example.kz=127.0.0.1:{port}")])
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["failed_captures"], 1, "{summary}");
    let stats = run(baqylau().args(["stats", "--json", "--data"]).arg(&data));
    assert!(stats.status.success(), "{}", stderr(&stats));
    let stats: Value = serde_json::from_str(stdout(&stats).trim()).unwrap();
    assert_eq!(stats["crawl"]["failures_by_kind"]["connect"], 1, "{stats}");
}

#[test]
fn classify_reads_and_writes_jsonl_with_byte_spans() {
    let dir = Dir::new("classify");
    let input = dir.write(
        "in.jsonl",
        concat!(
            "{\"id\":\"a\",\"text\":\"Сдай карту в аренду — от 50 000 тг в неделю, нужны дропы\"}\n",
            "{\"id\":\"b\",\"text\":\"Погода в Алматы: солнечно\"}\n",
        ),
    );
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out = run(baqylau()
        .args(["classify", "--rules"])
        .arg(&rules)
        .arg("--input")
        .arg(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert!(
        lines[0]["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "money_mule"),
        "{}",
        lines[0]
    );
    let text = "Сдай карту в аренду — от 50 000 тг в неделю, нужны дропы";
    for hit in lines[0]["hits"].as_array().unwrap() {
        for span in hit["spans"].as_array().unwrap() {
            let (s, e) = (
                span[0].as_u64().unwrap() as usize,
                span[1].as_u64().unwrap() as usize,
            );
            assert!(
                text.get(s..e).is_some(),
                "span {s}..{e} is not on char boundaries"
            );
        }
        assert!(hit["rule_version"].as_u64().is_some());
    }
    assert_eq!(lines[1]["categories"].as_array().unwrap().len(), 0);
}

#[test]
fn robots_check_answers_with_exit_codes() {
    let dir = Dir::new("robots");
    let robots = dir.write(
        "robots.txt",
        "User-agent: *\nDisallow: /private/\nAllow: /private/ok\n",
    );
    let code = |url: &str| {
        run(baqylau()
            .arg("robots-check")
            .arg(&robots)
            .args([url, "baqylau"]))
        .status
        .code()
    };
    assert_eq!(code("http://a.kz/"), Some(0));
    assert_eq!(code("http://a.kz/private/x"), Some(1));
    assert_eq!(code("http://a.kz/private/ok"), Some(0));
    let missing = run(baqylau().args([
        "robots-check",
        "/nonexistent/robots.txt",
        "http://a.kz/",
        "b",
    ]));
    assert_eq!(missing.status.code(), Some(2));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
