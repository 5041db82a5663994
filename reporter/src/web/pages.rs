//! The UI screens: the case list and the case page with its evidence and decision forms.
//!
//! The case page is where a person takes the decision the law requires a person to take, so it
//! shows everything the decision rests on in one place: the category and its legal norm, every
//! capture's forensic facts (hashes, time, IP, WARC record), the screenshot, the exact words that
//! fired (marked in the captured text) and the rule behind each hit.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use chrono::{DateTime, Utc};
use model::{
    Case, CaseHit, CaseStatus, CaseSummary, Decision, Evidence, Field, Route, Screenshot, Severity,
    Viewport,
};
use serde::Deserialize;

use super::api::{ListQuery, case_id};
use super::auth::Identity;
use super::error::{AppError, PageError};
use super::highlight::{CONTEXT_BYTES, FULL_TEXT_BYTES, highlight};
use super::html::{Page, csrf_field, escape, url_encode};
use super::i18n::{self, Lang, Msg};
use super::{AppState, UiLang};
use crate::auth::Perm;

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn status_badge(s: CaseStatus, lang: Lang) -> String {
    format!(
        "<span class=\"status\" data-status=\"{}\">{}</span>",
        s.as_str(),
        i18n::status(s, lang)
    )
}

fn severity_badge(s: Severity, lang: Lang) -> String {
    let class = match s {
        Severity::Low => "sev-low",
        Severity::Medium => "sev-medium",
        Severity::High => "sev-high",
    };
    format!("<span class=\"{class}\">{}</span>", i18n::severity(s, lang))
}

fn category_title(state: &AppState, id: &str, lang: Lang) -> String {
    state
        .taxonomy
        .get(id)
        .map(|c| c.title.get(lang.code()))
        .filter(|t| !t.is_empty())
        .unwrap_or(id)
        .to_string()
}

/// `<select>` with an "any" option and `options` as (value, label).
fn select(
    name: &str,
    label: &str,
    any: &str,
    options: &[(String, String)],
    current: &str,
) -> String {
    let mut s = format!("<label>{label}<select name=\"{name}\"><option value=\"\">{any}</option>");
    for (value, text) in options {
        let sel = if value == current { " selected" } else { "" };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            escape(value),
            escape(text)
        );
    }
    s.push_str("</select></label>");
    s
}

