//! `GET /search`: full-text search over everything the crawler captured — not only flagged
//! pages — with the filters an analyst narrows by: category (captures that are evidence of a
//! case of it), source, content language, host and fetch dates.
//!
//! The reporter does not know the index: the binary passes a [`model::SearchBackend`] in
//! [`AppState::search`]. Without one (a deployment without an index) the page says so.
//! The UI language stays `?lang=`; the content-language filter is `?language=`.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use model::{SearchRequest, SearchResult};
use serde::Deserialize;

use super::auth::Identity;
use super::error::{AppError, PageError};
use super::html::{Page, escape};
use super::i18n::Lang;
use super::{AppState, UiLang};
use crate::auth::Perm;

/// Results shown per search.
const LIMIT: usize = 50;

/// Query parameters of `GET /search`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

impl SearchForm {
    fn is_empty(&self) -> bool {
        [
            &self.q,
            &self.category,
            &self.source,
            &self.language,
            &self.host,
            &self.since,
            &self.until,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }

    fn request(&self) -> Result<SearchRequest, AppError> {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        Ok(SearchRequest {
            text: self.q.trim().to_string(),
            limit: LIMIT,
            category: opt(&self.category),
            source: opt(&self.source),
            lang: opt(&self.language),
            host: opt(&self.host),
            since: date(&self.since)?,
            until: date(&self.until)?,
        })
    }
}

/// `YYYY-MM-DD` (midnight UTC); empty is no bound.
fn date(v: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
        .map_err(|_| AppError::BadRequest(format!("date {v:?}: expected YYYY-MM-DD")))
}

/// Labels of the page in the UI language.
fn label(lang: Lang, key: &str) -> &'static str {
    let (kk, ru, en) = match key {
        "title" => ("Іздеу", "Поиск", "Search"),
        "query" => ("Сөздер", "Слова", "Words"),
        "category" => ("Санат", "Категория", "Category"),
        "source" => ("Дереккөз", "Источник", "Source"),
        "language" => ("Мәтін тілі", "Язык текста", "Text language"),
        "host" => ("Хост", "Хост", "Host"),
        "since" => ("Бастап", "С", "From"),
        "until" => ("Дейін", "До", "Until"),
        "any" => ("кез келген", "любой", "any"),
        "submit" => ("Іздеу", "Искать", "Search"),
        "none" => ("Ештеңе табылмады.", "Ничего не найдено.", "Nothing found."),
        "results" => ("нәтиже", "результатов", "results"),
        "unavailable" => (
            "Бұл орнатуда іздеу индексі жоқ.",
            "В этой установке нет поискового индекса.",
            "This deployment has no search index.",
        ),
        _ => ("", "", ""),
    };
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// `GET /search`.
pub(crate) async fn page(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    query: Result<Query<SearchForm>, axum::extract::rejection::QueryRejection>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    ident.require(Perm::ViewCases).map_err(|e| e.page(lang))?;
    let Query(form) = query.map_err(|e| AppError::BadRequest(e.body_text()).page(lang))?;
    let mut body = format!("<h1>{}</h1>", label(lang, "title"));
    body.push_str(&render_form(&state, lang, &form));
    let mut status = StatusCode::OK;
    match &state.search {
        None => {
            status = StatusCode::SERVICE_UNAVAILABLE;
            let _ = write!(
                body,
                "<p class=\"error\">{}</p>",
                label(lang, "unavailable")
            );
        }
        Some(_) if form.is_empty() => {}
        Some(backend) => {
            let request = form.request().map_err(|e| e.page(lang))?;
            let results = backend
                .search(&request)
                .await
                .map_err(|e| AppError::BadRequest(e.0).page(lang))?;
            body.push_str(&render_results(lang, &results));
        }
    }
    Ok(Page {
        status,
        lang,
        remember_lang: ui.from_query,
        title: label(lang, "title").to_string(),
        body,
        path: "/search".into(),
        user: Some((&ident).into()),
    })
}

fn render_form(state: &AppState, lang: Lang, f: &SearchForm) -> String {
    let l = |k: &str| label(lang, k);
    let select = |name: &str, current: &str, options: &[(String, String)]| {
        let mut s = format!(
            "<label>{}<select name=\"{name}\"><option value=\"\">{}</option>",
            l(name),
            l("any")
        );
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
    };
    let categories: Vec<(String, String)> = state
        .taxonomy
        .categories
        .values()
        .map(|c| {
            let code = match lang {
                Lang::Kk => "kk",
                Lang::Ru => "ru",
                Lang::En => "en",
            };
            (c.id.clone(), c.title.get(code).to_string())
        })
        .collect();
    let sources = [("web", "web"), ("telegram", "Telegram")].map(|(a, b)| (a.into(), b.into()));
    let langs = [
        ("kk", "қазақша"),
        ("ru", "русский"),
        ("en", "English"),
        ("mixed", "mixed"),
    ]
    .map(|(a, b)| (a.into(), b.into()));
    let input = |name: &str, value: &str, kind: &str| {
        format!(
            "<label>{}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label>",
            l(name),
            escape(value)
        )
    };
    format!(
        "<form method=\"get\" action=\"/search\" class=\"filters\">{}{}{}{}{}{}{}<button>{}</button></form>",
        input("q", &f.q, "search"),
        select("category", &f.category, &categories),
        select("source", &f.source, &sources),
        select("language", &f.language, &langs),
        input("host", &f.host, "text"),
        input("since", &f.since, "date"),
        input("until", &f.until, "date"),
        l("submit")
    )
}

fn render_results(lang: Lang, results: &[SearchResult]) -> String {
    if results.is_empty() {
        return format!("<p>{}</p>", label(lang, "none"));
    }
    let mut s = format!(
        "<p>{} {}</p><ol class=\"results\">",
        results.len(),
        label(lang, "results")
    );
    for r in results {
        // snippet_html comes from the index already escaped, with <b> around matched words
        let _ = write!(
            s,
            "<li><a href=\"{url}\" rel=\"noreferrer noopener\">{title}</a> <code>{url}</code><br>\
             <small>{time} · {source} · {lang} · {host}</small><p class=\"snippet\">{snippet}</p></li>",
            url = escape(&r.url),
            title = escape(if r.title.is_empty() { &r.url } else { &r.title }),
            time = r.fetched_at.format("%Y-%m-%d %H:%M UTC"),
            source = escape(&r.source),
            lang = escape(r.lang.as_deref().unwrap_or("—")),
            host = escape(&r.host),
            snippet = r.snippet_html,
        );
    }
    s.push_str("</ol>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_turns_into_a_request() {
        let f = SearchForm {
            q: " казино ".into(),
            category: "illegal_gambling".into(),
            language: "kk".into(),
            since: "2026-01-02".into(),
            ..SearchForm::default()
        };
        let r = f.request().unwrap();
        assert_eq!(r.text, "казино");
        assert_eq!(r.category.as_deref(), Some("illegal_gambling"));
        assert_eq!(r.lang.as_deref(), Some("kk"));
        assert_eq!(r.source, None);
        assert_eq!(r.since.unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert!(SearchForm::default().is_empty());
        let bad = SearchForm {
            until: "02.01.2026".into(),
            ..SearchForm::default()
        };
        assert!(bad.request().is_err());
    }

    #[test]
    fn results_escape_everything_but_the_snippet_marks() {
        let r = SearchResult {
            capture_id: "c".into(),
            url: "https://x.kz/?a=<b>".into(),
            title: "<script>".into(),
            host: "x.kz".into(),
            source: "web".into(),
            lang: Some("ru".into()),
            fetched_at: DateTime::from_timestamp(0, 0).unwrap(),
            score: 1.0,
            snippet_html: "лучшее <b>казино</b> &lt;x&gt;".into(),
        };
        let html = render_results(Lang::Ru, &[r]);
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<b>казино</b>"));
        assert!(html.contains("https://x.kz/?a=&lt;b&gt;"));
    }
}
