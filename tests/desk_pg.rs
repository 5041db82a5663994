//! The analysts' desk of a distributed deployment, end to end: the real binary's `user add`,
//! `token create`, `serve` and `audit verify` with `--db` on a fresh schema of the real
//! PostgreSQL (`$BAQYLAU_TEST_PG`, else `postgres://postgres@127.0.0.1:5432/test`), over cases a
//! reporter worker would have written there. PostgreSQL being unreachable fails the test.

#[allow(dead_code)]
mod util;

use std::path::Path;

use model::CaseStore;
use reporter::store::postgres::ScratchSchema;
use serde_json::{Value, json};
use util::{Dir, Server, baqylau, run, stderr, stdout};

/// A casino page flagged once, as the classifier workers publish it.
fn flagged(url: &str) -> model::Flagged {
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let text = "Онлайн казино без лицензии, бонус при регистрации.";
    let id = model::capture_id(url, at);
    serde_json::from_value(json!({
        "capture": {
            "id": id,
            "url": url,
            "final_url": url,
            "host": "casino.kz",
            "fetched_at": at,
            "status": 200,
            "protocol": "HTTP/1.1",
            "title": "Онлайн казино",
            "text": text,
            "body_sha256": model::sha256_hex(text.as_bytes()),
            "body_len": text.len(),
        },
        "hits": [{
            "capture_id": id,
            "rule": "gambling.casino",
            "rule_version": 1,
            "category": "illegal_gambling",
            "severity": "medium",
            "score": 0.8,
            "spans": [{"field": "text", "start": 0, "end": "Онлайн казино".len()}],
            "matched": "Онлайн казино",
        }],
    }))
    .expect("a Flagged message")
}

