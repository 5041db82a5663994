//! Evidence bundles: one zip an official can forward or archive, and its verification.
//!
//! A bundle holds, for one case: `case.json` (the case, its hits and evidence metadata),
//! `captures/ID.json` (per-capture forensic facts), `screenshots/…png`, `warc/ID.warc` (the
//! capture's WARC response record, decompressed from its gzip member), and for every Form 2
//! notification containing the case `notifications/ID.json` (content, hash, approval) with the
//! document as `notifications/ID.kk.html`/`.ru.html` and, when a PDF printer is available,
//! `notifications/ID.kk.pdf`/`.ru.pdf`. `manifest.json` lists every other file with its SHA-256
//! and size. [`verify`] recomputes all of them, refuses files the manifest does not list, and
//! checks the chain of custody: each screenshot's hash must equal the one recorded on the case
//! when it was taken, and each notification's content hash must match its content.
//! Entries are stored uncompressed: PNGs and PDFs do not shrink, and a plain layout can be
//! checked with any zip tool and `sha256sum`.

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use model::Case;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::notification::render_document;
use crate::store::notifications::Notification;

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// File system.
    #[error("bundle i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Zip format.
    #[error("bundle zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// JSON.
    #[error("bundle json: {0}")]
    Json(#[from] serde_json::Error),
    /// An evidence file is missing or unreadable.
    #[error("evidence file {0}: {1}")]
    Evidence(String, String),
}

/// One file of the bundle in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path inside the zip.
    pub path: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format marker.
    pub format: String,
    /// Case exported.
    pub case_id: i64,
    /// When.
    pub created_at: DateTime<Utc>,
    /// By whom.
    pub created_by: String,
    /// Every other file.
    pub files: Vec<ManifestEntry>,
}

/// The format marker of this version.
pub const FORMAT: &str = "baqylau-evidence-bundle/1";

