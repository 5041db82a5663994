//! Form 2 notifications: what goes in (content, built from cases and the taxonomy), its hash (what
//! an approval is bound to), and the document itself in Kazakh and Russian.
//!
//! The content is frozen as data when drafted — violation type and norm from
//! `rules/taxonomy.toml`, one line per fact from the case evidence (URL, domain, IP address
//! connected to, protocol, capture time, screenshot SHA-256) — and hashed. The approver approves
//! that hash; the rendered document, the JSON published onward and the PDF are all produced from
//! the same content, so what was approved is what is sent. A line without a screenshot is refused
//! at drafting: the receiving authority rejects facts it cannot see confirmed.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use model::{Case, Localized, Taxonomy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::forms::{self, FormText};
use crate::web::html::escape;

/// One detected fact: a line of item 3 of Form 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// Line number, from 1.
    pub line: u32,
    /// Case the fact comes from.
    pub case_id: i64,
    /// Capture the evidence comes from.
    pub capture_id: String,
    /// Identifier of the resource / page (URL, after redirects).
    pub url: String,
    /// Domain name.
    pub domain: String,
    /// IP address connected to.
    pub ip: Option<String>,
    /// Protocol type, e.g. `HTTPS (HTTP/1.1)`.
    pub protocol: String,
    /// Capture time (UTC).
    pub captured_at: DateTime<Utc>,
    /// SHA-256 of the evidence screenshot.
    pub screenshot_sha256: String,
    /// Screenshot path under the blobs directory.
    pub screenshot_path: String,
    /// SHA-256 of the raw response body.
    pub body_sha256: Option<String>,
}

/// What a notification says. Its SHA-256 ([`Content::sha256`]) is what an approval binds to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Taxonomy category.
    pub category: String,
    /// 1. Violation type.
    pub violation: Localized,
    /// 2. Norm of the legislative act of RK.
    pub norm: Localized,
    /// 3. Detected facts, one per line.
    pub facts: Vec<Fact>,
}

/// Why content could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    /// No cases given.
    #[error("a notification needs at least one case")]
    Empty,
    /// Cases of different categories (one violation type per Form 2).
    #[error("cases of different categories ({0} and {1}) cannot share one notification")]
    MixedCategories(String, String),
    /// The category is not in the taxonomy.
    #[error("category {0:?} is not in the taxonomy")]
    UnknownCategory(String),
    /// A case has no evidence with a screenshot.
    #[error("case {0} has no evidence screenshot; every line of Form 2 needs one")]
    NoScreenshot(i64),
}

fn protocol(url: &str, http_version: &str) -> String {
    let scheme = url.split("://").next().unwrap_or("").to_ascii_uppercase();
    match (scheme.is_empty(), http_version.is_empty()) {
        (false, false) => format!("{scheme} ({http_version})"),
        (false, true) => scheme,
        _ => http_version.to_string(),
    }
}

fn domain(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

impl Content {
    /// Builds the content of a notification over `cases` (sorted by id): one line per case, from
    /// its latest evidence that has a screenshot.
    pub fn build(cases: &[Case], taxonomy: &Taxonomy) -> Result<Content, ContentError> {
        let first = cases.first().ok_or(ContentError::Empty)?;
        if let Some(other) = cases.iter().find(|c| c.category != first.category) {
            return Err(ContentError::MixedCategories(
                first.category.clone(),
                other.category.clone(),
            ));
        }
        let cat = taxonomy
            .get(&first.category)
            .ok_or_else(|| ContentError::UnknownCategory(first.category.clone()))?;
        let mut sorted: Vec<&Case> = cases.iter().collect();
        sorted.sort_by_key(|c| c.id);
        let mut facts = Vec::new();
        for case in sorted {
            let ev = case
                .evidence
                .iter()
                .rev()
                .find(|e| e.screenshot.is_some())
                .ok_or(ContentError::NoScreenshot(case.id))?;
            let shot = ev
                .screenshot
                .as_ref()
                .ok_or(ContentError::NoScreenshot(case.id))?;
            facts.push(Fact {
                line: facts.len() as u32 + 1,
                case_id: case.id,
                capture_id: ev.capture_id.clone(),
                url: ev.final_url.clone(),
                domain: domain(&ev.final_url),
                ip: ev.ip.clone(),
                protocol: protocol(&ev.final_url, &ev.protocol),
                captured_at: ev.captured_at,
                screenshot_sha256: shot.sha256.clone(),
                screenshot_path: shot.path.clone(),
                body_sha256: ev.body_sha256.clone(),
            });
        }
        Ok(Content {
            category: first.category.clone(),
            violation: cat.title.clone(),
            norm: cat.norm.clone(),
            facts,
        })
    }

    /// Canonical JSON (struct field order, no whitespace).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("content serializes")
    }

    /// SHA-256 of [`Content::canonical_json`], lowercase hex.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }
}