/// The case list body.
fn render_list(state: &AppState, lang: Lang, q: &ListQuery, rows: &[CaseSummary]) -> String {
    let t = |m: Msg| m.get(lang);
    let statuses: Vec<(String, String)> = CaseStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), i18n::status(*s, lang).to_string()))
        .collect();
    let categories: Vec<(String, String)> = state
        .taxonomy
        .categories
        .values()
        .map(|c| (c.id.clone(), c.title.get(lang.code()).to_string()))
        .collect();
    let sources: Vec<(String, String)> = ["web", "telegram"]
        .iter()
        .map(|k| (k.to_string(), i18n::source(k, lang).to_string()))
        .collect();
    let cur = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut body = format!("<h1>{}</h1>", t(Msg::Cases));
    let checked = |on: bool| if on { " checked" } else { "" };
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/cases\">{}{}{}{}\
         <label><span><input type=\"checkbox\" name=\"assignee\" value=\"me\"{}> {}</span></label>\
         <label><span><input type=\"checkbox\" name=\"overdue\" value=\"1\"{}> {}</span></label>\
         <button type=\"submit\">{}</button></form>",
        select(
            "status",
            t(Msg::Status),
            t(Msg::Any),
            &statuses,
            &cur(&q.status)
        ),
        select(
            "category",
            t(Msg::Category),
            t(Msg::Any),
            &categories,
            &cur(&q.category)
        ),
        select(
            "source",
            t(Msg::Source),
            t(Msg::Any),
            &sources,
            &cur(&q.source)
        ),
        select(
            "sort",
            t(Msg::Sort),
            t(Msg::SortNewest),
            &[
                ("oldest".to_string(), t(Msg::SortOldest).to_string()),
                ("severity".to_string(), t(Msg::SortSeverity).to_string()),
            ],
            &cur(&q.sort)
        ),
        checked(q.assignee.as_deref() == Some("me")),
        t(Msg::Mine),
        checked(q.overdue.as_deref().is_some_and(|v| !v.is_empty())),
        t(Msg::OverdueOnly),
        t(Msg::Apply),
    );
    if rows.is_empty() {
        let _ = write!(body, "<p class=\"empty\">{}</p>", t(Msg::NoCases));
        // The table stays, empty, so that browser tests find it either way.
    }
    let _ = write!(
        body,
        "<table id=\"cases\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(Msg::Id),
        t(Msg::Category),
        t(Msg::Url),
        t(Msg::Source),
        t(Msg::LastSeen),
        t(Msg::Status),
        t(Msg::Severity),
        t(Msg::Screenshot),
        t(Msg::Assignee),
        t(Msg::Age),
    );
    for c in rows {
        let _ = write!(
            body,
            "<tr class=\"case-row\" data-id=\"{id}\"><td><a class=\"case-link\" href=\"/cases/{id}\">#{id}</a></td>\
             <td><a href=\"/cases?category={cat_q}\">{cat}</a></td><td class=\"url\">{url}</td><td>{src}</td>\
             <td class=\"when\" title=\"{first_t}: {first}\">{last}</td><td>{status}</td><td>{sev}</td><td>{shot}</td><td>{assignee}</td><td>{age}</td></tr>",
            id = c.id,
            cat = escape(&category_title(state, &c.category, lang)),
            cat_q = url_encode(&c.category),
            url = escape(&c.url),
            src = escape(i18n::source(&c.source, lang)),
            first_t = t(Msg::FirstSeen),
            first = time(c.first_seen),
            last = c.last_seen.format("%Y-%m-%d %H:%M"),
            status = status_badge(c.status, lang),
            sev = severity_badge(c.severity, lang),
            shot = if c.has_screenshot {
                t(Msg::Yes)
            } else {
                t(Msg::No)
            },
            assignee = c
                .assignee
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "—".into()),
            age = super::casework::age_cell(state, lang, c.first_seen, c.status),
        );
    }
    body.push_str("</tbody></table>");
    body
}

/// `GET /cases`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    ident.require(Perm::ViewCases).map_err(|e| e.page(lang))?;
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()).page(lang))?;
    let filter = q
        .to_filter(ident.name(), state.settings.overdue_hours)
        .map_err(|e| e.page(lang))?;
    let rows = state
        .store
        .list_cases(&filter)
        .await
        .map_err(|e| AppError::from(e).page(lang))?;
    Ok(Page {
        status: StatusCode::OK,
        lang,
        remember_lang: ui.from_query,
        title: Msg::Cases.get(lang).to_string(),
        body: render_list(&state, lang, &q, &rows),
        path: "/cases".into(),
        user: Some((&ident).into()),
    })
}

/// Facts table (`<dl>`) from (label, already-escaped HTML) pairs.
fn facts(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"facts\">");
    for (label, value) in rows {
        let _ = write!(s, "<dt>{label}</dt><dd>{value}</dd>");
    }
    s.push_str("</dl>");
    s
}

fn opt(v: Option<&str>) -> String {
    v.map(escape).unwrap_or_else(|| "—".into())
}

/// Spans of `hits` in one field of one capture.
fn spans_of<'a>(
    hits: &'a [&'a CaseHit],
    field: Field,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    hits.iter()
        .flat_map(move |h| h.spans_in(field))
        .map(|s| (s.start, s.end))
}