/// `baqylau user add NAME --role ROLE --password-stdin --json --db … --db-schema …`.
fn add_user(data: &Path, db: &[&str], name: &str, role: &str, password: &str) -> Value {
    use std::io::Write;
    let mut child = baqylau()
        .args([
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--json",
        ])
        .args(db)
        .arg("--data")
        .arg(data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start user add");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add {name}: {}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).expect("user add prints JSON")
}

/// Value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The first `name="csrf" value="…"` of a page.
fn csrf_field(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Logs in through the login form (double-submit token, password, TOTP code); returns the
/// `Set-Cookie` answer: `Some(session cookie)` on success, `None` when refused.
async fn login(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
    totp: &str,
) -> Option<String> {
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let token = set_cookie(&form, "baqylau_login").expect("login cookie");
    assert_eq!(csrf_field(&form.text().await.unwrap()), token);
    let res = http
        .post(format!("{base}/login"))
        .header("Cookie", format!("baqylau_login={token}"))
        .form(&[
            ("csrf", token.as_str()),
            ("next", "/cases"),
            ("name", name),
            ("password", password),
            ("totp", totp),
        ])
        .send()
        .await
        .unwrap();
    match res.status().as_u16() {
        303 => {
            assert_eq!(res.headers()["location"], "/cases");
            Some(set_cookie(&res, "baqylau_session").expect("session cookie"))
        }
        401 => None,
        other => panic!("login answered {other}: {}", res.text().await.unwrap()),
    }
}

/// A response body as JSON.
async fn json_of(res: reqwest::Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn totp_now(secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    reporter::auth::totp::code_at(secret, now).expect("base32 secret")
}

#[test]
fn serve_user_token_and_audit_run_the_desk_on_postgres() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = ScratchSchema::test_url();
    let schema = rt
        .block_on(ScratchSchema::create(&url))
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL test server unreachable at {url} ({e}); start it or set BAQYLAU_TEST_PG"
            )
        });
    let store = rt
        .block_on(schema.store())
        .expect("case store in the schema");

    // Cases as a reporter worker writes them.
    let up = rt
        .block_on(store.record_flagged(&flagged("http://casino.kz/")))
        .unwrap();
    let case_id = up[0].case_id;
    let other = rt
        .block_on(store.record_flagged(&flagged("http://casino2.kz/")))
        .unwrap()[0]
        .case_id;

    // The UI host's data directory: only the blobs the workers wrote (a shared mount).
    let dir = Dir::new("desk-pg");
    let data = dir.path().join("data");
    let shot = data.join("blobs/screenshots/casino.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    std::fs::write(&shot, b"\x89PNG not really").unwrap();

    // The screenshot worker's shot of the first case, in the shared blobs directory.
    let shot_record: model::Screenshot = serde_json::from_value(json!({
        "path": "screenshots/casino.png",
        "sha256": model::sha256_hex(b"\x89PNG not really"),
        "width": 1280,
        "height": 2000,
        "taken_at": chrono::Utc::now(),
    }))
    .unwrap();
    let capture = flagged("http://casino.kz/").capture.id;
    rt.block_on(store.attach_screenshot(case_id, &capture, &shot_record))
        .unwrap();

    let db = ["--db", schema.url(), "--db-schema", schema.name()];
    add_user(&data, &db, "aigul", "analyst", "aigul-password-1");
    let admin = add_user(&data, &db, "nurlan", "admin", "nurlan-password-1");
    let secret = admin["totp_secret"].as_str().expect("admins get TOTP");
    let approver = add_user(&data, &db, "bolat", "approver", "bolat-password-1");
    let approver_secret = approver["totp_secret"]
        .as_str()
        .expect("approvers get TOTP");
    let out = run(baqylau()
        .args(["user", "list"])
        .args(db)
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "user list: {}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains("aigul\tanalyst") && listed.contains("nurlan\tadmin"),
        "{listed}"
    );
    let out = run(baqylau()
        .args(["token", "create", "--user", "aigul"])
        .args(db)
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "token create: {}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    // The users went to PostgreSQL, not into a SQLite file of the data directory.
    let users = rt.block_on(store.list_users()).unwrap();
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["aigul", "bolat", "nurlan"]
    );
    assert!(!data.join("cases.sqlite").exists());

    let server = Server::start_with(
        &data,
        &[
            "--db",
            schema.url(),
            "--db-schema",
            schema.name(),
            "--no-pdf",
            "--recheck-hours",
            "0",
        ],
    );
    let base = server.url("");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    rt.block_on(async {
        // An analyst logs in with the form and lists the cases.
        assert_eq!(
            login(&http, &base, "aigul", "wrong-password", "").await,
            None
        );
        let session = login(&http, &base, "aigul", "aigul-password-1", "")
            .await
            .expect("analyst logs in");
        let cookie = format!("baqylau_session={session}");
        let list = json_of(
            http.get(format!("{base}/api/cases"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let ids: Vec<i64> = list
            .as_array()
            .expect("array of cases")
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{list}");
        assert!(ids.contains(&case_id) && ids.contains(&other), "{list}");

        // The case page (comments, related cases, indicators, notifications, re-checks from
        // PostgreSQL) opens the case for review; its forms carry the session's CSRF token.
        let page = http
            .get(format!("{base}/cases/{case_id}"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("http://casino.kz/"), "{html}");
        let csrf = csrf_field(&html);

        // A cookie session's API write needs the CSRF header; then the decision is recorded.
        let decision = json!({
            "action": "confirm",
            "route": "blocking",
            "justification": "онлайн-казино без лицензии",
        })
        .to_string();
        let refused = http
            .post(format!("{base}/api/cases/{case_id}/decision"))
            .header("Cookie", &cookie)
            .header("Content-Type", "application/json")
            .body(decision.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        let decided = http
            .post(format!("{base}/api/cases/{case_id}/decision"))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .header("Content-Type", "application/json")
            .body(decision)
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), 200);
        let case = json_of(decided).await;
        assert_eq!(case["status"], "confirmed", "{case}");

        // A script with the CLI-made API token decides the other case.
        let dismissed = http
            .post(format!("{base}/api/cases/{other}/decision"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(json!({"action": "dismiss", "reason": "законная лотерея"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(dismissed.status(), 200);

        // Four eyes: the analyst drafts a Form 2 over the confirmed case, an approver approves
        // the content hash; the server's outbox relay (claiming the message in PostgreSQL)
        // publishes it to DATA/outbox/ and the notification becomes sent.
        let draft = json_of(
            http.post(format!("{base}/api/notifications"))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(json!({"cases": [case_id]}).to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        let nid = draft["id"].as_i64().unwrap_or_else(|| panic!("{draft}"));
        // Approving is signing: a TOTP login, and the session's CSRF token on the API write.
        let signer = login(
            &http,
            &base,
            "bolat",
            "bolat-password-1",
            &totp_now(approver_secret),
        )
        .await
        .expect("approver logs in with a TOTP code");
        let signer = format!("baqylau_session={signer}");
        let page = http
            .get(format!("{base}/notifications/{nid}"))
            .header("Cookie", &signer)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let signer_csrf = csrf_field(&page.text().await.unwrap());
        let approved = json_of(
            http.post(format!("{base}/api/notifications/{nid}/approve"))
                .header("Cookie", &signer)
                .header("X-CSRF-Token", &signer_csrf)
                .header("Content-Type", "application/json")
                .body(json!({"sha256": draft["content_sha256"]}).to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(approved["status"], "approved", "{approved}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let n = json_of(
                http.get(format!("{base}/api/notifications/{nid}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            if n["status"] == "sent" {
                let file = data
                    .join("outbox")
                    .join(format!("{}.json", n["message_id"].as_str().unwrap()));
                assert!(file.is_file(), "{} was not written", file.display());
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the relay did not publish: {n}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }

        // Evidence files come from the data directory's blobs.
        let blob = http
            .get(format!("{base}/blobs/screenshots/casino.png"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(blob.status(), 200);
        assert_eq!(&blob.bytes().await.unwrap()[..], b"\x89PNG not really");

        // The admin logs in with a TOTP code (accepted once) and sees the decisions in the audit.
        let code = totp_now(secret);
        let admin_session = login(&http, &base, "nurlan", "nurlan-password-1", &code)
            .await
            .expect("admin logs in with a TOTP code");
        assert_eq!(
            login(&http, &base, "nurlan", "nurlan-password-1", &code).await,
            None,
            "a TOTP code is accepted once"
        );
        let audit = http
            .get(format!("{base}/admin/audit"))
            .header("Cookie", format!("baqylau_session={admin_session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(audit.status(), 200);
        let html = audit.text().await.unwrap();
        assert!(
            html.contains("case.confirm") && html.contains("case.dismiss"),
            "{html}"
        );
    });
    drop(server);

    // What the server wrote is in PostgreSQL.
    let case = rt.block_on(store.get_case(case_id)).unwrap().unwrap();
    assert_eq!(case.status, model::CaseStatus::Sent);
    let trail = rt
        .block_on(store.audit_entries(Some(&format!("case:{case_id}")), 10))
        .unwrap();
    let trail: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    let at = |entry: (&str, &str)| {
        trail
            .iter()
            .position(|e| *e == entry)
            .unwrap_or_else(|| panic!("no {entry:?} in {trail:?}"))
    };
    assert!(
        at(("aigul", "case.confirm")) < at(("aigul", "case.view")),
        "newest first: {trail:?}"
    );
    let dismissed = rt
        .block_on(store.audit_entries(Some(&format!("case:{other}")), 10))
        .unwrap();
    assert_eq!(dismissed[0].action, "case.dismiss");
    assert_eq!(dismissed[0].actor, "aigul");
    assert!(!data.join("cases.sqlite").exists());

    // The chain the server, the CLI and the logins appended to verifies.
    let out = run(baqylau()
        .args(["audit", "verify", "--json"])
        .args(db)
        .arg("--data")
        .arg(&data));
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(report["broken"].is_null(), "{report}");
    assert!(report["entries"].as_u64().unwrap() >= 9, "{report}");

    // The evidence bundle of the sent case, exported from the PostgreSQL desk with the shared
    // blobs, verifies; the export is audited there.
    let bundle = dir.path().join("case.zip");
    let out = run(baqylau()
        .args(["export", "--case", &case_id.to_string(), "--no-pdf"])
        .args(db)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&bundle));
    assert!(out.status.success(), "export: {}", stderr(&out));
    assert!(
        stdout(&out).contains("screenshots/"),
        "the screenshot is bundled: {}",
        stdout(&out)
    );
    let out = run(baqylau().arg("verify").arg(&bundle));
    assert!(
        out.status.success(),
        "verify: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let trail = rt
        .block_on(store.audit_entries(Some(&format!("case:{case_id}")), 1))
        .unwrap();
    assert_eq!(
        (trail[0].actor.as_str(), trail[0].action.as_str()),
        ("cli", "case.export")
    );

    // A stand-alone relay claims from the same outbox: the server already sent everything.
    let out = run(baqylau()
        .args(["notify", "relay", "--once"])
        .args(db)
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "notify relay: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "published 0");
    // Nothing re-checked the case an hour after the server did; the CLI reads the same desk.
    let out = run(baqylau()
        .args(["notify", "recheck", "--every-hours", "1", "--json"])
        .args(db)
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "notify recheck: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "");
    assert!(!data.join("cases.sqlite").exists());

    rt.block_on(store.close());
    drop(schema);
}
