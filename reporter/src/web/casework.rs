//! The case page's work panel and its forms: assignment, comments, merging a duplicate, the
//! related-cases panel (shared indicators, mirrors), and the age clocks with the overdue flag.
//!
//! Age matters because the law expects blocking requests without delay: the list and the page
//! show how long ago the case was detected and how long it has been in its current status, and
//! flag it overdue once it has been open longer than the deployment's deadline.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use chrono::{DateTime, Duration, Utc};
use model::{Case, CaseStatus};
use serde::Deserialize;

use super::api::case_id;
use super::auth::Identity;
use super::error::{AppError, PageError};
use super::html::{csrf_field, escape};
use super::i18n::{self, Lang, Msg};
use super::{AppState, UiLang};
use crate::auth::Perm;
use crate::store::triage::{Comment, Link, Related};

/// A duration as "3 d 4 h", "5 h 12 min" or "7 min", in `lang`.
pub(crate) fn age(d: Duration, lang: Lang) -> String {
    let [day, hour, min] = match lang {
        Lang::Kk => ["күн", "сағ", "мин"],
        Lang::Ru => ["д", "ч", "мин"],
        Lang::En => ["d", "h", "min"],
    };
    let mins = d.num_minutes().max(0);
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    if d > 0 {
        format!("{d} {day} {h} {hour}")
    } else if h > 0 {
        format!("{h} {hour} {m} {min}")
    } else {
        format!("{m} {min}")
    }
}

/// Whether a case detected at `first_seen` and now in `status` is past the deadline.
pub(crate) fn is_overdue(state: &AppState, first_seen: DateTime<Utc>, status: CaseStatus) -> bool {
    !status.is_closed() && Utc::now() - first_seen > Duration::hours(state.settings.overdue_hours)
}

/// The age cell: time since detection, and the overdue badge.
pub(crate) fn age_cell(
    state: &AppState,
    lang: Lang,
    first_seen: DateTime<Utc>,
    status: CaseStatus,
) -> String {
    let mut s = format!(
        "<span class=\"age\">{}</span>",
        age(Utc::now() - first_seen, lang)
    );
    if is_overdue(state, first_seen, status) {
        let _ = write!(
            s,
            " <span class=\"overdue\">{}</span>",
            Msg::Overdue.get(lang)
        );
    }
    s
}

fn link_text(link: &Link, lang: Lang) -> String {
    match link {
        Link::Shared { indicator, value } => format!(
            "{}: <code>{}</code> <span class=\"note\">({})</span>",
            Msg::SharedIndicator.get(lang),
            escape(value),
            indicator.as_str()
        ),
        Link::NearDuplicate { distance } => format!(
            "{} <span class=\"note\">(SimHash Δ{distance})</span>",
            Msg::NearDuplicate.get(lang)
        ),
        Link::Merged => Msg::MergedInto.get(lang).to_string(),
    }
}

/// Everything the work panel shows besides the case.
pub(crate) struct Work {
    pub(crate) comments: Vec<Comment>,
    pub(crate) related: Vec<Related>,
    pub(crate) indicators: Vec<(crate::indicators::Kind, String)>,
    /// The rendered notification panel.
    pub(crate) notifications: String,
}

impl Work {
    /// Loads the panel's data.
    pub(crate) async fn load(state: &AppState, id: i64) -> Result<Work, AppError> {
        Ok(Work {
            comments: state.desk.comments(id).await?,
            related: state.desk.related(id).await?,
            indicators: state.desk.case_indicators(id).await?,
            notifications: String::new(),
        })
    }
}

