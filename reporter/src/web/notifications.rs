//! Notification screens and API: drafting a Form 2 over confirmed blocking cases, the document
//! in Kazakh and Russian (HTML and PDF), four-eyes approval, revision, receipts.
//!
//! The approval form carries the content hash the approver is looking at; the store refuses the
//! approval if the content changed since (someone revised it in another tab) or if the approver
//! authored it. Every view of a notification is audited like a case view.

use std::fmt::Write as _;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{Identity, form_values};
use super::error::{AppError, PageError};
use super::html::{Page, csrf_field, escape};
use super::i18n::{self, Lang, Msg};
use super::{AppState, UiLang};
use crate::auth::Perm;
use crate::notification::{self, render_document};
use crate::store::notifications::{Notification, NotificationStatus, Verdict};

fn nid(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::NotFound(format!("notification {raw:?} not found")))
}

async fn load(state: &AppState, id: i64) -> Result<Notification, AppError> {
    state
        .desk
        .notification(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("notification {id} not found")))
}

fn status_text(s: NotificationStatus, lang: Lang) -> &'static str {
    match s {
        NotificationStatus::Draft => match lang {
            Lang::Kk => "Жоба",
            Lang::Ru => "Черновик",
            Lang::En => "Draft",
        },
        NotificationStatus::Approved => i18n::status(model::CaseStatus::Approved, lang),
        NotificationStatus::Sent => i18n::status(model::CaseStatus::Sent, lang),
    }
}

/// Form 2 language for a UI language: the form exists in Kazakh and Russian only.
fn doc_lang(lang: Lang) -> &'static str {
    if lang == Lang::Kk { "kk" } else { "ru" }
}

fn page(ident: &Identity, ui: UiLang, title: String, path: String, body: String) -> Page {
    Page {
        status: StatusCode::OK,
        lang: ui.lang,
        remember_lang: ui.from_query,
        title,
        body,
        path,
        user: Some(ident.into()),
    }
}

/// `GET /notifications`: the list, and the drafting form over notifiable cases.
pub(crate) async fn list(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let t = |m: Msg| m.get(lang);
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::ViewCases).map_err(fail)?;
    let all = state
        .desk
        .notifications(None)
        .await
        .map_err(|e| fail(e.into()))?;
    let mut body = format!(
        "<h1>{}</h1><table id=\"notifications\"><thead><tr><th>№</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(Msg::Notifications),
        t(Msg::NotificationStatus),
        t(Msg::Category),
        t(Msg::Cases),
        t(Msg::DraftedBy),
        t(Msg::ApprovedBy),
        t(Msg::ContentHash),
    );
    if all.is_empty() {
        let _ = write!(
            body,
            "<tr><td colspan=\"7\" class=\"empty\">{}</td></tr>",
            t(Msg::NoNotifications)
        );
    }
    for n in &all {
        let _ = write!(
            body,
            "<tr class=\"notification-row\" data-id=\"{id}\" data-status=\"{st}\"><td><a href=\"/notifications/{id}\">#{id}</a></td>\
             <td>{status}</td><td>{cat}</td><td>{cases}</td><td>{by}</td><td>{appr}</td><td><code>{sha}</code></td></tr>",
            id = n.id,
            st = n.status.as_str(),
            status = status_text(n.status, lang),
            cat = escape(n.content.violation.get(lang.code())),
            cases = n
                .case_ids()
                .iter()
                .map(|c| format!("<a href=\"/cases/{c}\">#{c}</a>"))
                .collect::<Vec<_>>()
                .join(" "),
            by = escape(&n.drafted_by),
            appr = n
                .signatory
                .as_ref()
                .map(|s| escape(&s.user))
                .unwrap_or_else(|| "—".into()),
            sha = &n.content_sha256[..12],
        );
    }
    body.push_str("</tbody></table>");
    if ident.user.role.allows(Perm::Draft) {
        let cases = state
            .desk
            .notifiable_cases()
            .await
            .map_err(|e| fail(e.into()))?;
        let _ = write!(
            body,
            "<h2>{}</h2><form method=\"post\" action=\"/notifications\" id=\"draft-form\">{}<p class=\"note\">{}</p><ul>",
            t(Msg::DraftNotification),
            csrf_field(ident.csrf()),
            t(Msg::CasesForNotification)
        );
        for c in &cases {
            let _ = write!(
                body,
                "<li><label><input type=\"checkbox\" name=\"case\" value=\"{id}\"> #{id} · {cat} · <span class=\"url\">{url}</span></label></li>",
                id = c.id,
                cat = escape(
                    state
                        .taxonomy
                        .get(&c.category)
                        .map(|x| x.title.get(lang.code()))
                        .unwrap_or(&c.category)
                ),
                url = escape(&c.url),
            );
        }
        let _ = write!(
            body,
            "</ul><button type=\"submit\" id=\"draft\">{}</button></form>",
            t(Msg::DraftNotification)
        );
    }
    Ok(page(
        &ident,
        ui,
        t(Msg::Notifications).to_string(),
        "/notifications".into(),
        body,
    ))
}

