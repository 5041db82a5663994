//! Router tests: the whole application driven with `oneshot`, no socket, on an in-memory store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use model::{
    CaseStatus, CaseStore, Field, Localized, RuleInfo, Screenshot, Severity, Span, Taxonomy,
};
use tower::ServiceExt;

use super::{AppState, router};
use crate::SqliteCaseStore;
use crate::auth::{NewUser, Role};
use crate::store::conformance::flagged;

const TAXONOMY: &str = r#"
[[category]]
id = "illegal_gambling"
title = { kk = "Заңсыз ойын бизнесі", ru = "Незаконный игорный бизнес", en = "Illegal gambling" }
norm = { kk = "ҚР ҚК 307-бабы", ru = "ст. 307 УК РК", en = "Art. 307 Criminal Code" }
route = "blocking"

[[category]]
id = "fraud_investment"
title = { kk = "Инвестициялық алаяқтық", ru = "Инвестиционное мошенничество", en = "Investment fraud" }
norm = { ru = "ст. 190 УК РК" }
route = "criminal"
"#;

struct Fixture {
    state: AppState,
    /// API token of `aigul` (analyst), sent by [`send`] unless the request carries its own.
    token: String,
    store: Arc<SqliteCaseStore>,
    blobs: PathBuf,
    gambling: i64,
    fraud: i64,
    capture_id: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(root) = self.blobs.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

async fn fixture(name: &str) -> Fixture {
    // `root/blobs` is served; `root/secret` sits right outside it, for traversal attempts.
    let root = std::env::temp_dir().join(format!(
        "baqylau-reporter-web-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let blobs = root.join("blobs");
    std::fs::create_dir_all(blobs.join("shots")).unwrap();
    std::fs::write(blobs.join("shots/a.png"), b"\x89PNG\r\n\x1a\nfake").unwrap();
    // The mobile file matches its recorded hash, so the bundle's custody check flags only the
    // desktop one below.
    std::fs::write(blobs.join("shots/m.png"), b"mobile shot").unwrap();
    std::fs::write(root.join("secret"), b"s").unwrap();

    let store = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
    // The conformance suite's casino page, with markup in its title, a span on the title and
    // other severities.
    let mut f = flagged("http://casino.kz/", 1_700_000_000);
    f.capture.title = "Онлайн казино <script>alert(1)</script>".into();
    f.hits[0].severity = Severity::High;
    f.hits[0].spans.push(Span {
        field: Field::Title,
        start: 0,
        end: "Онлайн казино".len(),
    });
    f.hits[2].severity = Severity::Medium;
    let capture_id = f.capture.id.clone();
    let up = store.record_flagged(&f).await.unwrap();
    let id_of = |cat: &str| up.iter().find(|u| u.category == cat).unwrap().case_id;
    let (gambling, fraud) = (id_of("illegal_gambling"), id_of("fraud_investment"));
    let shot = Screenshot {
        path: "shots/a.png".into(),
        sha256: model::sha256_hex(b"shot"),
        width: 1280,
        height: 2000,
        taken_at: chrono::DateTime::from_timestamp(1_700_000_010, 0).unwrap(),
    };
    store
        .attach_screenshot(gambling, &capture_id, &shot)
        .await
        .unwrap();
    let mobile = Screenshot {
        path: "shots/m.png".into(),
        sha256: model::sha256_hex(b"mobile shot"),
        width: 780,
        height: 5000,
        ..shot.clone()
    };
    store
        .attach_screenshot_on(gambling, &capture_id, model::Viewport::Mobile, &mobile)
        .await
        .unwrap();

    let rule = RuleInfo {
        id: "gambling.casino".into(),
        version: 2,
        category: "illegal_gambling".into(),
        severity: Severity::High,
        title: Localized {
            kk: "Онлайн казино жарнамасы".into(),
            ru: "Реклама онлайн-казино".into(),
            en: "Online casino ad".into(),
        },
        expr: r#"any("онлайн казино", "казино онлайн") & !near("лицензия", 5)"#.into(),
        file: "gambling.toml".into(),
    };
    let state = AppState::new(
        store.clone(),
        blobs.clone(),
        Arc::new(Taxonomy::from_toml(TAXONOMY).unwrap()),
        Arc::new(HashMap::from([(rule.id.clone(), rule)])),
    );
    let token = add_user(&store, "aigul", Role::Analyst).await;
    Fixture {
        state,
        token,
        store,
        blobs,
        gambling,
        fraud,
        capture_id,
    }
}

/// Adds a user with password [`PASSWORD`]; returns an API token of theirs.
async fn add_user(store: &SqliteCaseStore, name: &str, role: Role) -> String {
    store
        .add_user(NewUser {
            name: name.into(),
            role: Some(role),
            password: Some(PASSWORD.into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    store.create_token(name).await.unwrap()
}

const PASSWORD: &str = "correct horse battery";

/// Sends `req` as `aigul` (bearer token) unless it already names a caller.
async fn send(f: &Fixture, mut req: Request<Body>) -> Response {
    let h = req.headers_mut();
    let has_session = h
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("baqylau_session="));
    if !h.contains_key(header::AUTHORIZATION) && !has_session {
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {}", f.token).parse().unwrap(),
        );
    }
    send_raw(f, req).await
}

/// Sends `req` exactly as given.
async fn send_raw(f: &Fixture, req: Request<Body>) -> Response {
    router(f.state.clone()).oneshot(req).await.unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get(f: &Fixture, uri: &str) -> Response {
    send(f, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn text(res: Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn json(res: Response) -> serde_json::Value {
    serde_json::from_str(&text(res).await).unwrap()
}

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn root_redirects_and_healthz_answers() {
    let f = fixture("root").await;
    let res = get(&f, "/").await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()[header::LOCATION], "/cases");
    let res = get(&f, "/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "ok");
}

#[tokio::test]
async fn case_list_renders_rows_and_filters() {
    let f = fixture("list").await;
    let res = get(&f, "/cases").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"));
    let html = text(res).await;
    assert!(html.contains("<html lang=\"kk\">"));
    assert!(html.contains("id=\"cases\""));
    assert_eq!(html.matches("<tr class=\"case-row\"").count(), 2);
    assert!(html.contains(&format!(
        "<a class=\"case-link\" href=\"/cases/{}\">",
        f.gambling
    )));
    assert!(html.contains("Заңсыз ойын бизнесі"));
    assert!(html.contains("data-status=\"new\""));
    assert!(html.contains("<td class=\"url\">http://casino.kz/</td>"));

    let table = [
        ("/cases?category=illegal_gambling", 1),
        ("/cases?source=telegram", 0),
        ("/cases?source=web&status=", 2),
        ("/cases?status=dismissed", 0),
    ];
    for (uri, rows) in table {
        let html = text(get(&f, uri).await).await;
        assert_eq!(
            html.matches("<tr class=\"case-row\"").count(),
            rows,
            "{uri}"
        );
    }
    let res = get(&f, "/cases?status=closed").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn case_page_marks_hits_and_explains_rules() {
    let f = fixture("detail").await;
    let res = get(&f, &format!("/cases/{}", f.gambling)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    // The text marks, merged and escaped; the title's span too, its markup neutralised.
    assert!(
        html.contains("<mark>Онлайн казино</mark> без лицензии"),
        "{html}"
    );
    assert!(html.contains("Тіркел де <mark>бонус</mark> ал!"));
    assert!(html.contains("<mark>Онлайн казино</mark> &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
    // The other category's words are not marked on this case.
    assert!(!html.contains("<mark>выигрыш"));
    // Taxonomy, evidence facts, screenshot.
    assert!(html.contains("ҚР ҚК 307-бабы"));
    // Both viewports' screenshots, each with its own SHA-256, desktop first.
    assert!(html.contains("<img class=\"screenshot\" src=\"/blobs/shots/a.png\""));
    assert!(html.contains("<img class=\"screenshot\" src=\"/blobs/shots/m.png\""));
    let desktop_sha = format!(
        "<span class=\"sha256\" data-viewport=\"desktop\">{}</span>",
        model::sha256_hex(b"shot")
    );
    let mobile_sha = format!(
        "<span class=\"sha256\" data-viewport=\"mobile\">{}</span>",
        model::sha256_hex(b"mobile shot")
    );
    let (d, m) = (html.find(&desktop_sha), html.find(&mobile_sha));
    assert!(d.is_some() && m.is_some() && d < m, "{html}");
    assert!(html.contains("Телефонда · 780×5000"), "{html}");
    assert!(html.contains(&format!(
        "<span class=\"sha256\">{}</span>",
        model::sha256_hex(b"body")
    )));
    assert!(html.contains("2023-11-14 22:13:20 UTC"));
    assert!(html.contains("HTTP/1.1"));
    assert!(html.contains("127.0.0.1"));
    // Rule explanation: id, hit version vs current, title, expression (escaped).
    assert!(html.contains("<code>gambling.casino</code>"));
    assert!(html.contains("Онлайн казино жарнамасы"));
    assert!(html.contains("any(&quot;онлайн казино&quot;"));
    assert!(html.contains("ағымдағы нұсқа"));
    assert!(html.contains("Ереже қазір жүктелмеген")); // gambling.bonus is not loaded
    // Decision forms, route preselected from the taxonomy.
    assert!(html.contains("<option value=\"blocking\" selected>"));
    for needle in [
        "name=\"justification\"",
        "name=\"reason\"",
        "id=\"confirm\"",
        "id=\"dismiss\"",
        "<select name=\"route\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    // Opening the page started the review.
    assert!(html.contains("<span class=\"status\" data-status=\"in_review\">Қаралуда</span>"));
    let case = f.store.get_case(f.gambling).await.unwrap().unwrap();
    assert_eq!(case.status, CaseStatus::InReview);

    let html = text(get(&f, &format!("/cases/{}", f.fraud)).await).await;
    assert!(html.contains("<option value=\"criminal\" selected>"));
    assert!(html.contains("<mark>выигрыш гарантирован</mark>"));
    assert!(html.contains("Скриншот әлі түсірілмеген"));
}

#[tokio::test]
async fn language_from_query_then_cookie() {
    let f = fixture("lang").await;
    let res = get(&f, &format!("/cases/{}?lang=ru", f.gambling)).await;
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("lang=ru;"), "{cookie}");
    let html = text(res).await;
    assert!(html.contains("<html lang=\"ru\">"));
    assert!(html.contains("ст. 307 УК РК"));
    assert!(html.contains("Подтвердить"));

    let req = Request::get("/cases")
        .header(header::COOKIE, "theme=x; lang=en")
        .body(Body::empty())
        .unwrap();
    let res = send(&f, req).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    let html = text(res).await;
    assert!(html.contains("Illegal gambling"));
    assert!(html.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn missing_case_page_is_404() {
    let f = fixture("missing").await;
    for uri in ["/cases/999", "/cases/abc"] {
        let res = get(&f, uri).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(text(res).await.contains("Табылмады"));
    }
}

#[tokio::test]
async fn form_decision_redirects_back() {
    let f = fixture("form").await;
    let req = Request::post(format!("/cases/{}/decision", f.gambling))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "action=confirm&route=blocking&justification=%D0%BA%D0%B0%D0%B7%D0%B8%D0%BD%D0%BE",
        ))
        .unwrap();
    let res = send(&f, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        format!("/cases/{}", f.gambling).as_str()
    );
    let case = f.store.get_case(f.gambling).await.unwrap().unwrap();
    assert_eq!(case.status, CaseStatus::Confirmed);
    assert_eq!(case.decision_note.as_deref(), Some("казино"));
    assert_eq!(case.decided_by.as_deref(), Some("aigul"));
    let html = text(get(&f, &format!("/cases/{}", f.gambling)).await).await;
    assert!(!html.contains("id=\"confirm\""));
    assert!(html.contains("data-status=\"confirmed\""));

    let req = Request::post(format!("/cases/{}/decision", f.fraud))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("action=dismiss&reason=+"))
        .unwrap();
    assert_eq!(send(&f, req).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn api_lists_and_gets_cases() {
    let f = fixture("api").await;
    let res = get(&f, "/api/cases?category=illegal_gambling").await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = json(res).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], f.gambling);
    assert_eq!(v[0]["has_screenshot"], true);
    assert_eq!(v[0]["status"], "new");
    assert_eq!(
        json(get(&f, "/api/cases?limit=1").await)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let res = get(&f, "/api/cases?status=nope").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["error"].as_str().unwrap().contains("nope"));

    let v = json(get(&f, &format!("/api/cases/{}", f.fraud)).await).await;
    assert_eq!(v["category"], "fraud_investment");
    assert_eq!(v["evidence"][0]["capture_id"], f.capture_id.as_str());
    let res = get(&f, "/api/cases/999").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(res).await["error"], "case 999 not found");
}

#[tokio::test]
async fn api_decision_statuses() {
    let f = fixture("decide").await;
    let uri = format!("/api/cases/{}/decision", f.gambling);
    let confirm = r#"{"action":"confirm","route":"blocking","justification":"лицензиясыз казино"}"#;
    let table = [
        (
            post_json(
                &uri,
                r#"{"action":"confirm","route":"blocking","justification":" "}"#,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            post_json(&uri, r#"{"action":"confirm","justification":"x"}"#),
            StatusCode::BAD_REQUEST,
        ),
        (
            post_json(
                &uri,
                r#"{"action":"confirm","route":"jail","justification":"x"}"#,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (post_json(&uri, "not json"), StatusCode::BAD_REQUEST),
        (
            post_json("/api/cases/999/decision", confirm),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (req, want) in table {
        let res = send(&f, req).await;
        assert_eq!(res.status(), want);
        assert!(json(res).await["error"].is_string());
    }
    let bolat = add_user(&f.store, "bolat", Role::Analyst).await;
    let mut req = post_json(&uri, confirm);
    req.headers_mut()
        .insert(header::AUTHORIZATION, bearer(&bolat).parse().unwrap());
    let res = send(&f, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = json(res).await;
    assert_eq!(v["status"], "confirmed");
    assert_eq!(v["route"], "blocking");
    assert_eq!(v["decided_by"], "bolat");

    let res = send(&f, post_json(&uri, confirm)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json(res).await["error"]
            .as_str()
            .unwrap()
            .contains("confirmed")
    );

    let res = send(
        &f,
        post_json(
            &format!("/api/cases/{}/decision", f.fraud),
            r#"{"action":"dismiss","reason":"сатира"}"#,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["decided_by"], "aigul");
}

#[tokio::test]
async fn blobs_are_served_and_traversal_refused() {
    let f = fixture("blobs").await;
    let res = get(&f, "/blobs/shots/a.png").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");

    let secret = "secret";
    assert!(f.blobs.parent().unwrap().join(secret).is_file());
    for uri in [
        format!("/blobs/../{secret}"),
        format!("/blobs/%2e%2e/{secret}"),
        format!("/blobs/shots/%2E%2E/%2E%2E/{secret}"),
        format!("/blobs/%2F{secret}"),
        "/blobs/%2Fetc%2Fpasswd".to_string(),
        "/blobs/shots/missing.png".to_string(),
        "/blobs/shots".to_string(),
    ] {
        let res = get(&f, &uri).await;
        assert!(
            matches!(
                res.status(),
                StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND
            ),
            "{uri}: {}",
            res.status()
        );
    }
}

/// `name=value` of the `Set-Cookie` header starting with `name=`.
fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The value of the first hidden `csrf` field in `html`.
fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

fn form(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Logs in through the form; returns the session cookie (`name=value`) and the page's CSRF token.
async fn login(f: &Fixture, name: &str, totp: &str) -> Result<(String, String), StatusCode> {
    let res = send_raw(f, Request::get("/login").body(Body::empty()).unwrap()).await;
    let login_cookie = set_cookie(&res, "baqylau_login").unwrap();
    let login_cookie = login_cookie.split(';').next().unwrap().to_string();
    let token = csrf_in(&text(res).await);
    let body = format!(
        "csrf={token}&next=%2Fcases&name={name}&password=correct+horse+battery&totp={totp}"
    );
    let res = send_raw(f, form("/login", &login_cookie, &body)).await;
    if res.status() != StatusCode::SEE_OTHER {
        return Err(res.status());
    }
    let cookie = set_cookie(&res, "baqylau_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let req = Request::get("/cases")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let html = text(send_raw(f, req).await).await;
    Ok((cookie, csrf_in(&html)))
}

#[tokio::test]
async fn nothing_is_reachable_without_login() {
    let f = fixture("nologin").await;
    for uri in ["/cases", "/", "/blobs/shots/a.png", "/admin/users"] {
        let res = send_raw(&f, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
        assert!(
            res.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    }
    let res = send_raw(&f, Request::get("/api/cases").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let req = Request::get("/cases")
        .header(header::AUTHORIZATION, "Bearer bq_forged")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&f, req).await.status(), StatusCode::UNAUTHORIZED);
    let req = Request::get("/cases")
        .header(header::COOKIE, "baqylau_session=forged")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&f, req).await.status(), StatusCode::SEE_OTHER);
    let res = send_raw(&f, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_forms_need_the_csrf_token() {
    let f = fixture("csrf").await;
    assert_eq!(login(&f, "aigul", "").await.err(), None);
    let (cookie, csrf) = login(&f, "aigul", "").await.unwrap();
    let uri = format!("/cases/{}/decision", f.gambling);
    let body = "action=confirm&route=blocking&justification=%D0%BA%D0%B0%D0%B7%D0%B8%D0%BD%D0%BE";
    let res = send_raw(&f, form(&uri, &cookie, body)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token");
    let wrong = format!(
        "{}{}",
        if csrf.starts_with('0') { '1' } else { '0' },
        &csrf[1..]
    );
    let res = send_raw(&f, form(&uri, &cookie, &format!("{body}&csrf={wrong}"))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong token");
    let mut api = post_json(
        &format!("/api/cases/{}/decision", f.fraud),
        r#"{"action":"dismiss","reason":"сатира"}"#,
    );
    api.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    assert_eq!(
        send_raw(&f, api).await.status(),
        StatusCode::FORBIDDEN,
        "API via cookie"
    );
    assert_eq!(
        f.store.get_case(f.gambling).await.unwrap().unwrap().status,
        CaseStatus::New
    );

    let res = send_raw(&f, form(&uri, &cookie, &format!("{body}&csrf={csrf}"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut api = post_json(
        &format!("/api/cases/{}/decision", f.fraud),
        r#"{"action":"dismiss","reason":"сатира"}"#,
    );
    api.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    api.headers_mut()
        .insert("x-csrf-token", csrf.parse().unwrap());
    assert_eq!(send_raw(&f, api).await.status(), StatusCode::OK);

    // Logging out ends the session.
    let res = send_raw(&f, form("/logout", &cookie, &format!("csrf={csrf}"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let req = Request::get("/cases")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&f, req).await.status(), StatusCode::SEE_OTHER);
    // Five wrong passwords in a row: even the right one is refused for a while.
    for _ in 0..crate::web::auth::MAX_FAILED_LOGINS {
        let res = send_raw(&f, Request::get("/login").body(Body::empty()).unwrap()).await;
        let lc = set_cookie(&res, "baqylau_login").unwrap();
        let lc = lc.split(';').next().unwrap().to_string();
        let t = csrf_in(&text(res).await);
        let body = format!("csrf={t}&name=aigul&password=wrong+horse+battery");
        assert_eq!(
            send_raw(&f, form("/login", &lc, &body)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&f, "aigul", "").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    // A login form post without its double-submit cookie is refused.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "csrf=x&name=aigul&password=correct+horse+battery",
        ))
        .unwrap();
    assert_eq!(send_raw(&f, req).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn approvers_log_in_with_totp_and_roles_are_enforced() {
    let f = fixture("roles").await;
    let (_, secret) = f
        .store
        .add_user(NewUser {
            name: "dana".into(),
            role: Some(Role::Admin),
            password: Some(PASSWORD.into()),
            full_name: "Дана Серікова".into(),
            email: "dana@afm.gov.kz".into(),
            mobile: "+7 701 000 00 00".into(),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let secret = secret.unwrap();
    assert_eq!(
        login(&f, "dana", "").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        login(&f, "dana", "000000").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let code = crate::auth::totp::code_at(&secret, chrono::Utc::now().timestamp()).unwrap();
    let (cookie, _) = login(&f, "dana", &code).await.unwrap();
    let req = Request::get("/admin/users")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let res = send_raw(&f, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains("data-name=\"aigul\"") && html.contains("data-name=\"dana\""));

    // The analyst may not administer; the admin may not decide cases.
    assert_eq!(
        get(&f, "/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&f, "/admin/form1.csv").await.status(),
        StatusCode::FORBIDDEN
    );
    let admin_token = f.store.create_token("dana").await.unwrap();
    let mut req = post_json(
        &format!("/api/cases/{}/decision", f.fraud),
        r#"{"action":"dismiss","reason":"x"}"#,
    );
    req.headers_mut()
        .insert(header::AUTHORIZATION, bearer(&admin_token).parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);

    // Form 1 CSV: analysts and approvers only, with the form's columns.
    f.store
        .add_user(NewUser {
            name: "erlan".into(),
            role: Some(Role::Analyst),
            full_name: "Ерлан Ахметов, аға талдаушы".into(),
            email: "erlan@afm.gov.kz".into(),
            mobile: "+77010000001".into(),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let req = Request::get("/admin/form1.csv?lang=kk")
        .header(header::AUTHORIZATION, bearer(&admin_token))
        .body(Body::empty())
        .unwrap();
    let res = send(&f, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = text(res).await;
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "№ р/с,\"Тегі, аты, әкесінің аты (ол болған жағдайда)\",Жұмыс электрондық поштасы,Ұялы телефон"
    );
    assert_eq!(lines.len(), 3, "aigul and erlan, not the admin: {csv}");
    assert!(lines[2].contains("\"Ерлан Ахметов, аға талдаушы\",erlan@afm.gov.kz,+77010000001"));

    // Every case view is in the audit chain, and the chain verifies.
    get(&f, &format!("/cases/{}", f.gambling)).await;
    let views = f
        .store
        .audit_entries(Some(&format!("case:{}", f.gambling)), 10)
        .await
        .unwrap();
    assert!(
        views
            .iter()
            .any(|e| e.action == "case.view" && e.actor == "aigul")
    );
    assert_eq!(f.store.verify_audit().await.unwrap().broken, None);
}

#[tokio::test]
async fn case_work_assign_comment_and_queue_filters() {
    let f = fixture("work").await;
    let form_req = |uri: String, body: &str| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let id = f.gambling;
    let res = send(
        &f,
        form_req(format!("/cases/{id}/assign"), "assignee=aigul"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = send(
        &f,
        form_req(
            format!("/cases/{id}/comments"),
            "body=%D0%B0%D0%B9%D0%BD%D0%B0",
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(get(&f, &format!("/cases/{id}?lang=en")).await).await;
    assert!(html.contains("id=\"assign-me\""), "{html}");
    assert!(html.contains("<p>айна</p>"));
    assert!(html.contains("id=\"related\""));
    assert!(html.contains("Since detection"));
    // The fixture capture is from 2023: long past the 24-hour deadline.
    assert!(html.contains("class=\"overdue\""));

    let mine = json(get(&f, "/api/cases?assignee=me").await).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["assignee"], "aigul");
    let overdue = json(get(&f, "/api/cases?overdue=1&sort=oldest").await).await;
    assert_eq!(overdue.as_array().unwrap().len(), 2);
    let list = text(get(&f, "/cases?assignee=me").await).await;
    assert_eq!(list.matches("<tr class=\"case-row\"").count(), 1);

    // A rule author may comment but not assign.
    let ra = add_user(&f.store, "ramil", Role::RuleAuthor).await;
    let mut req = form_req(format!("/cases/{id}/assign"), "assignee=ramil");
    req.headers_mut()
        .insert(header::AUTHORIZATION, bearer(&ra).parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
    let mut req = form_req(format!("/cases/{}/merge", f.fraud), &format!("into={id}"));
    req.headers_mut()
        .insert(header::AUTHORIZATION, bearer(&ra).parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
    let res = send(
        &f,
        form_req(format!("/cases/{}/merge", f.fraud), &format!("into={id}")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        json(get(&f, "/api/cases").await)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn notification_flow_four_eyes_document_and_bundle() {
    let f = fixture("notify").await;
    let id = f.gambling;
    let confirm = r#"{"action":"confirm","route":"blocking","justification":"лицензиясыз казино"}"#;
    let res = send(&f, post_json(&format!("/api/cases/{id}/decision"), confirm)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(get(&f, &format!("/cases/{id}")).await).await;
    assert!(
        html.contains("id=\"draft-form2\""),
        "confirmed blocking case offers Form 2"
    );

    let req = Request::post("/notifications")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("case={id}")))
        .unwrap();
    let res = send(&f, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let loc = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let nid: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let n = json(get(&f, &format!("/api/notifications/{nid}")).await).await;
    let sha = n["content_sha256"].as_str().unwrap().to_string();
    assert_eq!(n["status"], "draft");
    assert_eq!(n["content"]["facts"][0]["case_id"], id);

    // The analyst who drafted it cannot approve (role), neither can an approver who authored
    // a revision (four eyes); another approver can, bound to the hash.
    let approve = |sha: &str| {
        post_json(
            &format!("/api/notifications/{nid}/approve"),
            &format!("{{\"sha256\":\"{sha}\"}}"),
        )
    };
    assert_eq!(
        send(&f, approve(&sha)).await.status(),
        StatusCode::FORBIDDEN
    );
    let mut tokens = HashMap::new();
    let mut sessions = HashMap::new();
    for name in ["bolat", "dana"] {
        let (_, secret) = f
            .store
            .add_user(NewUser {
                name: name.into(),
                role: Some(Role::Approver),
                password: Some(PASSWORD.into()),
                full_name: format!("{name} Серікұлы"),
                position: "Департамент директоры".into(),
                ..NewUser::default()
            })
            .await
            .unwrap();
        tokens.insert(name, f.store.create_token(name).await.unwrap());
        let code =
            crate::auth::totp::code_at(&secret.unwrap(), chrono::Utc::now().timestamp()).unwrap();
        sessions.insert(name, login(&f, name, &code).await.unwrap());
    }
    let as_user = |mut req: Request<Body>, name: &str| {
        req.headers_mut().insert(
            header::AUTHORIZATION,
            bearer(&tokens[name]).parse().unwrap(),
        );
        req
    };
    // Approving is signing: only in a session opened with password and TOTP.
    let signed = |mut req: Request<Body>, name: &str| {
        let (cookie, csrf) = &sessions[name];
        req.headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        req.headers_mut()
            .insert("x-csrf-token", csrf.parse().unwrap());
        req
    };
    assert_eq!(
        send(&f, as_user(approve(&sha), "dana")).await.status(),
        StatusCode::FORBIDDEN,
        "an API token cannot sign"
    );
    let revise = Request::post(format!("/notifications/{nid}/cases"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("case={id}")))
        .unwrap();
    assert_eq!(
        send(&f, as_user(revise, "bolat")).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = send(&f, signed(approve(&sha), "bolat")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "four eyes");
    let stale = send(&f, signed(approve(&"0".repeat(64)), "dana")).await;
    assert_eq!(
        stale.status(),
        StatusCode::CONFLICT,
        "bound to the hash shown"
    );
    let res = send(&f, signed(approve(&sha), "dana")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let n = json(res).await;
    assert_eq!(n["status"], "approved");
    assert_eq!(n["signatory"]["user"], "dana");
    assert_eq!(f.store.pending_outbox().await.unwrap().len(), 1);

    // The document, in both languages, signed by dana.
    let kk = text(get(&f, &format!("/notifications/{nid}/form2?lang=kk")).await).await;
    assert!(kk.contains(crate::forms::FORM2_INTRO.kk));
    assert!(kk.contains(crate::forms::FORM2_CERTIFY.kk));
    assert!(kk.contains("dana Серікұлы"));
    assert!(kk.contains("ҚР ҚК 307-бабы"));
    let ru = text(get(&f, &format!("/notifications/{nid}/form2?lang=ru")).await).await;
    assert!(ru.contains("1. Вид нарушения"));
    let res = get(&f, &format!("/notifications/{nid}/form2.pdf")).await;
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "no printer in this state"
    );
    let page = text(get(&f, &format!("/notifications/{nid}")).await).await;
    assert!(page.contains("data-status=\"approved\"") && !page.contains("id=\"approve\""));

    // Published, then the authority answers.
    let out = f.store.pending_outbox().await.unwrap();
    f.store
        .outbox_published(out[0].outbox_id, "test")
        .await
        .unwrap();
    let res = send(
        &f,
        post_json(
            &format!("/api/notifications/{nid}/receipts"),
            r#"{"line":1,"verdict":"accepted","justification":"доступ ограничен"}"#,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(get(&f, &format!("/cases/{id}")).await).await;
    assert!(
        html.contains("data-verdict=\"accepted\""),
        "receipt shows on the case"
    );
    assert!(html.contains("data-status=\"acknowledged\""));

    // The bundle downloads; its verification flags the fixture's screenshot, whose recorded
    // hash is of other bytes than the file (exactly what the custody check is for).
    let res = get(&f, &format!("/cases/{id}/bundle.zip")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    let v = crate::bundle::verify(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(v.case_id, id);
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
    assert!(v.problems[0].contains("differs from the screenshot recorded"));
    assert!(
        v.problems[0].starts_with("screenshots/"),
        "{:?}",
        v.problems
    );
    assert!(
        !v.problems[0].contains(".mobile.png"),
        "the mobile shot verifies"
    );

    // A re-check after sending finds the resource on another host: shown with the mirror.
    let due = f
        .store
        .rechecks_due(chrono::Duration::seconds(-1))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let obs = crate::recheck::Observation::Answer {
        status: 200,
        final_url: "http://casino-zerkalo.kz/".into(),
        body_sha256: "x".into(),
        body_start: String::new(),
    };
    f.store.record_recheck(&due[0], &obs).await.unwrap();
    let html = text(get(&f, &format!("/cases/{id}?lang=ru")).await).await;
    assert!(html.contains("data-outcome=\"moved\""));
    assert!(html.contains("http://casino-zerkalo.kz/"));
}
