//! `baqylau demo-web`: only the bundled fixture web of `demo`, served on loopback until stopped —
//! a site to point distributed workers at (tests, trying the deployment out).
//!
//! It prints one JSON line first: the address, and for convenience the `--resolve` mappings and
//! seed URLs to pass to `worker` and `seed`.

use std::process::ExitCode;

use serde::Serialize;

use crate::demo_web::DemoWeb;

/// Arguments of `baqylau demo-web`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

#[derive(Serialize)]
struct Banner {
    addr: String,
    /// `HOST=127.0.0.1:PORT`, one per fixture host.
    resolve: Vec<String>,
    seeds: Vec<String>,
}

/// Runs `baqylau demo-web`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async {
        let web = DemoWeb::start(args.port).await?;
        let banner = Banner {
            addr: web.addr.to_string(),
            resolve: web
                .host_map()
                .into_iter()
                .map(|(h, a)| format!("{h}={a}"))
                .collect(),
            seeds: DemoWeb::seeds(),
        };
        println!("{}", serde_json::to_string(&banner)?);
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}