/// The evidence's screenshots, desktop first; `shots` falls back to the evidence's one screenshot
/// when the store keeps no others.
fn render_evidence(
    state: &AppState,
    lang: Lang,
    ev: &Evidence,
    shots: &[(Viewport, Screenshot)],
    hits: &[&CaseHit],
) -> String {
    let t = |m: Msg| m.get(lang);
    let mut s = String::from("<article class=\"evidence\">");
    let _ = write!(
        s,
        "<h3>{} · <code>{}</code></h3><div class=\"shot\">",
        time(ev.captured_at),
        escape(&ev.capture_id)
    );
    let single: Vec<(Viewport, Screenshot)>;
    let shots = if shots.is_empty() {
        single = ev
            .screenshot
            .iter()
            .map(|sh| (Viewport::Desktop, sh.clone()))
            .collect();
        &single
    } else {
        shots
    };
    let view_name = |v: Viewport| match v {
        Viewport::Desktop => t(Msg::DesktopView),
        Viewport::Mobile => t(Msg::MobileView),
    };
    if shots.is_empty() {
        let _ = write!(s, "<p class=\"note\">{}</p>", t(Msg::NoScreenshot));
    }
    for (viewport, shot) in shots {
        let src = format!("/blobs/{}", escape(&shot.path));
        // Thumbnails: a desktop page 320 px wide, a phone page 160 px wide.
        let thumb = match viewport {
            Viewport::Desktop => 320u64,
            Viewport::Mobile => 160,
        };
        let _ = write!(
            s,
            "<figure class=\"viewport-{vp}\"><a href=\"{src}\" target=\"_blank\">\
             <img class=\"screenshot\" src=\"{src}\" alt=\"{alt} · {name}\" width=\"{w}\" \
             height=\"{h}\" loading=\"lazy\"></a><figcaption>{name} · {w_px}×{h_px}\
             </figcaption></figure>",
            vp = viewport.as_str(),
            alt = t(Msg::Screenshot),
            name = view_name(*viewport),
            w = u64::from(shot.width).min(thumb),
            h = (u64::from(shot.height) * thumb / u64::from(shot.width.max(1))).min(420),
            w_px = shot.width,
            h_px = shot.height,
        );
    }
    let shot_sha = if shots.is_empty() {
        "—".to_string()
    } else {
        shots
            .iter()
            .map(|(v, sh)| {
                format!(
                    "{}: <span class=\"sha256\" data-viewport=\"{}\">{}</span>",
                    view_name(*v),
                    v.as_str(),
                    escape(&sh.sha256)
                )
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let body_sha = ev
        .body_sha256
        .as_deref()
        .map(|h| format!("<span class=\"sha256\">{}</span>", escape(h)))
        .unwrap_or_else(|| "—".into());
    s.push_str(&facts(&[
        (t(Msg::ScreenshotSha), shot_sha),
        (t(Msg::BodySha), body_sha),
        (t(Msg::CapturedAt), time(ev.captured_at)),
        (t(Msg::Url), escape(&ev.url)),
        (t(Msg::FinalUrl), escape(&ev.final_url)),
        (t(Msg::Ip), opt(ev.ip.as_deref())),
        (
            t(Msg::HttpStatus),
            ev.http_status.map_or("—".into(), |c| c.to_string()),
        ),
        (
            t(Msg::Protocol),
            opt(Some(ev.protocol.as_str()).filter(|p| !p.is_empty())),
        ),
        (
            t(Msg::WarcRecord),
            ev.warc
                .as_ref()
                .map(|w| format!("<code>{}</code>", escape(&w.record_id)))
                .unwrap_or_else(|| "—".into()),
        ),
    ]));
    s.push_str("</div>");

    let _ = write!(s, "<h4>{}</h4>", t(Msg::MatchedText));
    if !ev.title.is_empty() {
        let title = highlight(
            &ev.title,
            spans_of(hits, Field::Title),
            FULL_TEXT_BYTES,
            CONTEXT_BYTES,
        );
        let _ = write!(
            s,
            "<p><span class=\"note\">{}:</span> <span class=\"page-title\">{}</span></p>",
            t(Msg::PageTitle),
            title.html
        );
    }
    let text = highlight(
        &ev.text,
        spans_of(hits, Field::Text),
        FULL_TEXT_BYTES,
        CONTEXT_BYTES,
    );
    if text.abridged {
        let _ = write!(s, "<p class=\"note\">{}</p>", t(Msg::Fragments));
    }
    let _ = write!(s, "<div class=\"text\">{}</div>", text.html);

    let _ = write!(
        s,
        "<h4>{}</h4><table class=\"rules\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th></tr></thead><tbody>",
        t(Msg::RuleExplanation),
        t(Msg::Rule),
        t(Msg::Version),
        t(Msg::Title),
        t(Msg::Severity),
        t(Msg::Score),
        t(Msg::Expression),
    );
    for h in hits {
        let info = state.rules.get(&h.rule);
        let version = match info {
            Some(r) if r.version != h.rule_version => format!(
                "{} <span class=\"note\">({} {})</span>",
                h.rule_version,
                t(Msg::CurrentVersion),
                r.version
            ),
            _ => h.rule_version.to_string(),
        };
        let (title, expr) = match info {
            Some(r) => (
                escape(r.title.get(lang.code())),
                format!("<code>{}</code>", escape(&r.expr)),
            ),
            None => (
                format!("<span class=\"note\">{}</span>", t(Msg::RuleNotLoaded)),
                "—".into(),
            ),
        };
        let _ = write!(
            s,
            "<tr class=\"hit\"><td><code>{}</code></td><td>{version}</td><td>{title}</td><td>{}</td>\
             <td>{:.2}</td><td>{expr}</td></tr>",
            escape(&h.rule),
            severity_badge(h.severity, lang),
            h.score,
        );
    }
    s.push_str("</tbody></table></article>");
    s
}

fn render_decision(state: &AppState, lang: Lang, case: &Case, ident: &Identity) -> String {
    let t = |m: Msg| m.get(lang);
    if !ident.user.role.allows(Perm::Triage) {
        return String::new();
    }
    if !case.status.is_open() {
        return format!("<p class=\"note\">{}</p>", t(Msg::AlreadyDecided));
    }
    let default_route = state.taxonomy.get(&case.category).map(|c| c.route);
    let mut options = String::new();
    for r in Route::ALL {
        let sel = if Some(r) == default_route {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            options,
            "<option value=\"{}\"{sel}>{}</option>",
            r.as_str(),
            i18n::route(r, lang)
        );
    }
    format!(
        "<form method=\"post\" action=\"/cases/{id}/decision\" class=\"confirm\">{csrf}\
         <input type=\"hidden\" name=\"action\" value=\"confirm\">\
         <label>{route}<br><select name=\"route\" required>{options}</select></label>\
         <label>{just}<textarea name=\"justification\" required maxlength=\"4000\"></textarea></label>\
         <button type=\"submit\" id=\"confirm\">{confirm}</button></form>\
         <form method=\"post\" action=\"/cases/{id}/decision\" class=\"dismiss\">{csrf}\
         <input type=\"hidden\" name=\"action\" value=\"dismiss\">\
         <label>{reason}<textarea name=\"reason\" required maxlength=\"4000\"></textarea></label>\
         <button type=\"submit\" id=\"dismiss\">{dismiss}</button></form>",
        id = case.id,
        csrf = csrf_field(ident.csrf()),
        route = t(Msg::Route),
        just = t(Msg::Justification),
        confirm = t(Msg::Confirm),
        reason = t(Msg::Reason),
        dismiss = t(Msg::Dismiss),
    )
}

/// The case page body.
fn render_case(
    state: &AppState,
    lang: Lang,
    case: &Case,
    ident: &Identity,
    work: &super::casework::Work,
    screenshots: &[Vec<(Viewport, Screenshot)>],
) -> String {
    let t = |m: Msg| m.get(lang);
    let category = state.taxonomy.get(&case.category);
    let title = category_title(state, &case.category, lang);
    let mut body = format!(
        "<p><a href=\"/cases\">{}</a></p><h1>{} #{} · {}</h1>",
        t(Msg::BackToList),
        t(Msg::Case),
        case.id,
        escape(&title)
    );
    body.push_str("<div class=\"grid\"><section class=\"summary\">");
    body.push_str(&facts(&[
        (
            t(Msg::Category),
            format!("{} <code>{}</code>", escape(&title), escape(&case.category)),
        ),
        (
            t(Msg::LegalNorm),
            opt(category.map(|c| c.norm.get(lang.code()))),
        ),
        (
            t(Msg::DefaultRoute),
            category.map_or("—".into(), |c| i18n::route(c.route, lang).to_string()),
        ),
        (
            t(Msg::Url),
            format!("<span class=\"url\">{}</span>", escape(&case.url)),
        ),
        (t(Msg::Host), escape(&case.host)),
        (
            t(Msg::Source),
            escape(i18n::source(case.source.kind(), lang)),
        ),
        (t(Msg::Status), status_badge(case.status, lang)),
        (t(Msg::Severity), severity_badge(case.severity, lang)),
        (t(Msg::FirstSeen), time(case.first_seen)),
        (t(Msg::LastSeen), time(case.last_seen)),
        (
            t(Msg::Age),
            super::casework::age_cell(state, lang, case.first_seen, case.status),
        ),
        (
            t(Msg::InStatus),
            case.status_since.map_or("—".into(), |s| {
                super::casework::age(chrono::Utc::now() - s, lang)
            }),
        ),
        (
            t(Msg::Assignee),
            case.assignee
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| t(Msg::Unassigned).to_string()),
        ),
        (
            t(Msg::MergedInto),
            case.merged_into
                .map_or("—".into(), |p| format!("<a href=\"/cases/{p}\">#{p}</a>")),
        ),
        (t(Msg::Hits), case.hits.len().to_string()),
        (
            t(Msg::Route),
            case.route
                .map_or("—".into(), |r| i18n::route(r, lang).to_string()),
        ),
        (t(Msg::DecisionNote), opt(case.decision_note.as_deref())),
        (t(Msg::DecidedBy), opt(case.decided_by.as_deref())),
        (t(Msg::DecidedAt), case.decided_at.map_or("—".into(), time)),
    ]));
    let _ = write!(
        body,
        "</section><section class=\"decision\"><h2>{}</h2>{}</section></div>",
        t(Msg::Decision),
        render_decision(state, lang, case, ident)
    );
    body.push_str(&work.notifications);
    body.push_str(&super::casework::render(state, lang, case, ident, work));
    let _ = write!(body, "<h2>{}</h2>", t(Msg::Evidence));
    for (ev, shots) in case.evidence.iter().zip(screenshots).rev() {
        let hits: Vec<&CaseHit> = case
            .hits
            .iter()
            .filter(|h| h.capture_id == ev.capture_id)
            .collect();
        body.push_str(&render_evidence(state, lang, ev, shots, &hits));
    }
    body
}

/// `GET /cases/{id}`: shows the case; a `new` case goes `in_review`, since a person now looks.
pub(crate) async fn detail(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::ViewCases).map_err(fail)?;
    let id = case_id(&raw).map_err(fail)?;
    let actor = ident.name().to_string();
    let load = || async {
        state
            .store
            .get_case(id)
            .await
            .map_err(|e| fail(e.into()))?
            .ok_or_else(|| fail(AppError::NotFound(format!("case {id} not found"))))
    };
    let mut case = load().await?;
    state
        .desk
        .audit(&actor, "case.view", &format!("case:{id}"), "")
        .await
        .map_err(|e| fail(e.into()))?;
    if case.status == CaseStatus::New && ident.user.role.allows(Perm::Triage) {
        match state.store.start_review(id, &actor).await {
            Ok(()) => case = load().await?,
            // Decided by someone else in between: show what it is now.
            Err(model::StoreError::Conflict(_)) => case = load().await?,
            Err(e) => return Err(fail(e.into())),
        }
    }
    let mut work = super::casework::Work::load(&state, id)
        .await
        .map_err(fail)?;
    work.notifications = super::notifications::case_panel(&state, lang, &case, &ident)
        .await
        .map_err(fail)?;
    // Every viewport's screenshot of each evidence (desktop and mobile), in evidence order.
    let mut screenshots = Vec::with_capacity(case.evidence.len());
    for ev in &case.evidence {
        let shots = state
            .store
            .screenshots(id, &ev.capture_id)
            .await
            .map_err(|e| fail(e.into()))?;
        screenshots.push(shots);
    }
    Ok(Page {
        status: StatusCode::OK,
        lang,
        remember_lang: ui.from_query,
        title: format!("{} #{id}", Msg::Case.get(lang)),
        body: render_case(&state, lang, &case, &ident, &work, &screenshots),
        path: format!("/cases/{id}"),
        user: Some((&ident).into()),
    })
}

/// The decision forms' fields.
#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    action: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    reason: String,
}