/// The work panel: assignment, merge, related cases, indicators, comments.
pub(crate) fn render(
    state: &AppState,
    lang: Lang,
    case: &Case,
    ident: &Identity,
    work: &Work,
) -> String {
    let t = |m: Msg| m.get(lang);
    let csrf = csrf_field(ident.csrf());
    let id = case.id;
    let mut s = String::new();
    if ident.user.role.allows(Perm::Triage) {
        let _ = write!(
            s,
            "<section class=\"work\"><h2>{assignee}</h2>\
             <form method=\"post\" action=\"/cases/{id}/assign\" class=\"inline\">{csrf}\
             <input type=\"hidden\" name=\"assignee\" value=\"{me}\">\
             <button type=\"submit\" id=\"assign-me\">{to_me}</button></form>\
             <form method=\"post\" action=\"/cases/{id}/assign\" class=\"inline\">{csrf}\
             <input name=\"assignee\" placeholder=\"{user}\" maxlength=\"64\">\
             <button type=\"submit\">{assign}</button></form>",
            assignee = t(Msg::Assignee),
            me = escape(ident.name()),
            to_me = t(Msg::AssignToMe),
            user = t(Msg::UserName),
            assign = t(Msg::Assign),
        );
        if case.status.is_open() && case.merged_into.is_none() {
            let _ = write!(
                s,
                "<form method=\"post\" action=\"/cases/{id}/merge\" class=\"inline\">{csrf}\
                 <label>{label}<input name=\"into\" type=\"number\" min=\"1\" required></label>\
                 <button type=\"submit\" id=\"merge\">{merge}</button></form>",
                label = t(Msg::MergeInto),
                merge = t(Msg::Merge),
            );
        }
        s.push_str("</section>");
    }
    let _ = write!(
        s,
        "<section class=\"related\" id=\"related\"><h2>{}</h2>",
        t(Msg::Related)
    );
    if work.related.is_empty() {
        let _ = write!(s, "<p class=\"note\">{}</p>", t(Msg::NoRelated));
    } else {
        s.push_str("<ul>");
        for r in &work.related {
            let links: Vec<String> = r.links.iter().map(|l| link_text(l, lang)).collect();
            let status = CaseStatus::parse(&r.status)
                .map(|st| i18n::status(st, lang))
                .unwrap_or("");
            let _ = write!(
                s,
                "<li class=\"related-case\" data-id=\"{rid}\"><a href=\"/cases/{rid}\">#{rid}</a> \
                 {cat} · <span class=\"url\">{url}</span> · {status}<br>{links}</li>",
                rid = r.case_id,
                cat = escape(
                    state
                        .taxonomy
                        .get(&r.category)
                        .map(|c| c.title.get(lang.code()))
                        .unwrap_or(&r.category)
                ),
                url = escape(&r.url),
                links = links.join("; "),
            );
        }
        s.push_str("</ul>");
    }
    if !work.indicators.is_empty() {
        let _ = write!(
            s,
            "<h3>{}</h3><ul class=\"indicators\">",
            t(Msg::Indicators)
        );
        for (k, v) in &work.indicators {
            let _ = write!(s, "<li>{} <code>{}</code></li>", k.as_str(), escape(v));
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");
    let _ = write!(
        s,
        "<section class=\"comments\" id=\"comments\"><h2>{}</h2>",
        t(Msg::Comments)
    );
    if work.comments.is_empty() {
        let _ = write!(s, "<p class=\"note\">{}</p>", t(Msg::NoComments));
    }
    for c in &work.comments {
        let _ = write!(
            s,
            "<div class=\"comment\"><span class=\"note\">{} · {}</span><p>{}</p></div>",
            escape(&c.author),
            c.at.format("%Y-%m-%d %H:%M UTC"),
            escape(&c.body)
        );
    }
    if ident.user.role.allows(Perm::Comment) {
        let _ = write!(
            s,
            "<form method=\"post\" action=\"/cases/{id}/comments\">{csrf}\
             <textarea name=\"body\" required maxlength=\"4000\"></textarea>\
             <button type=\"submit\" id=\"comment\">{}</button></form>",
            t(Msg::AddComment)
        );
    }
    s.push_str("</section>");
    s
}

/// Field of the assignment form.
#[derive(Debug, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    assignee: String,
}

/// `POST /cases/{id}/assign` (empty assignee: unassign).
pub(crate) async fn assign(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    Form(f): Form<AssignForm>,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Triage).map_err(fail)?;
    let id = case_id(&raw).map_err(fail)?;
    let who = Some(f.assignee.trim()).filter(|a| !a.is_empty());
    state
        .desk
        .assign(id, who, ident.name())
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/cases/{id}")))
}

/// Field of the comment form.
#[derive(Debug, Deserialize)]
pub(crate) struct CommentForm {
    body: String,
}

/// `POST /cases/{id}/comments`.
pub(crate) async fn comment(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Comment).map_err(fail)?;
    let id = case_id(&raw).map_err(fail)?;
    state
        .desk
        .add_comment(id, ident.name(), &f.body)
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/cases/{id}#comments")))
}

/// Field of the merge form.
#[derive(Debug, Deserialize)]
pub(crate) struct MergeForm {
    into: i64,
}

/// `POST /cases/{id}/merge`: this case is a duplicate of `into`.
pub(crate) async fn merge(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(raw): Path<String>,
    Form(f): Form<MergeForm>,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Triage).map_err(fail)?;
    let id = case_id(&raw).map_err(fail)?;
    state
        .desk
        .merge(id, f.into, ident.name())
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/cases/{}", f.into)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Duration::minutes(7), Lang::En), "7 min");
        assert_eq!(age(Duration::minutes(5 * 60 + 12), Lang::Ru), "5 ч 12 мин");
        assert_eq!(age(Duration::hours(76), Lang::Kk), "3 күн 4 сағ");
        assert_eq!(age(Duration::minutes(-3), Lang::En), "0 min");
    }
}