fn hex_sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The decompressed WARC record (one gzip member) at `offset` of `file`.
fn warc_record(file: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::io::SeekFrom;
    let mut f = std::fs::File::open(file)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .take(64 << 20)
        .read_to_end(&mut out)?;
    Ok(out)
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the bundle of `case` to `out`. `pdfs` are `(notification id, lang, bytes)` of the
/// Form 2 PDFs (empty when no printer is available). Returns the manifest.
pub fn write<W: Write + Seek>(
    out: W,
    case: &Case,
    notifications: &[Notification],
    pdfs: &[(i64, &str, Vec<u8>)],
    blobs_dir: &Path,
    created_by: &str,
) -> Result<Manifest, BundleError> {
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("case.json".into(), serde_json::to_vec_pretty(case)?)];
    for ev in &case.evidence {
        let id = safe_name(&ev.capture_id);
        let mut meta = serde_json::to_value(ev)?;
        if let Some(m) = meta.as_object_mut() {
            m.remove("text");
        }
        files.push((
            format!("captures/{id}.json"),
            serde_json::to_vec_pretty(&meta)?,
        ));
        if let Some(shot) = &ev.screenshot {
            let p = blobs_dir.join(&shot.path);
            let bytes = std::fs::read(&p)
                .map_err(|e| BundleError::Evidence(shot.path.clone(), e.to_string()))?;
            files.push((format!("screenshots/{id}.png"), bytes));
        }
        if let Some(w) = &ev.warc {
            let record = warc_record(&blobs_dir.join(&w.file), w.offset)
                .map_err(|e| BundleError::Evidence(w.file.clone(), e.to_string()))?;
            files.push((format!("warc/{id}.warc"), record));
        }
    }
    for n in notifications {
        files.push((
            format!("notifications/{}.json", n.id),
            serde_json::to_vec_pretty(n)?,
        ));
        for lang in ["kk", "ru"] {
            let html = render_document(
                &n.content,
                lang,
                &n.message_id,
                &n.content_sha256,
                n.signatory.as_ref().filter(|_| n.approval_holds()),
            );
            files.push((
                format!("notifications/{}.{lang}.html", n.id),
                html.into_bytes(),
            ));
        }
    }
    for (id, lang, pdf) in pdfs {
        files.push((format!("notifications/{id}.{lang}.pdf"), pdf.clone()));
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        case_id: case.id,
        created_at: Utc::now(),
        created_by: created_by.into(),
        files: files
            .iter()
            .map(|(path, bytes)| ManifestEntry {
                path: path.clone(),
                sha256: hex_sha(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    let mut zip = zip::ZipWriter::new(out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    zip.start_file("manifest.json", opts)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    for (path, bytes) in &files {
        zip.start_file(path.as_str(), opts)?;
        zip.write_all(bytes)?;
    }
    zip.finish()?;
    Ok(manifest)
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Case of the bundle.
    pub case_id: i64,
    /// Files checked against the manifest.
    pub files_checked: usize,
    /// Everything wrong; empty means the bundle verifies.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether the bundle verifies.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies a bundle: manifest hashes and sizes, no unlisted or missing files, screenshot hashes
/// equal to those recorded on the case, notification content hashes.
pub fn verify<R: Read + Seek>(input: R) -> Result<Verification, BundleError> {
    let mut problems = Vec::new();
    let mut zip = match zip::ZipArchive::new(input) {
        Ok(z) => z,
        Err(e) => {
            return Ok(Verification {
                case_id: 0,
                files_checked: 0,
                problems: vec![format!("not a readable zip: {e}")],
            });
        }
    };
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        if f.is_dir() {
            continue;
        }
        let name = f.name()?.to_string();
        let mut buf = Vec::new();
        // A changed byte usually fails the zip's own CRC first: that is tampering, not an error.
        match f.read_to_end(&mut buf) {
            Ok(_) => {
                contents.insert(name, buf);
            }
            Err(e) => problems.push(format!("{name}: unreadable ({e})")),
        }
    }
    let Some(raw) = contents.remove("manifest.json") else {
        problems.push("manifest.json is missing or unreadable".into());
        return Ok(Verification {
            case_id: 0,
            files_checked: 0,
            problems,
        });
    };
    let manifest: Manifest = serde_json::from_slice(&raw)?;
    if manifest.format != FORMAT {
        problems.push(format!("unknown format {:?}", manifest.format));
    }
    for e in &manifest.files {
        match contents.get(&e.path) {
            None if problems
                .iter()
                .any(|p| p.starts_with(&format!("{}:", e.path))) => {}
            None => problems.push(format!("{}: listed in the manifest but missing", e.path)),
            Some(b) if hex_sha(b) != e.sha256 => {
                problems.push(format!("{}: SHA-256 does not match the manifest", e.path))
            }
            Some(b) if b.len() as u64 != e.bytes => {
                problems.push(format!("{}: size does not match the manifest", e.path))
            }
            Some(_) => {}
        }
    }
    for path in contents.keys() {
        if !manifest.files.iter().any(|e| &e.path == path) {
            problems.push(format!("{path}: not listed in the manifest"));
        }
    }
    if let Some(raw) = contents.get("case.json") {
        let case: Case = serde_json::from_slice(raw)?;
        if case.id != manifest.case_id {
            problems.push(format!(
                "case.json is case {}, manifest says {}",
                case.id, manifest.case_id
            ));
        }
        for ev in &case.evidence {
            if let Some(shot) = &ev.screenshot {
                let path = format!("screenshots/{}.png", safe_name(&ev.capture_id));
                match contents.get(&path) {
                    Some(b) if hex_sha(b) == shot.sha256 => {}
                    Some(_) => problems.push(format!(
                        "{path}: differs from the screenshot recorded on the case (SHA-256 {})",
                        shot.sha256
                    )),
                    None => problems.push(format!("{path}: screenshot of the case is missing")),
                }
            }
        }
    } else {
        problems.push("case.json is missing".into());
    }
    for (path, raw) in &contents {
        if path.starts_with("notifications/") && path.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_slice(raw)?;
            let content: crate::notification::Content =
                serde_json::from_value(v["content"].clone())?;
            if Some(content.sha256().as_str()) != v["content_sha256"].as_str() {
                problems.push(format!("{path}: content does not match its SHA-256"));
            }
        }
    }
    Ok(Verification {
        case_id: manifest.case_id,
        files_checked: manifest.files.len(),
        problems,
    })
}

/// The Form 2 PDFs (Kazakh and Russian) of `notifications`, printed by `printer`.
pub async fn notification_pdfs(
    printer: &std::sync::Arc<dyn crate::outbox::PdfPrinter>,
    notifications: &[Notification],
) -> Result<Vec<(i64, &'static str, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for n in notifications {
        for lang in ["kk", "ru"] {
            let html = render_document(
                &n.content,
                lang,
                &n.message_id,
                &n.content_sha256,
                n.signatory.as_ref().filter(|_| n.approval_holds()),
            );
            let p = std::sync::Arc::clone(printer);
            let pdf = tokio::task::spawn_blocking(move || p.print(&html))
                .await
                .map_err(|e| e.to_string())??;
            out.push((n.id, lang, pdf));
        }
    }
    Ok(out)
}

/// Builds the bundle of case `id` in memory: the case, its notifications, their PDFs when a
/// printer is given.
pub async fn build_for_case(
    store: &dyn crate::Desk,
    id: i64,
    blobs_dir: &Path,
    printer: Option<&std::sync::Arc<dyn crate::outbox::PdfPrinter>>,
    created_by: &str,
) -> Result<(Manifest, Vec<u8>), String> {
    let case = store
        .get_case(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("case {id} not found"))?;
    let notes = store
        .notifications(Some(id))
        .await
        .map_err(|e| e.to_string())?;
    let pdfs = match printer {
        Some(p) => notification_pdfs(p, &notes).await?,
        None => Vec::new(),
    };
    let blobs = blobs_dir.to_path_buf();
    let by = created_by.to_string();
    tokio::task::spawn_blocking(move || {
        let mut buf = std::io::Cursor::new(Vec::new());
        let m = write(&mut buf, &case, &notes, &pdfs, &blobs, &by).map_err(|e| e.to_string())?;
        Ok((m, buf.into_inner()))
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn fixture() -> (std::path::PathBuf, Case) {
        let dir = std::env::temp_dir().join(format!("baqylau-bundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("screenshots")).unwrap();
        let mut case =
            crate::notification::tests::case(9, "illegal_gambling", "http://casino.kz/", true);
        let png = b"\x89PNG\r\n\x1a\nshot".to_vec();
        let shot = case.evidence[0].screenshot.as_mut().unwrap();
        shot.sha256 = hex_sha(&png);
        std::fs::write(dir.join(&shot.path), &png).unwrap();
        // A WARC file with two gzip members; the case points at the second.
        let member = |s: &str| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(s.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let first = member("WARC/1.1\r\nWARC-Type: request\r\n\r\n");
        let second = member("WARC/1.1\r\nWARC-Type: response\r\n\r\nbody");
        std::fs::write(dir.join("a.warc.gz"), [first.clone(), second].concat()).unwrap();
        case.evidence[0].warc = Some(model::WarcRef {
            file: "a.warc.gz".into(),
            offset: first.len() as u64,
            record_id: "<urn:uuid:1>".into(),
        });
        (dir, case)
    }

    #[test]
    fn bundle_round_trip_and_tampering() {
        let (dir, case) = fixture();
        let mut buf = Cursor::new(Vec::new());
        let m = write(&mut buf, &case, &[], &[], &dir, "aigul").unwrap();
        assert!(m.files.iter().any(|f| f.path == "warc/cap9.warc"));
        let bytes = buf.into_inner();
        let v = verify(Cursor::new(bytes.clone())).unwrap();
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!((v.case_id, v.files_checked), (9, 4));
        let mut z = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        let mut warc = String::new();
        z.by_name("warc/cap9.warc")
            .unwrap()
            .read_to_string(&mut warc)
            .unwrap();
        assert!(warc.contains("WARC-Type: response") && !warc.contains("request"));

        // Flip one byte of the screenshot (stored, so it is in the zip as is).
        let mut bad = bytes.clone();
        let at = bad
            .windows(8)
            .position(|w| w == b"\x89PNG\r\n\x1a\n")
            .unwrap()
            + 9;
        bad[at] ^= 1;
        let v = verify(Cursor::new(bad)).unwrap();
        assert!(!v.ok());
        assert!(
            v.problems[0].starts_with("screenshots/cap9.png:"),
            "{:?}",
            v.problems
        );
        let v = verify(Cursor::new(b"not a zip".to_vec())).unwrap();
        assert!(!v.ok());

        // A missing screenshot file fails the export loudly.
        std::fs::remove_file(dir.join("screenshots/9.png")).unwrap();
        assert!(matches!(
            write(Cursor::new(Vec::new()), &case, &[], &[], &dir, "aigul"),
            Err(BundleError::Evidence(..))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
