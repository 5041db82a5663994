//! `baqylau export --case ID`: writes the evidence bundle of a case (Form 2 PDFs, screenshots,
//! WARC records, capture metadata, SHA-256 manifest) to a zip an official can forward. With
//! `--db` the case comes from a distributed deployment's PostgreSQL desk; the evidence files are
//! still read from `DATA/blobs/` (the workers' shared blobs mount).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use reporter::outbox::PdfPrinter;

use super::serve::DeskDb;
use crate::data_dir::DataDir;

/// Arguments of `baqylau export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case id.
    #[arg(long)]
    pub case: i64,
    /// Data directory: its blobs (screenshots, WARC) and, unless `--db` is given, its cases.sqlite.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
    /// Output file (default: baqylau-case-ID.zip).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the Form 2 PDFs (no Chromium needed).
    #[arg(long)]
    pub no_pdf: bool,
    /// Chromium binary for the PDFs.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
}

/// Runs `baqylau export`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let data = DataDir::existing(&a.data)?;
    let printer: Option<Arc<dyn PdfPrinter>> = (!a.no_pdf).then(|| {
        Arc::new(super::notify::ChromePdfPrinter::new(&a.chromium)) as Arc<dyn PdfPrinter>
    });
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("baqylau-case-{}.zip", a.case)));
    let (manifest, bytes) = super::runtime()?.block_on(async {
        let store = a.desk.open(data.root(), false, 2).await?;
        let r = reporter::bundle::build_for_case(
            store.as_ref(),
            a.case,
            &data.blobs_dir(),
            printer.as_ref(),
            "cli",
        )
        .await
        .map_err(anyhow::Error::msg)?;
        store
            .audit(
                "cli",
                "case.export",
                &format!("case:{}", a.case),
                &out.display().to_string(),
            )
            .await?;
        anyhow::Ok(r)
    })?;
    std::fs::write(&out, bytes).with_context(|| format!("write {}", out.display()))?;
    println!(
        "{}: case {}, {} files",
        out.display(),
        manifest.case_id,
        manifest.files.len()
    );
    for f in &manifest.files {
        println!("  {}  {}", f.sha256, f.path);
    }
    Ok(ExitCode::SUCCESS)
}