/// The signature block: the approving official.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    /// Login name.
    pub user: String,
    /// Full name.
    pub full_name: String,
    /// Position.
    pub position: String,
    /// When approved.
    pub approved_at: DateTime<Utc>,
}

/// Labels of a fact line.
const FACT_LABELS: [FormText; 5] = [
    FormText {
        kk: "домендік атау",
        ru: "доменное имя",
    },
    FormText {
        kk: "IP-мекенжай",
        ru: "IP-адрес",
    },
    FormText {
        kk: "хаттама түрі",
        ru: "вид протокола",
    },
    FormText {
        kk: "тіркелген уақыты (UTC)",
        ru: "время фиксации (UTC)",
    },
    FormText {
        kk: "скриншоттың SHA-256",
        ru: "SHA-256 скриншота",
    },
];

/// Line under the document identifying it (not part of the official form).
const REFERENCE: FormText = FormText {
    kk: "Хабарлама идентификаторы",
    ru: "Идентификатор уведомления",
};

/// Print stylesheet of the standalone document.
const DOC_STYLE: &str = "body{font:12pt/1.4 'DejaVu Serif','Liberation Serif',serif;margin:2cm;color:#000}\
    .right{text-align:right}.center{text-align:center}h1{font-size:14pt;text-align:center;margin:1em 0}\
    ol li{margin:.4em 0;overflow-wrap:anywhere}.sign{margin-top:2.5em}.caption{font-size:9pt}\
    .note{font-size:10pt}.ref{margin-top:2em;font:8pt 'DejaVu Sans Mono',monospace;color:#333;overflow-wrap:anywhere}\
    .void{color:#b00;font-weight:bold}";

/// The Form 2 document in `lang` (`kk`, else Russian) as a complete HTML page: what is shown,
/// printed to PDF and forwarded. `signatory` is `None` until approved.
pub fn render_document(
    content: &Content,
    lang: &str,
    message_id: &str,
    content_sha256: &str,
    signatory: Option<&Signatory>,
) -> String {
    let l = if lang == "kk" { "kk" } else { "ru" };
    let mut s = format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{title} {id}</title>\
         <style>{DOC_STYLE}</style></head><body><article class=\"form2\">",
        title = forms::NOTIFICATION.get(l),
        id = escape(message_id),
    );
    s.push_str(&body(content, l, message_id, content_sha256, signatory));
    s.push_str("</article></body></html>");
    s
}

