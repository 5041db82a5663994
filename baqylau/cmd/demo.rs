//! `baqylau demo`: the whole product on the bundled fixture web, in one command.
//!
//! Serves `fixtures/demo-web` on a free loopback port, crawls it through `--resolve` mappings (so
//! cases carry real-looking host names), indexes, classifies, opens cases with screenshots, then
//! serves the analyst UI. `--once` stops after the pipeline run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use crawler::{CrawlerConfig, ResolveRule};

use crate::data_dir::DataDir;
use crate::demo_web::DemoWeb;
use crate::pipeline::{self, PipelineConfig};

/// Marks a directory as the demo's own, so a rerun may wipe it and nothing else.
const MARKER: &str = ".baqylau-demo";

/// Arguments of `baqylau demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the analyst UI (falls back to a free port when taken).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Demo data directory; recreated on every run.
    #[arg(long, env = "BAQYLAU_DEMO_DATA", default_value = "baqylau-demo")]
    pub data: PathBuf,
    /// Run the pipeline once and exit without serving the UI.
    #[arg(long)]
    pub once: bool,
    /// Print the run summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Skip evidence screenshots (no Chromium needed).
    #[arg(long)]
    pub no_screenshots: bool,
    /// Chromium binary.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    /// Rules directory (default: the bundled rule set).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

/// Runs `baqylau demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rules = Arc::new(crate::embedded::load_rules(args.rules.as_deref())?);
    let catalog = super::rule_catalog(&rules);
    let taxonomy = Arc::new(rules.taxonomy().cloned().unwrap_or_default());
    let data = fresh_data_dir(&args.data)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        let web = DemoWeb::start(0).await?;
        let resolve: Vec<ResolveRule> = web
            .host_map()
            .into_iter()
            .map(|(host, addr)| ResolveRule { host, addr })
            .collect();
        if !args.json {
            println!(
                "demo web: {} hosts on {} (mapped with --resolve)",
                DemoWeb::hosts().len(),
                web.addr
            );
        }
        let crawler = CrawlerConfig {
            data_dir: data.root().to_path_buf(),
            seeds: DemoWeb::seeds(),
            resolve,
            ..CrawlerConfig::default()
        };
        let renderer = (!args.no_screenshots).then(|| crawler::render::RendererConfig {
            chrome_path: args.chromium.clone(),
            host_map: web.host_map(),
            ..Default::default()
        });
        let summary = pipeline::run(PipelineConfig {
            data: data.clone(),
            crawler,
            rules,
            renderer,
            progress: !args.json,
        })
        .await?;
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            super::print_summary_table(&summary);
            println!(
                "demo web answered {} requests",
                web.requests.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(port = args.port, error = %e, "port taken; using a free one");
                tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?
            }
        };
        let addr = listener.local_addr()?;
        println!(
            "analyst UI: http://{addr}/   (data: {})",
            data.root().display()
        );
        let store = Arc::new(reporter::SqliteCaseStore::open(&data.cases_db())?);
        println!("demo users (one per role; passwords and TOTP secrets are shown only now):");
        for created in demo_users(&store).await? {
            super::user::print_created(&created);
        }
        let mut state = reporter::web::AppState::new(store, data.blobs_dir(), taxonomy, catalog);
        state.search = super::search::IndexSearch::open(&data, state.store.clone())
            .map(|s| Arc::new(s) as Arc<dyn model::SearchBackend>);
        super::serve::start_outbox(
            &mut state,
            &data,
            &super::serve::OutboxArgs {
                amqp: None,
                pdf_chromium: args.chromium.clone(),
                no_pdf: args.no_screenshots,
            },
        )
        .await?;
        reporter::web::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Creates one demo user per role, plus a second approver so that four-eyes approval can be
/// tried: `analyst`, `rule_author`, `approver`, `approver2`, `admin`.
async fn demo_users(
    store: &reporter::SqliteCaseStore,
) -> anyhow::Result<Vec<super::user::Created>> {
    use reporter::auth::{NewUser, Role};
    let people = [
        (
            "analyst",
            Role::Analyst,
            "Әйгерім Сапарова",
            "талдаушы / аналитик",
        ),
        (
            "rule_author",
            Role::RuleAuthor,
            "Бауыржан Омаров",
            "ереже авторы / автор правил",
        ),
        (
            "approver",
            Role::Approver,
            "Дәурен Қасымов",
            "Департамент директоры / директор департамента",
        ),
        (
            "approver2",
            Role::Approver,
            "Гүлнар Есенова",
            "Директордың орынбасары / заместитель директора",
        ),
        (
            "admin",
            Role::Admin,
            "Нұрлан Бекұлы",
            "әкімші / администратор",
        ),
    ];
    let mut out = Vec::new();
    for (name, role, full_name, position) in people {
        out.push(
            super::user::create(
                store,
                NewUser {
                    name: name.into(),
                    role: Some(role),
                    full_name: full_name.into(),
                    position: position.into(),
                    email: format!("{name}@afm.example.kz"),
                    ..NewUser::default()
                },
            )
            .await?,
        );
    }
    Ok(out)
}

/// Empties the demo directory (only if it is ours) and recreates it.
fn fresh_data_dir(path: &Path) -> anyhow::Result<DataDir> {
    if path.exists() {
        let ours = path.join(MARKER).exists();
        let empty = std::fs::read_dir(path)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        anyhow::ensure!(
            ours || empty,
            "{} exists and is not a demo directory; pass another --data",
            path.display()
        );
        if ours {
            std::fs::remove_dir_all(path)
                .with_context(|| format!("cannot clear {}", path.display()))?;
        }
    }
    let data = DataDir::create(path)?;
    std::fs::write(
        path.join(MARKER),
        "created by `baqylau demo`; removed on the next run\n",
    )?;
    Ok(data)
}
