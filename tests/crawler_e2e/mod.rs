//! End-to-end checks of the crawler through the real binary: robots.txt conformance of
//! `baqylau robots-check` on the shared RFC 9309 suite, a crawl resumed after `kill -9`, and a
//! crawl of a hostile web that must end on its own with every limit kept.

#[path = "../../crawler/tests/support/fixture_web.rs"]
mod fixture_web;
mod hostile;
mod resume;
mod robots;

use std::path::Path;
use std::process::Command;

use crate::util::baqylau;
use fixture_web::FixtureWeb;

/// Copies the WARC files a crawl wrote into `$BAQYLAU_WARC_CHECK_DIR` (named after `test`), where
/// `scripts/test` validates them with `warcio check` and `warcvalid` after the test run.
fn export_warcs(data: &Path, test: &str) {
    let Some(out) = std::env::var_os("BAQYLAU_WARC_CHECK_DIR") else {
        return;
    };
    let out = Path::new(&out);
    std::fs::create_dir_all(out).expect("create warc check dir");
    let dir = data.join("blobs/warc");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("blobs/warc exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".warc.gz") {
            std::fs::copy(&path, out.join(format!("{test}-{name}"))).expect("copy warc");
            n += 1;
        }
    }
    assert!(n > 0, "no WARC file in {}", dir.display());
}

/// `baqylau crawl` over `seeds` into `data`, with every fixture host mapped, no screenshots.
fn crawl_command(fx: &FixtureWeb, data: &Path, seeds: &[&str], extra: &[&str]) -> Command {
    let mut c = baqylau();
    c.args(["crawl", "--json", "--no-screenshots", "--data"])
        .arg(data);
    for s in seeds {
        c.args(["--seed", s]);
    }
    for r in fx.resolve_args() {
        c.args(["--resolve", &r]);
    }
    c.args(extra);
    c
}
