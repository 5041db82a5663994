//! HTML building blocks: escaping and the page frame shared by every screen.
//!
//! Pages are plain strings assembled on the server — no template engine, no JavaScript framework,
//! nothing fetched from a CDN (the UI runs inside a closed network). The only rule that matters
//! for safety is here: everything that comes from a crawled page or a user goes through
//! [`escape`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::i18n::{Lang, Msg};

/// The stylesheet, served inline in every page.
const STYLE: &str = include_str!("style.css");

/// Content-Security-Policy of every page: nothing loads from outside the server, no scripts.
const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A rendered page: status, language (remembered in a cookie when chosen by `?lang=`) and body.
pub struct Page {
    /// HTTP status.
    pub status: StatusCode,
    /// Language the page is in.
    pub lang: Lang,
    /// Set the language cookie.
    pub remember_lang: bool,
    /// `<title>`.
    pub title: String,
    /// Inner HTML of `<main>`.
    pub body: String,
    /// Path of the current page without query, for the language switcher.
    pub path: String,
    /// The signed-in user (header: name, role, navigation, sign-out form).
    pub user: Option<PageUser>,
}

/// What the page header shows about the signed-in user.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: crate::auth::Role,
    /// CSRF token for the sign-out form.
    pub csrf: String,
}

impl From<&super::auth::Identity> for PageUser {
    fn from(i: &super::auth::Identity) -> Self {
        PageUser {
            name: i.user.name.clone(),
            role: i.user.role,
            csrf: i.csrf().to_string(),
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    )
}

impl Page {
    /// The full HTML document.
    pub fn document(&self) -> String {
        let lang = self.lang;
        let switcher: String = Lang::ALL
            .iter()
            .map(|l| {
                let current = if *l == lang {
                    " aria-current=\"true\""
                } else {
                    ""
                };
                format!(
                    "<a href=\"{}?lang={}\"{current}>{}</a>",
                    escape(&self.path),
                    l.code(),
                    l.code()
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let (nav, who) = match &self.user {
            Some(u) => {
                let mut nav = format!(
                    "<a href=\"/cases\">{}</a><a href=\"/notifications\">{}</a>",
                    Msg::Cases.get(lang),
                    Msg::Notifications.get(lang)
                );
                if u.role.allows(crate::auth::Perm::Admin) {
                    nav.push_str(&format!(
                        "<a href=\"/admin/users\">{}</a>",
                        Msg::Admin.get(lang)
                    ));
                }
                let who = format!(
                    "<span class=\"who\" id=\"whoami\" data-role=\"{role}\">{name} · {role_t}</span>\
                     <form method=\"post\" action=\"/logout\" class=\"logout\">{csrf}\
                     <button type=\"submit\" id=\"logout\">{out}</button></form>",
                    role = u.role.as_str(),
                    name = escape(&u.name),
                    role_t = super::i18n::role(u.role, lang),
                    csrf = csrf_field(&u.csrf),
                    out = Msg::Logout.get(lang),
                );
                (nav, who)
            }
            None => (String::new(), String::new()),
        };
        format!(
            "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · baqylau</title><style>{STYLE}</style></head><body>\
             <header><a class=\"brand\" href=\"/cases\">baqylau</a>\
             <nav>{nav}</nav>\
             <div class=\"langs\" title=\"{language}\">{switcher}</div>{who}</header>\
             <main>{body}</main></body></html>",
            code = lang.code(),
            title = escape(&self.title),
            language = Msg::Language.get(lang),
            body = self.body,
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.document()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.remember_lang {
            let cookie = format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                self.lang.code()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                h.insert(header::SET_COOKIE, v);
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let cases = [
            ("", ""),
            ("қазақша мәтін", "қазақша мәтін"),
            (
                "<script>alert('x')</script>",
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
            ),
            ("a & \"b\"", "a &amp; &quot;b&quot;"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want);
        }
    }

    #[test]
    fn url_encode_cyrillic_and_reserved() {
        assert_eq!(url_encode("a b&c"), "a%20b%26c");
        assert_eq!(url_encode("ә"), "%D3%99");
        assert_eq!(url_encode("illegal_gambling"), "illegal_gambling");
    }
}
