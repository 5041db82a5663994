//! Evidence bundles: one zip an official can forward or archive, and its verification.
//!
//! A bundle holds, for one case: `case.json` (the case, its hits and evidence metadata),
//! `captures/ID.json` (per-capture forensic facts, with every viewport's screenshot and its
//! recorded SHA-256), `screenshots/ID.png` (desktop) and `screenshots/ID.VIEWPORT.png` (every other
//! viewport the case has a shot of, e.g. `ID.mobile.png`), `warc/ID.warc` (the
//! capture's WARC response record, decompressed from its gzip member), and for every Form 2
//! notification containing the case `notifications/ID.json` (content, hash, approval) with the
//! document as `notifications/ID.kk.html`/`.ru.html` and, when a PDF printer is available,
//! `notifications/ID.kk.pdf`/`.ru.pdf`. `manifest.json` lists every other file with its SHA-256
//! and size. [`verify`] recomputes all of them, refuses files the manifest does not list, and
//! checks the chain of custody: each screenshot's hash, of every viewport, must equal the one
//! recorded on the case when it was taken, and each notification's content hash must match its
//! content.
//! Entries are stored uncompressed: PNGs and PDFs do not shrink, and a plain layout can be
//! checked with any zip tool and `sha256sum`.

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use model::{Case, Screenshot, Viewport};
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

/// Every stored screenshot of a case's evidence, by capture id (what
/// [`model::CaseStore::screenshots`] returns for each capture).
pub type ViewportShots = BTreeMap<String, Vec<(Viewport, Screenshot)>>;

/// A screenshot as listed in `captures/ID.json`: the stored record (whose `sha256` was computed
/// when the shot was taken) and the file of the bundle holding it, so [`verify`] can check the
/// custody of every viewport, not only the desktop one `case.json` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledShot {
    /// Device the shot emulates.
    pub viewport: Viewport,
    /// Path inside the zip.
    pub file: String,
    /// The record stored with the case.
    #[serde(flatten)]
    pub shot: Screenshot,
}

/// Zip path of the `viewport` screenshot of capture `id` (already [`safe_name`]d). The desktop
/// keeps the name bundles had before there were other viewports.
fn shot_file(id: &str, viewport: Viewport) -> String {
    match viewport {
        Viewport::Desktop => format!("screenshots/{id}.png"),
        v => format!("screenshots/{id}.{}.png", v.as_str()),
    }
}

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