impl DecisionForm {
    fn into_decision(self) -> Result<Decision, AppError> {
        match self.action.as_str() {
            "confirm" => {
                let route = Route::parse(&self.route).ok_or_else(|| {
                    AppError::BadRequest(format!("unknown route {:?}", self.route))
                })?;
                Ok(Decision::Confirm {
                    route,
                    justification: self.justification,
                })
            }
            "dismiss" => Ok(Decision::Dismiss {
                reason: self.reason,
            }),
            other => Err(AppError::BadRequest(format!("unknown action {other:?}"))),
        }
    }
}

/// `POST /cases/{id}/decision`: records the decision and goes back to the case page.
pub(crate) async fn decide(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let lang = ui.lang;
    let fail = |e: AppError| e.page(lang);
    let id = case_id(&raw).map_err(fail)?;
    let Form(form) = form.map_err(|e| fail(AppError::BadRequest(e.body_text())))?;
    let decision = form.into_decision().map_err(fail)?;
    record_decision(&state, &ident, id, &decision)
        .await
        .map_err(fail)?;
    Ok(Redirect::to(&format!("/cases/{id}")))
}

/// Applies a decision for `ident` (who must hold [`Perm::Triage`]) and audits it.
pub(crate) async fn record_decision(
    state: &AppState,
    ident: &Identity,
    id: i64,
    decision: &Decision,
) -> Result<Case, AppError> {
    ident.require(Perm::Triage)?;
    let case = state.store.decide(id, decision, ident.name()).await?;
    let (action, detail) = match decision {
        Decision::Confirm {
            route,
            justification,
        } => (
            "case.confirm",
            format!("{}: {}", route.as_str(), justification.trim()),
        ),
        Decision::Dismiss { reason } => ("case.dismiss", reason.trim().to_string()),
    };
    state
        .desk
        .audit(ident.name(), action, &format!("case:{id}"), &detail)
        .await?;
    Ok(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_to_decision_table() {
        let form = |action: &str, route: &str, j: &str, r: &str| DecisionForm {
            csrf: String::new(),
            action: action.into(),
            route: route.into(),
            justification: j.into(),
            reason: r.into(),
        };
        let ok = form("confirm", "criminal", "пирамида", "")
            .into_decision()
            .unwrap();
        assert_eq!(
            ok,
            Decision::Confirm {
                route: Route::Criminal,
                justification: "пирамида".into()
            }
        );
        let ok = form("dismiss", "", "", "жаңалық мақаласы")
            .into_decision()
            .unwrap();
        assert!(matches!(ok, Decision::Dismiss { .. }));
        for bad in [form("confirm", "jail", "x", ""), form("delete", "", "", "")] {
            assert!(matches!(bad.into_decision(), Err(AppError::BadRequest(_))));
        }
    }

    #[test]
    fn time_is_utc() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(time(t), "2023-11-14 22:13:20 UTC");
    }
}