fn case_ids(body: &Bytes) -> Result<Vec<i64>, AppError> {
    form_values(body, "case")
        .iter()
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| AppError::BadRequest(format!("case id {v:?} is not a number")))
        })
        .collect()
}

/// `POST /notifications` (`case=ID`, repeated): drafts and shows the new notification.
pub(crate) async fn draft(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    body: Bytes,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Draft).map_err(fail)?;
    let ids = case_ids(&body).map_err(fail)?;
    let n = state
        .desk
        .draft_notification(&ids, &state.taxonomy, ident.name())
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/notifications/{}", n.id)))
}

/// `POST /notifications/{id}/cases` (`case=ID`, repeated): replaces the cases; voids approval.
pub(crate) async fn revise(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Draft).map_err(fail)?;
    let id = nid(&raw).map_err(fail)?;
    let ids = case_ids(&body).map_err(fail)?;
    state
        .desk
        .revise_notification(id, &ids, &state.taxonomy, ident.name())
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/notifications/{id}")))
}

/// `GET /notifications/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let t = |m: Msg| m.get(lang);
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::ViewCases).map_err(fail)?;
    let id = nid(&raw).map_err(fail)?;
    let n = load(&state, id).await.map_err(fail)?;
    state
        .desk
        .audit(
            ident.name(),
            "notification.view",
            &format!("notification:{id}"),
            "",
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let dl = doc_lang(lang);
    let mut body = format!(
        "<p><a href=\"/notifications\">← {}</a></p><h1>{} #{id}</h1><div class=\"grid\"><section>",
        t(Msg::Notifications),
        t(Msg::Notification)
    );
    let approval = match (&n.signatory, n.approval_holds()) {
        (Some(s), true) => format!(
            "{} · {}",
            escape(&s.user),
            s.approved_at.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => "—".into(),
    };
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>{}</dt><dd><span class=\"nstatus\" data-status=\"{st}\">{}</span></dd>\
         <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"approved-by\">{approval}</dd><dt>{}</dt><dd><code id=\"content-sha256\">{}</code></dd>\
         <dt>ID</dt><dd><code id=\"message-id\">{}</code></dd><dt>{}</dt><dd>\
         <a href=\"/notifications/{id}/form2?lang=kk\">HTML kk</a> · <a href=\"/notifications/{id}/form2?lang=ru\">HTML ru</a> · \
         <a href=\"/notifications/{id}/form2.pdf?lang=kk\" id=\"pdf-kk\">PDF kk</a> · <a href=\"/notifications/{id}/form2.pdf?lang=ru\">PDF ru</a></dd></dl>",
        t(Msg::NotificationStatus),
        status_text(n.status, lang),
        t(Msg::DraftedBy),
        escape(&n.drafted_by),
        t(Msg::ApprovedBy),
        t(Msg::ContentHash),
        escape(&n.content_sha256),
        escape(&n.message_id),
        t(Msg::Pdf),
        st = n.status.as_str(),
    );
    if !n.receipts.is_empty() {
        let _ = write!(body, "<h2>{}</h2><ul id=\"receipts\">", t(Msg::Receipts));
        for r in &n.receipts {
            let v = match r.verdict {
                Verdict::Accepted => t(Msg::Accepted),
                Verdict::Rejected => t(Msg::RejectedLine),
            };
            let _ = write!(
                body,
                "<li data-verdict=\"{}\">{} {} (#{}) — {v}: {}</li>",
                r.verdict.as_str(),
                t(Msg::Case),
                r.line,
                r.case_id,
                escape(&r.justification)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section><section class=\"decision\">");
    if n.status == NotificationStatus::Draft && ident.user.role.allows(Perm::Approve) {
        let _ = write!(
            body,
            "<h2>{}</h2><p class=\"note\">{}</p><form method=\"post\" action=\"/notifications/{id}/approve\" id=\"approve-form\">{}\
             <input type=\"hidden\" name=\"sha256\" value=\"{}\"><button type=\"submit\" id=\"approve\">{}</button></form>",
            t(Msg::Approve),
            t(Msg::FourEyes),
            csrf_field(ident.csrf()),
            escape(&n.content_sha256),
            t(Msg::Approve),
        );
    }
    if n.status != NotificationStatus::Sent && ident.user.role.allows(Perm::Draft) {
        let mut boxes = String::new();
        let current = n.case_ids();
        let mut ids = current.clone();
        for c in state
            .desk
            .notifiable_cases()
            .await
            .map_err(|e| fail(e.into()))?
        {
            if c.category == n.content.category {
                ids.push(c.id);
            }
        }
        for c in ids {
            let checked = if current.contains(&c) { " checked" } else { "" };
            let _ = write!(
                boxes,
                "<li><label><input type=\"checkbox\" name=\"case\" value=\"{c}\"{checked}> #{c}</label></li>"
            );
        }
        let _ = write!(
            body,
            "<h2>{}</h2><form method=\"post\" action=\"/notifications/{id}/cases\" id=\"revise-form\">{}<ul>{boxes}</ul>\
             <button type=\"submit\" id=\"revise\">{}</button></form>",
            t(Msg::Edit),
            csrf_field(ident.csrf()),
            t(Msg::Save),
        );
    }
    let _ = write!(
        body,
        "</section></div><h2>{}</h2><div class=\"form-doc\" id=\"form2\">{}</div>",
        t(Msg::Notification),
        notification::body(
            &n.content,
            dl,
            &n.message_id,
            &n.content_sha256,
            n.signatory.as_ref().filter(|_| n.approval_holds())
        )
    );
    Ok(page(
        &ident,
        ui,
        format!("{} #{id}", t(Msg::Notification)),
        format!("/notifications/{id}"),
        body,
    ))
}

/// Form of the approval.
#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    sha256: String,
}

/// `POST /notifications/{id}/approve` (`sha256=` the content hash shown).
pub(crate) async fn approve(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    axum::Form(f): axum::Form<ApproveForm>,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    let id = nid(&raw).map_err(fail)?;
    do_approve(&state, &ident, id, &f.sha256)
        .await
        .map_err(fail)?;
    Ok(Redirect::to(&format!("/notifications/{id}")))
}

async fn do_approve(
    state: &AppState,
    ident: &Identity,
    id: i64,
    sha: &str,
) -> Result<Notification, AppError> {
    // An approval is the official's signature: it needs the interactive login with its second
    // factor, not an API token that a script holds.
    if matches!(ident.via, super::auth::Via::Token) && ident.user.role.allows(Perm::Approve) {
        state
            .desk
            .audit(
                ident.name(),
                "notification.approve_refused",
                &format!("notification:{id}"),
                "api token",
            )
            .await?;
        return Err(AppError::Forbidden(
            "approving is signing: sign in with password and TOTP, an API token cannot approve"
                .into(),
        ));
    }
    if let Err(e) = ident.require(Perm::Approve) {
        state
            .desk
            .audit(
                ident.name(),
                "notification.approve_refused",
                &format!("notification:{id}"),
                "role",
            )
            .await?;
        return Err(e);
    }
    let n = match state.desk.approve_notification(id, sha, ident.name()).await {
        Ok(n) => n,
        Err(e) => {
            state
                .desk
                .audit(
                    ident.name(),
                    "notification.approve_refused",
                    &format!("notification:{id}"),
                    &e.to_string(),
                )
                .await?;
            return Err(match e {
                // Four eyes and role refusals are authorization failures.
                model::StoreError::Conflict(m)
                    if m.contains("four eyes") || m.contains("not an enabled approver") =>
                {
                    AppError::Forbidden(m)
                }
                other => other.into(),
            });
        }
    };
    state.outbox_wake.notify_one();
    Ok(n)
}

/// Query of the document routes.
#[derive(Debug, Deserialize)]
pub(crate) struct DocQuery {
    lang: Option<String>,
}

fn doc_of(n: &Notification, q: &DocQuery, ui: Lang) -> String {
    let l = match q.lang.as_deref() {
        Some("kk") => "kk",
        Some("ru") => "ru",
        _ => doc_lang(ui),
    };
    render_document(
        &n.content,
        l,
        &n.message_id,
        &n.content_sha256,
        n.signatory.as_ref().filter(|_| n.approval_holds()),
    )
}

/// `GET /notifications/{id}/form2?lang=kk|ru`: the standalone document.
pub(crate) async fn document(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    Query(q): Query<DocQuery>,
) -> Result<Response, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::ViewCases).map_err(fail)?;
    let n = load(&state, nid(&raw).map_err(fail)?).await.map_err(fail)?;
    let mut res = doc_of(&n, &q, ui.lang).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    Ok(res)
}

