//! `baqylau verify BUNDLE`: checks an evidence bundle — every file against the manifest's SHA-256,
//! no file missing or added, screenshots equal to those recorded on the case, notification
//! content hashes. Exit 0 verified, 1 not.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `baqylau verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle (zip).
    pub bundle: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `baqylau verify`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let f =
        std::fs::File::open(&a.bundle).with_context(|| format!("open {}", a.bundle.display()))?;
    let v = reporter::bundle::verify(std::io::BufReader::new(f))?;
    if a.json {
        println!("{}", serde_json::to_string(&v)?);
    } else if v.ok() {
        println!(
            "{}: verified (case {}, {} files)",
            a.bundle.display(),
            v.case_id,
            v.files_checked
        );
    } else {
        println!("{}: NOT verified", a.bundle.display());
        for p in &v.problems {
            println!("  {p}");
        }
    }
    Ok(if v.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
