//! Administration pages: users, the Form 1 staff list (HTML and CSV), the half-yearly list of
//! inactive accounts, and the audit chain. Admin role only; every change is audited.
//!
//! Form 1 lists enabled analysts and approvers — the staff who enter unlawful-content facts into
//! the information system (Order 409, para 5) — with the columns the form prescribes.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::auth::Identity;
use super::error::{AppError, PageError};
use super::html::{Page, csrf_field, escape};
use super::i18n::{self, Lang, Msg};
use super::{AppState, UiLang};
use crate::auth::{NewUser, Perm, Role, User};
use crate::forms;

fn time(t: Option<DateTime<Utc>>, lang: Lang) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| Msg::Never.get(lang).to_string())
}

fn page(ident: &Identity, ui: UiLang, title: Msg, path: &str, body: String) -> Page {
    Page {
        status: StatusCode::OK,
        lang: ui.lang,
        remember_lang: ui.from_query,
        title: title.get(ui.lang).to_string(),
        body,
        path: path.into(),
        user: Some(ident.into()),
    }
}

fn admin_nav(lang: Lang) -> String {
    let t = |m: Msg| m.get(lang);
    format!(
        "<nav class=\"subnav\"><a href=\"/admin/users\">{}</a> · <a href=\"/admin/form1\">{}</a> · \
         <a href=\"/admin/inactive\">{}</a> · <a href=\"/admin/audit\">{}</a></nav>",
        t(Msg::Users),
        t(Msg::Form1),
        t(Msg::Inactive),
        t(Msg::Audit)
    )
}