/// `GET /notifications/{id}/form2.pdf?lang=kk|ru`: printed by Chromium.
pub(crate) async fn pdf(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    Query(q): Query<DocQuery>,
) -> Result<Response, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::ViewCases).map_err(fail)?;
    let id = nid(&raw).map_err(fail)?;
    let n = load(&state, id).await.map_err(fail)?;
    let Some(printer) = state.pdf.clone() else {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            "PDF printing is not configured (no Chromium)",
        )
            .into_response());
    };
    let html = doc_of(&n, &q, ui.lang);
    let bytes = tokio::task::spawn_blocking(move || printer.print(&html))
        .await
        .map_err(|e| fail(AppError::Internal(e.to_string())))?
        .map_err(|e| fail(AppError::Internal(format!("PDF printing failed: {e}"))))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"form2-{id}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Body of `POST /api/notifications`.
#[derive(Debug, Deserialize)]
pub(crate) struct DraftBody {
    cases: Vec<i64>,
}

/// `GET /api/notifications`.
pub(crate) async fn api_list(
    State(state): State<AppState>,
    ident: Identity,
) -> Result<Json<Vec<Notification>>, AppError> {
    ident.require(Perm::ViewCases)?;
    Ok(Json(state.desk.notifications(None).await?))
}

/// `POST /api/notifications` `{"cases":[…]}`.
pub(crate) async fn api_draft(
    State(state): State<AppState>,
    ident: Identity,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> Result<Json<Notification>, AppError> {
    ident.require(Perm::Draft)?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(
        state
            .desk
            .draft_notification(&b.cases, &state.taxonomy, ident.name())
            .await?,
    ))
}