/// The document's body (also embedded in the desk's notification page).
pub fn body(
    content: &Content,
    lang: &str,
    message_id: &str,
    content_sha256: &str,
    signatory: Option<&Signatory>,
) -> String {
    let l = if lang == "kk" { "kk" } else { "ru" };
    let mut s = format!(
        "<p class=\"right\">{form}</p><p class=\"center\"><u>{authority}</u><br>\
         <span class=\"caption\">{caption}</span></p><h1>{title}</h1><p>{intro}</p>\
         <p><b>{v_label}</b>: <span class=\"violation\">{violation}</span></p>\
         <p><b>{n_label}</b>: <span class=\"norm\">{norm}</span></p><p><b>{facts}</b></p><ol class=\"facts\">",
        form = forms::FORM.get(l),
        authority = forms::AUTHORITY.get(l),
        caption = forms::AUTHORITY_CAPTION.get(l),
        title = forms::NOTIFICATION.get(l),
        intro = forms::FORM2_INTRO.get(l),
        v_label = forms::FORM2_VIOLATION.get(l),
        violation = escape(content.violation.get(l)),
        n_label = forms::FORM2_NORM.get(l),
        norm = escape(content.norm.get(l)),
        facts = forms::FORM2_FACTS.get(l),
    );
    for f in &content.facts {
        let _ = write!(
            s,
            "<li class=\"fact\" data-case=\"{case}\">{url}; {d}: {domain}; {i}: {ip}; {p}: {proto}; \
             {t}: {time}; {h}: <code>{sha}</code></li>",
            case = f.case_id,
            url = escape(&f.url),
            d = FACT_LABELS[0].get(l),
            domain = escape(&f.domain),
            i = FACT_LABELS[1].get(l),
            ip = escape(f.ip.as_deref().unwrap_or("—")),
            p = FACT_LABELS[2].get(l),
            proto = escape(&f.protocol),
            t = FACT_LABELS[3].get(l),
            time = f.captured_at.format("%Y-%m-%d %H:%M:%S"),
            h = FACT_LABELS[4].get(l),
            sha = escape(&f.screenshot_sha256),
        );
    }
    let (position, name) = match signatory {
        Some(sig) => (escape(&sig.position), escape(&sig.full_name)),
        None => ("____________".to_string(), "____________".to_string()),
    };
    let _ = write!(
        s,
        "</ol><p class=\"certify\">{certify}</p><p class=\"sign\">{signatory}<br>\
         <span class=\"position\">{position}</span> ____________ <span class=\"signer\">{name}</span><br>\
         <span class=\"caption\">{caption}</span></p><p class=\"note\">{note}</p>\
         <p class=\"ref\">{reference}: {id} · SHA-256: {sha}</p>",
        certify = forms::FORM2_CERTIFY.get(l),
        signatory = forms::FORM2_SIGNATORY.get(l),
        caption = forms::FORM2_SIGNATURE_CAPTION.get(l),
        note = forms::FORM2_NOTE.get(l),
        reference = REFERENCE.get(l),
        id = escape(message_id),
        sha = escape(content_sha256),
    );
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use model::{CaseStatus, Evidence, Route, Screenshot, Severity, Source};

    pub(crate) fn taxonomy() -> Taxonomy {
        Taxonomy::from_toml(
            r#"
[[category]]
id = "illegal_gambling"
title = { kk = "Заңсыз ойын бизнесі", ru = "Незаконный игорный бизнес", en = "Illegal gambling" }
norm = { kk = "ҚР ҚК 307-бабы", ru = "ст. 307 УК РК", en = "Art. 307" }
route = "blocking"

[[category]]
id = "illegal_crypto_exchange"
title = { kk = "Лицензиясыз криптовалюта айырбастау", ru = "Незаконный обмен криптовалюты" }
norm = { kk = "ҚР ҚК 214-бабы", ru = "ст. 214 УК РК" }
route = "blocking"
"#,
        )
        .unwrap()
    }

    pub(crate) fn case(id: i64, category: &str, url: &str, shot: bool) -> Case {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Case {
            id,
            dedup_key: format!("{category}|{url}"),
            category: category.into(),
            url: url.into(),
            host: domain(url),
            source: Source::Web,
            status: CaseStatus::Confirmed,
            route: Some(Route::Blocking),
            decision_note: Some("казино".into()),
            decided_by: Some("aigul".into()),
            decided_at: Some(t),
            first_seen: t,
            last_seen: t,
            severity: Severity::High,
            assignee: None,
            status_since: Some(t),
            merged_into: None,
            hits: vec![],
            evidence: vec![Evidence {
                capture_id: format!("cap{id}"),
                captured_at: t,
                url: url.into(),
                final_url: url.into(),
                ip: Some("203.0.113.7".into()),
                http_status: Some(200),
                protocol: "HTTP/1.1".into(),
                body_sha256: Some(model::sha256_hex(b"body")),
                warc: None,
                title: String::new(),
                text: String::new(),
                screenshot: shot.then(|| Screenshot {
                    path: format!("screenshots/{id}.png"),
                    sha256: model::sha256_hex(url.as_bytes()),
                    width: 1280,
                    height: 900,
                    taken_at: t,
                }),
            }],
        }
    }

    #[test]
    fn content_lines_hash_and_document() {
        let tax = taxonomy();
        let cases = [
            case(7, "illegal_gambling", "https://casino-mirror.kz/", true),
            case(3, "illegal_gambling", "http://casino.kz/bonus", true),
        ];
        let c = Content::build(&cases, &tax).unwrap();
        assert_eq!(c.facts.len(), 2);
        assert_eq!((c.facts[0].line, c.facts[0].case_id), (1, 3));
        assert_eq!(c.facts[1].protocol, "HTTPS (HTTP/1.1)");
        assert_eq!(c.facts[0].domain, "casino.kz");
        let h = c.sha256();
        assert_eq!(h, Content::build(&cases, &tax).unwrap().sha256(), "stable");
        assert_ne!(h, Content::build(&cases[..1], &tax).unwrap().sha256());

        let kk = render_document(&c, "kk", "msg-1", &h, None);
        assert!(kk.contains("<html lang=\"kk\">"));
        assert!(kk.contains(forms::FORM2_INTRO.kk));
        assert!(
            kk.contains("1. Бұзушылық түрі</b>: <span class=\"violation\">Заңсыз ойын бизнесі")
        );
        assert!(kk.contains("ҚР ҚК 307-бабы"));
        assert!(kk.contains(forms::FORM2_CERTIFY.kk));
        assert_eq!(kk.matches("<li class=\"fact\"").count(), 2);
        assert!(kk.contains("IP-мекенжай: 203.0.113.7"));
        assert!(kk.contains(&model::sha256_hex(b"http://casino.kz/bonus")));
        let sig = Signatory {
            user: "bolat".into(),
            full_name: "Қасымов Дәурен".into(),
            position: "Департамент директоры".into(),
            approved_at: DateTime::from_timestamp(1_700_000_500, 0).unwrap(),
        };
        let ru = render_document(&c, "ru", "msg-1", &h, Some(&sig));
        assert!(ru.contains("Подтверждаю законность и обоснованность"));
        assert!(ru.contains("ст. 307 УК РК"));
        assert!(ru.contains(
            "Департамент директоры</span> ____________ <span class=\"signer\">Қасымов Дәурен"
        ));
    }

    #[test]
    fn content_refusals() {
        let tax = taxonomy();
        assert_eq!(Content::build(&[], &tax), Err(ContentError::Empty));
        let mixed = [
            case(1, "illegal_gambling", "http://a.kz/", true),
            case(2, "illegal_crypto_exchange", "http://b.kz/", true),
        ];
        assert!(matches!(
            Content::build(&mixed, &tax),
            Err(ContentError::MixedCategories(..))
        ));
        let no_shot = [case(4, "illegal_gambling", "http://a.kz/", false)];
        assert_eq!(
            Content::build(&no_shot, &tax),
            Err(ContentError::NoScreenshot(4))
        );
        let unknown = [case(5, "weather", "http://a.kz/", true)];
        assert!(matches!(
            Content::build(&unknown, &tax),
            Err(ContentError::UnknownCategory(_))
        ));
    }
}
