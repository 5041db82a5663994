//! Serving evidence files (screenshots, WARC) from the blobs directory.
//!
//! The path comes from the URL, so it is the one place where a request names a file: only plain
//! relative components are accepted (no `..`, no root, no drive), and after resolving symlinks the
//! file must still lie inside the blobs directory.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::AppError;

/// Checks that `rel` names a file below the blobs directory, lexically.
fn relative_blob_path(rel: &str) -> Result<&Path, AppError> {
    let p = Path::new(rel);
    let plain = !rel.is_empty()
        && !rel.contains('\\')
        && p.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(p)
    } else {
        Err(AppError::BadRequest(format!(
            "blob path {rel:?} must be relative, without '..'"
        )))
    }
}

/// Content type by file extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Reads the file at `rel` under `dir`, refusing anything that resolves outside `dir`.
fn read_blob(dir: &Path, rel: &Path) -> Result<Vec<u8>, AppError> {
    let not_found = || AppError::NotFound(format!("blob {} not found", rel.display()));
    let root = dir
        .canonicalize()
        .map_err(|e| AppError::Internal(format!("blobs dir {}: {e}", dir.display())))?;
    let full = root.join(rel).canonicalize().map_err(|_| not_found())?;
    if !full.starts_with(&root) || !full.is_file() {
        return Err(not_found());
    }
    std::fs::read(&full).map_err(|e| AppError::Internal(format!("read {}: {e}", full.display())))
}

/// `GET /blobs/{*path}`.
pub async fn serve_blob(
    State(state): State<AppState>,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, AppError> {
    let rel: PathBuf = relative_blob_path(&path)?.to_path_buf();
    let dir = state.blobs_dir.clone();
    let rel2 = rel.clone();
    let bytes = tokio::task::spawn_blocking(move || read_blob(&dir, &rel2))
        .await
        .map_err(|e| AppError::Internal(format!("blob task: {e}")))??;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&rel)),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_only() {
        let table = [
            ("shots/2026/a.png", true),
            ("a.png", true),
            ("", false),
            ("../secret", false),
            ("shots/../../secret", false),
            ("/etc/passwd", false),
            ("./a.png", false),
            ("shots\\..\\x", false),
        ];
        for (p, ok) in table {
            assert_eq!(relative_blob_path(p).is_ok(), ok, "{p}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("a/b.PNG")), "image/png");
        assert_eq!(
            content_type(Path::new("x.warc.gz")),
            "application/octet-stream"
        );
    }
}