/// `GET /api/notifications/{id}`.
pub(crate) async fn api_get(
    State(state): State<AppState>,
    ident: Identity,
    Path(raw): Path<String>,
) -> Result<Json<Notification>, AppError> {
    ident.require(Perm::ViewCases)?;
    let id = nid(&raw)?;
    let n = load(&state, id).await?;
    state
        .desk
        .audit(
            ident.name(),
            "notification.view",
            &format!("notification:{id}"),
            "api",
        )
        .await?;
    Ok(Json(n))
}

/// Body of `POST /api/notifications/{id}/approve`.
#[derive(Debug, Deserialize)]
pub(crate) struct ApproveBody {
    sha256: String,
}

/// `POST /api/notifications/{id}/approve` `{"sha256":"…"}`.
pub(crate) async fn api_approve(
    State(state): State<AppState>,
    ident: Identity,
    Path(raw): Path<String>,
    body: Result<Json<ApproveBody>, JsonRejection>,
) -> Result<Json<Notification>, AppError> {
    let id = nid(&raw)?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(do_approve(&state, &ident, id, &b.sha256).await?))
}

/// Body of `POST /api/notifications/{id}/receipts`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReceiptBody {
    line: u32,
    verdict: Verdict,
    #[serde(default)]
    justification: String,
}

/// `POST /api/notifications/{id}/receipts`: the authority's answer to one line.
pub(crate) async fn api_receipt(
    State(state): State<AppState>,
    ident: Identity,
    Path(raw): Path<String>,
    body: Result<Json<ReceiptBody>, JsonRejection>,
) -> Result<Json<Notification>, AppError> {
    ident.require(Perm::Draft)?;
    let id = nid(&raw)?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(
        state
            .desk
            .record_receipt(id, b.line, b.verdict, &b.justification, ident.name())
            .await?,
    ))
}