fn user_table(users: &[User], lang: Lang, csrf: Option<&str>) -> String {
    let t = |m: Msg| m.get(lang);
    let mut s = format!(
        "<table id=\"users\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(Msg::UserName),
        t(Msg::Role),
        t(Msg::FullName),
        t(Msg::Position),
        t(Msg::Email),
        t(Msg::Mobile),
        t(Msg::Totp),
        t(Msg::LastActive),
        t(Msg::Disabled),
    );
    for u in users {
        let toggle = match csrf {
            Some(c) => format!(
                "<form method=\"post\" action=\"/admin/users/{name}/disabled\">{}\
                 <input type=\"hidden\" name=\"disabled\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                csrf_field(c),
                !u.disabled,
                if u.disabled {
                    t(Msg::Enable)
                } else {
                    t(Msg::Disable)
                },
                name = super::html::url_encode(&u.name),
            ),
            None => String::new(),
        };
        let _ = write!(
            s,
            "<tr class=\"user-row\" data-name=\"{name}\"><td>{name}</td><td>{role}</td><td>{full}</td>\
             <td>{pos}</td><td>{email}</td><td>{mobile}</td><td>{totp}</td><td>{active}</td>\
             <td>{dis} {toggle}</td></tr>",
            name = escape(&u.name),
            role = i18n::role(u.role, lang),
            full = escape(&u.full_name),
            pos = escape(&u.position),
            email = escape(&u.email),
            mobile = escape(&u.mobile),
            totp = if u.has_totp { t(Msg::Yes) } else { t(Msg::No) },
            active = time(u.last_active_at, lang),
            dis = if u.disabled { t(Msg::Yes) } else { t(Msg::No) },
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// `GET /admin/users`.
pub(crate) async fn users(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    ident.require(Perm::Admin).map_err(|e| e.page(lang))?;
    let users = state
        .desk
        .list_users()
        .await
        .map_err(|e| AppError::from(e).page(lang))?;
    Ok(page(
        &ident,
        ui,
        Msg::Users,
        "/admin/users",
        render_users(&users, lang, ident.csrf(), None),
    ))
}

fn render_users(users: &[User], lang: Lang, csrf: &str, secret: Option<(&str, &str)>) -> String {
    let t = |m: Msg| m.get(lang);
    let mut body = format!("<h1>{}</h1>{}", t(Msg::Users), admin_nav(lang));
    if let Some((name, secret)) = secret {
        let _ = write!(
            body,
            "<p class=\"notice\" id=\"totp-secret\">{} — {}: <code>{}</code><br><code>{}</code></p>",
            t(Msg::TotpSecretOnce),
            escape(name),
            escape(secret),
            escape(&crate::auth::totp::otpauth_uri(secret, name, "baqylau")),
        );
    }
    body.push_str(&user_table(users, lang, Some(csrf)));
    let roles: String = Role::ALL
        .iter()
        .map(|r| {
            format!(
                "<option value=\"{}\">{}</option>",
                r.as_str(),
                i18n::role(*r, lang)
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>{add}</h2><form method=\"post\" action=\"/admin/users\" class=\"stack\">{csrf}\
         <label>{name}<input name=\"name\" required maxlength=\"64\"></label>\
         <label>{role}<select name=\"role\">{roles}</select></label>\
         <label>{pass}<input name=\"password\" type=\"password\" required minlength=\"10\" autocomplete=\"new-password\"></label>\
         <label>{full}<input name=\"full_name\"></label><label>{pos}<input name=\"position\"></label>\
         <label>{email}<input name=\"email\" type=\"email\"></label><label>{mobile}<input name=\"mobile\"></label>\
         <label><input type=\"checkbox\" name=\"totp\" value=\"true\"> {totp}</label>\
         <button type=\"submit\">{add}</button></form>",
        add = t(Msg::AddUser),
        csrf = csrf_field(csrf),
        name = t(Msg::UserName),
        role = t(Msg::Role),
        pass = t(Msg::Password),
        full = t(Msg::FullName),
        pos = t(Msg::Position),
        email = t(Msg::Email),
        mobile = t(Msg::Mobile),
        totp = t(Msg::Totp),
    );
    body
}

/// Fields of the add-user form.
#[derive(Debug, Deserialize)]
pub(crate) struct AddUserForm {
    name: String,
    role: String,
    password: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    totp: Option<String>,
}

/// `POST /admin/users`: creates a user; a TOTP secret (approvers, admins, or asked for) is shown
/// once on the answer page.
pub(crate) async fn add_user(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Form(f): Form<AddUserForm>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::Admin).map_err(fail)?;
    let role = Role::parse(&f.role)
        .ok_or_else(|| fail(AppError::BadRequest(format!("unknown role {:?}", f.role))))?;
    let (user, secret) = state
        .desk
        .add_user(NewUser {
            name: f.name.trim().to_string(),
            role: Some(role),
            password: Some(f.password),
            totp: f.totp.is_some(),
            full_name: f.full_name,
            position: f.position,
            email: f.email,
            mobile: f.mobile,
        })
        .await
        .map_err(|e| fail(e.into()))?;
    state
        .desk
        .audit(
            ident.name(),
            "user.add",
            &format!("user:{}", user.name),
            role.as_str(),
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let users = state.desk.list_users().await.map_err(|e| fail(e.into()))?;
    let body = render_users(
        &users,
        lang,
        ident.csrf(),
        secret.as_deref().map(|s| (user.name.as_str(), s)),
    );
    Ok(page(&ident, ui, Msg::Users, "/admin/users", body))
}

/// Field of the enable/disable form.
#[derive(Debug, Deserialize)]
pub(crate) struct DisabledForm {
    disabled: bool,
}

/// `POST /admin/users/{name}/disabled`.
pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Path(name): Path<String>,
    Form(f): Form<DisabledForm>,
) -> Result<Redirect, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Admin).map_err(fail)?;
    state
        .desk
        .set_disabled(&name, f.disabled)
        .await
        .map_err(|e| fail(e.into()))?;
    let action = if f.disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    state
        .desk
        .audit(ident.name(), action, &format!("user:{name}"), "")
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to("/admin/users"))
}

/// Staff on Form 1: enabled analysts and approvers.
async fn form1_staff(state: &AppState) -> Result<Vec<User>, AppError> {
    Ok(state
        .desk
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && matches!(u.role, Role::Analyst | Role::Approver))
        .collect())
}

/// `GET /admin/form1`: Form 1 as the order prints it (Kazakh, or Russian for ru/en).
pub(crate) async fn form1(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::Admin).map_err(fail)?;
    let staff = form1_staff(&state).await.map_err(fail)?;
    let l = lang.code();
    let mut body = format!(
        "<h1>{}</h1>{}<p><a href=\"/admin/form1.csv\" id=\"form1-csv\">{}</a></p>\
         <section class=\"form-doc\"><p class=\"right\">{}</p><p class=\"center\"><u>{}</u><br>{}</p>\
         <h2 class=\"center\">{}</h2><p>{}</p><table id=\"form1\"><thead><tr>",
        Msg::Form1.get(lang),
        admin_nav(lang),
        Msg::ExportCsv.get(lang),
        forms::FORM.get(l),
        forms::AUTHORITY.get(l),
        forms::AUTHORITY_CAPTION.get(l),
        forms::NOTIFICATION.get(l),
        forms::FORM1_INTRO.get(l),
    );
    for c in forms::FORM1_COLUMNS {
        let _ = write!(body, "<th>{}</th>", c.get(l));
    }
    body.push_str("</tr></thead><tbody>");
    for (i, u) in staff.iter().enumerate() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            escape(&u.full_name),
            escape(&u.email),
            escape(&u.mobile)
        );
    }
    let _ = write!(
        body,
        "</tbody></table><p>{}</p><p class=\"sign\">____________ ____________ ____________<br>\
         <span class=\"note\">{}</span></p></section>",
        forms::FORM1_SIGNATORY.get(l),
        forms::FORM1_SIGNATURE_CAPTION.get(l)
    );
    Ok(page(&ident, ui, Msg::Form1, "/admin/form1", body))
}