/// Writes the bundle of `case` to `out`. `shots` are the stored screenshots of every viewport
/// (the desktop one recorded on the evidence itself is included even when absent from `shots`).
/// `pdfs` are `(notification id, lang, bytes)` of the Form 2 PDFs (empty when no printer is
/// available). Returns the manifest.
pub fn write<W: Write + Seek>(
    out: W,
    case: &Case,
    shots: &ViewportShots,
    notifications: &[Notification],
    pdfs: &[(i64, &str, Vec<u8>)],
    blobs_dir: &Path,
    created_by: &str,
) -> Result<Manifest, BundleError> {
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("case.json".into(), serde_json::to_vec_pretty(case)?)];
    for ev in &case.evidence {
        let id = safe_name(&ev.capture_id);
        // The desktop shot on the evidence is what `case.json` records; the store's per-viewport
        // list adds the others.
        let mut bundled: Vec<BundledShot> = Vec::new();
        let stored = shots.get(&ev.capture_id).map(Vec::as_slice).unwrap_or(&[]);
        let desktop = ev.screenshot.iter().map(|s| (Viewport::Desktop, s));
        for (viewport, shot) in desktop.chain(stored.iter().map(|(v, s)| (*v, s))) {
            if bundled.iter().all(|b| b.viewport != viewport) {
                bundled.push(BundledShot {
                    viewport,
                    file: shot_file(&id, viewport),
                    shot: shot.clone(),
                });
            }
        }
        let mut meta = serde_json::to_value(ev)?;
        if let Some(m) = meta.as_object_mut() {
            m.remove("text");
            m.insert("screenshots".into(), serde_json::to_value(&bundled)?);
        }
        files.push((
            format!("captures/{id}.json"),
            serde_json::to_vec_pretty(&meta)?,
        ));
        for b in &bundled {
            let bytes = std::fs::read(blobs_dir.join(&b.shot.path))
                .map_err(|e| BundleError::Evidence(b.shot.path.clone(), e.to_string()))?;
            files.push((b.file.clone(), bytes));
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
/// (every viewport) equal to those recorded on the case, notification content hashes.
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
        // Recorded hash of every screenshot file: the desktop ones from `case.json`, the other
        // viewports from `captures/ID.json` (one check per file when both list it).
        let mut recorded: BTreeMap<String, String> = BTreeMap::new();
        for ev in &case.evidence {
            if let Some(shot) = &ev.screenshot {
                recorded.insert(
                    shot_file(&safe_name(&ev.capture_id), Viewport::Desktop),
                    shot.sha256.clone(),
                );
            }
        }
        for (path, raw) in &contents {
            if path.starts_with("captures/") && path.ends_with(".json") {
                let v: serde_json::Value = serde_json::from_slice(raw)?;
                let listed: Vec<BundledShot> = match v.get("screenshots") {
                    Some(s) => serde_json::from_value(s.clone())?,
                    None => Vec::new(),
                };
                for b in listed {
                    recorded.entry(b.file).or_insert(b.shot.sha256);
                }
            }
        }
        for (path, sha256) in &recorded {
            match contents.get(path) {
                Some(b) if &hex_sha(b) == sha256 => {}
                Some(_) => problems.push(format!(
                    "{path}: differs from the screenshot recorded on the case (SHA-256 {sha256})"
                )),
                None => problems.push(format!("{path}: screenshot of the case is missing")),
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
    let mut shots = ViewportShots::new();
    for ev in &case.evidence {
        let stored = store
            .screenshots(id, &ev.capture_id)
            .await
            .map_err(|e| e.to_string())?;
        shots.insert(ev.capture_id.clone(), stored);
    }
    let pdfs = match printer {
        Some(p) => notification_pdfs(p, &notes).await?,
        None => Vec::new(),
    };
    let blobs = blobs_dir.to_path_buf();
    let by = created_by.to_string();
    tokio::task::spawn_blocking(move || {
        let mut buf = std::io::Cursor::new(Vec::new());
        let m = write(&mut buf, &case, &shots, &notes, &pdfs, &blobs, &by)
            .map_err(|e| e.to_string())?;
        Ok((m, buf.into_inner()))
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn fixture(name: &str) -> (std::path::PathBuf, Case) {
        let dir =
            std::env::temp_dir().join(format!("baqylau-bundle-{name}-{}", std::process::id()));
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

    /// Writing the bundle fails because a file of its evidence is missing.
    fn refused_for_missing_evidence(case: &Case, shots: &ViewportShots, dir: &Path) -> bool {
        let written = write(Cursor::new(Vec::new()), case, shots, &[], &[], dir, "aigul");
        matches!(written, Err(BundleError::Evidence(..)))
    }

    #[test]
    fn bundle_round_trip_and_tampering() {
        let (dir, case) = fixture("round-trip");
        let mut buf = Cursor::new(Vec::new());
        let m = write(
            &mut buf,
            &case,
            &ViewportShots::new(),
            &[],
            &[],
            &dir,
            "aigul",
        )
        .unwrap();
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
        assert!(refused_for_missing_evidence(
            &case,
            &ViewportShots::new(),
            &dir
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A case whose capture was shot on desktop and mobile: both PNGs travel, both digests are
    /// in the manifest and in `captures/ID.json`, and a changed mobile PNG fails verification.
    #[test]
    fn bundle_carries_every_viewport_screenshot() {
        let (dir, case) = fixture("viewports");
        let desktop = case.evidence[0].screenshot.clone().unwrap();
        let png = b"\x89PNG\r\n\x1a\nMOBILE-PIXELS".to_vec();
        std::fs::write(dir.join("screenshots/9.mobile.png"), &png).unwrap();
        let mobile = Screenshot {
            path: "screenshots/9.mobile.png".into(),
            sha256: hex_sha(&png),
            width: 780,
            height: 3000,
            taken_at: desktop.taken_at,
        };
        // What the store's `screenshots` returns: desktop first, then mobile.
        let shots = ViewportShots::from([(
            case.evidence[0].capture_id.clone(),
            vec![
                (Viewport::Desktop, desktop.clone()),
                (Viewport::Mobile, mobile.clone()),
            ],
        )]);
        let mut buf = Cursor::new(Vec::new());
        let m = write(&mut buf, &case, &shots, &[], &[], &dir, "aigul").unwrap();
        let entry = |p: &str| m.files.iter().find(|f| f.path == p).cloned();
        assert_eq!(
            entry("screenshots/cap9.png").map(|e| e.sha256),
            Some(desktop.sha256.clone())
        );
        assert_eq!(
            entry("screenshots/cap9.mobile.png").map(|e| (e.sha256, e.bytes)),
            Some((mobile.sha256.clone(), png.len() as u64))
        );
        let bytes = buf.into_inner();
        let v = verify(Cursor::new(bytes.clone())).unwrap();
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(v.files_checked, 5);
        let mut z = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        let mut got = Vec::new();
        z.by_name("screenshots/cap9.mobile.png")
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, png);
        let mut meta = Vec::new();
        z.by_name("captures/cap9.json")
            .unwrap()
            .read_to_end(&mut meta)
            .unwrap();
        let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        let listed: Vec<BundledShot> = serde_json::from_value(meta["screenshots"].clone()).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|b| (b.viewport, b.file.as_str(), b.shot.sha256.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    Viewport::Desktop,
                    "screenshots/cap9.png",
                    desktop.sha256.as_str()
                ),
                (
                    Viewport::Mobile,
                    "screenshots/cap9.mobile.png",
                    mobile.sha256.as_str()
                ),
            ]
        );

        // One changed byte of the mobile PNG fails verification, naming that file.
        let mut bad = bytes.clone();
        let at = bad.windows(13).position(|w| w == b"MOBILE-PIXELS").unwrap();
        bad[at] ^= 1;
        let v = verify(Cursor::new(bad)).unwrap();
        assert!(!v.ok());
        assert!(
            v.problems
                .iter()
                .all(|p| p.starts_with("screenshots/cap9.mobile.png:")),
            "{:?}",
            v.problems
        );

        // A rewritten mobile PNG with a manifest to match still differs from the recorded hash.
        let forged = b"\x89PNG\r\n\x1a\nFORGED-PIXELS".to_vec();
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            if name == "manifest.json" {
                let mut man: Manifest = serde_json::from_slice(&data).unwrap();
                for e in &mut man.files {
                    if e.path == "screenshots/cap9.mobile.png" {
                        e.sha256 = hex_sha(&forged);
                        e.bytes = forged.len() as u64;
                    }
                }
                data = serde_json::to_vec(&man).unwrap();
            } else if name == "screenshots/cap9.mobile.png" {
                data = forged.clone();
            }
            out.start_file(name, opts).unwrap();
            out.write_all(&data).unwrap();
        }
        let forged_zip = out.finish().unwrap().into_inner();
        let v = verify(Cursor::new(forged_zip)).unwrap();
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert!(
            v.problems[0].starts_with("screenshots/cap9.mobile.png: differs from the screenshot"),
            "{:?}",
            v.problems
        );

        // A stored mobile shot whose file is gone fails the export loudly.
        std::fs::remove_file(dir.join("screenshots/9.mobile.png")).unwrap();
        assert!(refused_for_missing_evidence(&case, &shots, &dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
