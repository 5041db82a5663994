//! `baqylau user add`: creates desk users from the command line, so operators and tests need no
//! browser (DESIGN §7). The password comes from stdin (`--password-stdin`) or is generated and
//! printed once; approvers and admins (or `--totp`) get a TOTP secret, printed once with its
//! `otpauth://` URI for an authenticator app. With `--db` the users are created in a distributed
//! deployment's PostgreSQL desk (the one `baqylau serve --db` serves).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reporter::auth::{NewUser, Role};

use super::serve::DeskDb;

/// `baqylau user …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a user.
    Add(AddArgs),
    /// List users.
    List(ListArgs),
}

/// Arguments of `baqylau user add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Login name (a-z, 0-9, '.', '_', '@', '-').
    pub name: String,
    /// Role: analyst, rule_author, approver, admin.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Read the password from the first line of stdin (else one is generated and printed).
    #[arg(long)]
    pub password_stdin: bool,
    /// Enroll a TOTP second factor (always on for approvers and admins).
    #[arg(long)]
    pub totp: bool,
    /// Full name (Form 1).
    #[arg(long, default_value = "")]
    pub full_name: String,
    /// Position (printed under an approver's signature on Form 2).
    #[arg(long, default_value = "")]
    pub position: String,
    /// Work e-mail (Form 1).
    #[arg(long, default_value = "")]
    pub email: String,
    /// Mobile phone (Form 1).
    #[arg(long, default_value = "")]
    pub mobile: String,
    /// Data directory (its cases.sqlite holds the users unless `--db` is given).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `baqylau user list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Data directory (its cases.sqlite holds the users unless `--db` is given).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("unknown role {s:?} (analyst, rule_author, approver, admin)"))
}

/// A created user and its one-time secrets.
#[derive(Debug, serde::Serialize)]
pub struct Created {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// The generated password, if none was given.
    pub password: Option<String>,
    /// TOTP secret (base32), if enrolled.
    pub totp_secret: Option<String>,
    /// `otpauth://` URI of the secret.
    pub totp_uri: Option<String>,
}

/// Creates a user in `store`; generates a password when `password` is `None`.
pub async fn create(store: &dyn reporter::Desk, mut new: NewUser) -> anyhow::Result<Created> {
    let generated = new
        .password
        .is_none()
        .then(|| reporter::auth::random_hex(10));
    if let Some(p) = &generated {
        new.password = Some(p.clone());
    }
    let (user, secret) = store.add_user(new).await?;
    store
        .audit(
            "cli",
            "user.add",
            &format!("user:{}", user.name),
            user.role.as_str(),
        )
        .await?;
    Ok(Created {
        totp_uri: secret
            .as_deref()
            .map(|s| reporter::auth::totp::otpauth_uri(s, &user.name, "baqylau")),
        name: user.name,
        role: user.role.as_str(),
        password: generated,
        totp_secret: secret,
    })
}

/// Runs `baqylau user …`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Add(a) => add(a),
        Command::List(a) => list(a),
    }
}

fn add(a: AddArgs) -> anyhow::Result<ExitCode> {
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("read password from stdin")?;
        let line = s.lines().next().unwrap_or("").to_string();
        anyhow::ensure!(!line.is_empty(), "empty password on stdin");
        Some(line)
    } else {
        None
    };
    let created = super::runtime()?.block_on(async {
        let store = a.desk.open(&a.data, true, 2).await?;
        create(
            store.as_ref(),
            NewUser {
                name: a.name,
                role: Some(a.role),
                password,
                totp: a.totp,
                full_name: a.full_name,
                position: a.position,
                email: a.email,
                mobile: a.mobile,
            },
        )
        .await
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&created)?);
    } else {
        print_created(&created);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a created user's credentials for a person to read.
pub fn print_created(c: &Created) {
    println!("user {} ({})", c.name, c.role);
    if let Some(p) = &c.password {
        println!("  password:    {p}");
    }
    if let (Some(s), Some(u)) = (&c.totp_secret, &c.totp_uri) {
        println!("  TOTP secret: {s}");
        println!("  TOTP URI:    {u}");
    }
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let users = super::runtime()?.block_on(async {
        let store = a.desk.open(&a.data, false, 2).await?;
        anyhow::Ok(store.list_users().await?)
    })?;
    for u in users {
        println!(
            "{}\t{}\t{}\t{}",
            u.name,
            u.role.as_str(),
            if u.disabled { "disabled" } else { "enabled" },
            u.last_active_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "never".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