/// A CSV field, quoted when needed (RFC 4180).
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// `GET /admin/form1.csv`: the Form 1 table as CSV (UTF-8 with BOM, for spreadsheet programs).
pub(crate) async fn form1_csv(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
) -> Result<Response, PageError> {
    let fail = |e: AppError| e.page(ui.lang);
    ident.require(Perm::Admin).map_err(fail)?;
    let staff = form1_staff(&state).await.map_err(fail)?;
    let l = ui.lang.code();
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = forms::FORM1_COLUMNS.iter().map(|c| csv(c.get(l))).collect();
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for (i, u) in staff.iter().enumerate() {
        let _ = write!(
            out,
            "{},{},{},{}\r\n",
            i + 1,
            csv(&u.full_name),
            csv(&u.email),
            csv(&u.mobile)
        );
    }
    state
        .desk
        .audit(
            ident.name(),
            "form1.export",
            "form1",
            &staff.len().to_string(),
        )
        .await
        .map_err(|e| fail(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"form1.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Query of the inactive-accounts page.
#[derive(Debug, Deserialize)]
pub(crate) struct InactiveQuery {
    /// Period in days (default: half a year).
    days: Option<i64>,
}

/// `GET /admin/inactive?days=182`.
pub(crate) async fn inactive(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
    Query(q): Query<InactiveQuery>,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::Admin).map_err(fail)?;
    let days = q.days.unwrap_or(182).clamp(0, 3660);
    let users = state
        .desk
        .inactive_users(Utc::now() - Duration::days(days))
        .await
        .map_err(|e| fail(e.into()))?;
    let body = format!(
        "<h1>{}</h1>{}<p>{}</p><form method=\"get\" class=\"filters\"><label>{}<input name=\"days\" \
         type=\"number\" min=\"0\" value=\"{days}\"></label><button type=\"submit\">{}</button></form>{}",
        Msg::Inactive.get(lang),
        admin_nav(lang),
        Msg::InactiveIntro.get(lang),
        Msg::Days.get(lang),
        Msg::Apply.get(lang),
        user_table(&users, lang, None)
    );
    Ok(page(&ident, ui, Msg::Inactive, "/admin/inactive", body))
}

/// `GET /admin/audit`: chain verification and the latest 200 entries.
pub(crate) async fn audit(
    State(state): State<AppState>,
    ui: UiLang,
    ident: Identity,
) -> Result<Page, PageError> {
    let lang = ui.lang;
    let t = |m: Msg| m.get(lang);
    let fail = |e: AppError| e.page(lang);
    ident.require(Perm::Admin).map_err(fail)?;
    let report = state
        .desk
        .verify_audit()
        .await
        .map_err(|e| fail(e.into()))?;
    let entries = state
        .desk
        .audit_entries(None, 200)
        .await
        .map_err(|e| fail(e.into()))?;
    let verdict = match &report.broken {
        None => format!(
            "<p class=\"ok\" id=\"audit-verdict\" data-ok=\"true\">{} · {} · <code>{}</code></p>",
            t(Msg::AuditOk),
            report.entries,
            report.head
        ),
        Some((seq, why)) => format!(
            "<p class=\"error\" id=\"audit-verdict\" data-ok=\"false\">{} · #{seq}: {}</p>",
            t(Msg::AuditBroken),
            escape(why)
        ),
    };
    let mut body = format!(
        "<h1>{}</h1>{}{verdict}<table id=\"audit\"><thead><tr><th>#</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(Msg::Audit),
        admin_nav(lang),
        t(Msg::Time),
        t(Msg::Actor),
        t(Msg::Action),
        t(Msg::Object),
        t(Msg::Detail),
    );
    for e in entries {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            e.seq,
            escape(&e.at),
            escape(&e.actor),
            escape(&e.action),
            escape(&e.object),
            escape(&e.detail)
        );
    }
    body.push_str("</tbody></table>");
    Ok(page(&ident, ui, Msg::Audit, "/admin/audit", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv("Сейтқали Айгүл"), "Сейтқали Айгүл");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