/// The case page's notification panel: the notifications containing the case (status, receipt
/// of its line), or a button drafting one for a confirmed blocking case.
pub(crate) async fn case_panel(
    state: &AppState,
    lang: Lang,
    case: &model::Case,
    ident: &Identity,
) -> Result<String, AppError> {
    let t = |m: Msg| m.get(lang);
    let list = state.desk.notifications(Some(case.id)).await?;
    let mut s = format!(
        "<section class=\"work\" id=\"case-notifications\"><h2>{}</h2>",
        t(Msg::Notifications)
    );
    for n in &list {
        let receipt = n.receipts.iter().find(|r| r.case_id == case.id).map(|r| {
            let v = match r.verdict {
                Verdict::Accepted => t(Msg::Accepted),
                Verdict::Rejected => t(Msg::RejectedLine),
            };
            format!(
                " · <span class=\"receipt\" data-verdict=\"{}\">{v}: {}</span>",
                r.verdict.as_str(),
                escape(&r.justification)
            )
        });
        let _ = write!(
            s,
            "<p><a href=\"/notifications/{id}\">{} #{id}</a> · {}{}</p>",
            t(Msg::Notification),
            status_text(n.status, lang),
            receipt.unwrap_or_default(),
            id = n.id,
        );
    }
    let rechecks = state.desk.rechecks(case.id).await?;
    if !rechecks.is_empty() {
        let _ = write!(s, "<h3>{}</h3><ul id=\"rechecks\">", t(Msg::Rechecks));
        for r in &rechecks {
            let mirror = r
                .mirror_url
                .as_deref()
                .map(|m| {
                    format!(
                        " · {}: <span class=\"url\">{}</span>",
                        t(Msg::ProposedMirror),
                        escape(m)
                    )
                })
                .unwrap_or_default();
            let _ = write!(
                s,
                "<li class=\"recheck\" data-outcome=\"{}\">{} · {}{}{}</li>",
                r.outcome.as_str(),
                r.checked_at.format("%Y-%m-%d %H:%M UTC"),
                i18n::outcome(r.outcome, lang),
                r.http_status
                    .map(|c| format!(" · HTTP {c}"))
                    .unwrap_or_default(),
                mirror
            );
        }
        s.push_str("</ul>");
    }
    let draftable = list.is_empty()
        && case.status == model::CaseStatus::Confirmed
        && case.route == Some(model::Route::Blocking)
        && ident.user.role.allows(Perm::Draft);
    if draftable {
        let _ = write!(
            s,
            "<form method=\"post\" action=\"/notifications\">{}<input type=\"hidden\" name=\"case\" value=\"{}\">\
             <button type=\"submit\" id=\"draft-form2\">{}</button></form>",
            csrf_field(ident.csrf()),
            case.id,
            t(Msg::DraftNotification)
        );
    }
    if ident.user.role.allows(Perm::Export) {
        let _ = write!(
            s,
            "<p><a href=\"/cases/{}/bundle.zip\" id=\"bundle\">{}</a></p>",
            case.id,
            t(Msg::EvidenceBundle)
        );
    }
    s.push_str("</section>");
    Ok(s)
}

/// `GET /cases/{id}/bundle.zip`: the evidence bundle of a case (Form 2 PDFs included when a
/// printer is configured).
pub(crate) async fn bundle(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Export).map_err(fail)?;
    let id = super::api::case_id(&raw).map_err(fail)?;
    if model::CaseStore::get_case(state.store.as_ref(), id)
        .await
        .map_err(|e| fail(e.into()))?
        .is_none()
    {
        return Err(fail(AppError::NotFound(format!("case {id} not found"))));
    }
    let (manifest, bytes) = crate::bundle::build_for_case(
        state.desk.as_ref(),
        id,
        &state.blobs_dir,
        state.pdf.as_ref(),
        ident.name(),
    )
    .await
    .map_err(|e| fail(AppError::Internal(e)))?;
    state
        .desk
        .audit(
            ident.name(),
            "case.export",
            &format!("case:{id}"),
            &format!("{} files", manifest.files.len()),
        )
        .await
        .map_err(|e| fail(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"baqylau-case-{id}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
