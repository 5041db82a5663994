//! WARC/1.1 archive of every HTTP exchange, the raw evidence behind each capture.
//!
//! One file per crawl run under `blobs/warc/`, one gzip member per record (so any record can be
//! read from its offset alone, and standard tools such as `warcio` can index the file). Each
//! fetch ([`WarcEncoder::fetch`], appended by [`WarcWriter::append_fetch`]; or
//! [`WarcWriter::write_fetch`] doing both) writes, for every redirect hop and then for the final
//! response, a `response` record followed by its `request` record, linked both ways with
//! `WARC-Concurrent-To`, and ends with a `metadata` record (Heritrix's fields: `hopsFromSeed`,
//! `via` chain of redirects, fetch time) that refers to the final response; digests are
//! `sha256:` in RFC 4648 base32. The body stored is the one the
//! crawler saw *after* content decoding (reqwest decompresses transparently), so the response
//! headers are adjusted to match: `Content-Encoding`, `Transfer-Encoding` and the original
//! `Content-Length` are dropped and a `Content-Length` of the stored body is written instead.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use model::WarcRef;
use sha2::{Digest, Sha256};

/// Sub-directory of the blobs directory holding WARC files.
pub const WARC_DIR: &str = "warc";

/// Response headers that describe the transfer, not the stored (decoded) body.
const TRANSFER_HEADERS: &[&str] = &["content-encoding", "content-length", "transfer-encoding"];

/// One HTTP exchange to archive.
#[derive(Debug, Clone)]
pub struct Exchange<'a> {
    /// URL the response came from (after redirects).
    pub target_uri: &'a str,
    /// IP address connected to.
    pub ip: Option<String>,
    /// When the response was received.
    pub date: DateTime<Utc>,
    /// Protocol string, e.g. `HTTP/1.1`.
    pub protocol: &'a str,
    /// Status code.
    pub status: u16,
    /// Response headers in received order.
    pub response_headers: &'a [(String, Vec<u8>)],
    /// Decoded response body.
    pub body: &'a [u8],
    /// The request as sent (request line and headers).
    pub request: Vec<u8>,
}

/// Appends records to one WARC file.
///
/// Records can be compressed away from the writer: a [`WarcEncoder`] (one per worker thread)
/// turns a fetch into its gzip members ([`WarcEncoder::fetch`]) and the writer, behind the
/// crawl's lock, only appends the bytes ([`WarcWriter::append_fetch`]). Compressing under the
/// lock had serialised the crawler's largest per-page cost on one core.
pub struct WarcWriter {
    file: File,
    path: PathBuf,
    relative: String,
    offset: u64,
    /// For the records this writer compresses itself (warcinfo, [`WarcWriter::write_fetch`]).
    encoder: WarcEncoder,
}

/// Compresses WARC records into gzip members, one member per record.
pub struct WarcEncoder {
    /// One deflate compressor reset for every record, its output starting with the gzip
    /// header. A new `GzEncoder` per record allocated and zeroed ~300 KB of compressor tables
    /// four times per page — with the page faults of fresh memory, an eighth of the crawler's
    /// CPU, more than the compression itself.
    deflate: DeflateEncoder<Vec<u8>>,
}

impl std::fmt::Debug for WarcEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarcEncoder").finish_non_exhaustive()
    }
}

impl Default for WarcEncoder {
    fn default() -> Self {
        WarcEncoder {
            deflate: DeflateEncoder::new(GZIP_HEADER.to_vec(), Compression::fast()),
        }
    }
}

/// The records of one fetch, compressed, waiting to be appended.
#[derive(Debug)]
pub struct EncodedFetch {
    /// Consecutive gzip members.
    bytes: Vec<u8>,
    /// Where the final response's member starts in `bytes`.
    response_at: u64,
    /// Its `WARC-Record-ID`.
    record_id: String,
}

impl std::fmt::Debug for WarcWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarcWriter")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// The fixed 10-byte gzip member header (RFC 1952): deflate, no flags, no mtime, "fastest"
/// extra flag, OS unknown. Written by hand (with the CRC-32/length trailer in
/// [`WarcWriter::write_record`]) because flate2's `GzEncoder` cannot be reset to reuse its
/// compressor.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

static RECORD_COUNTER: AtomicU64 = AtomicU64::new(0);

impl WarcWriter {
    /// Opens (appending) `blobs_dir/warc/<run>.warc.gz`, named after the run start time.
    pub fn create(blobs_dir: &Path, run_started: DateTime<Utc>) -> io::Result<Self> {
        let dir = blobs_dir.join(WARC_DIR);
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "{}-{}.warc.gz",
            run_started.format("%Y%m%dT%H%M%S%3fZ"),
            std::process::id()
        );
        let path = dir.join(&name);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let offset = file.metadata()?.len();
        let mut w = WarcWriter {
            file,
            path,
            relative: format!("{WARC_DIR}/{name}"),
            offset,
            encoder: WarcEncoder::default(),
        };
        if offset == 0 {
            w.write_warcinfo(run_started)?;
        }
        Ok(w)
    }

    /// Path of the file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_warcinfo(&mut self, date: DateTime<Utc>) -> io::Result<()> {
        let block = format!(
            "software: baqylau-crawler/{}\r\nformat: WARC File Format 1.1\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let id = record_id("warcinfo", date);
        let headers = vec![
            ("WARC-Type", "warcinfo".to_string()),
            ("WARC-Record-ID", id),
            ("WARC-Date", warc_date(date)),
            ("WARC-Filename", self.relative.clone()),
            ("Content-Type", "application/warc-fields".to_string()),
        ];
        let mut out = Vec::new();
        self.encoder
            .record(&headers, &[block.as_bytes()], &mut out)?;
        self.append(&out)?;
        Ok(())
    }

    /// Writes the response and request records of one exchange; the returned reference points
    /// at the response record.
    pub fn write_exchange(&mut self, ex: &Exchange<'_>) -> io::Result<WarcRef> {
        let mut out = Vec::new();
        let record_id = self.encoder.exchange(ex, &mut out)?;
        let offset = self.append(&out)?;
        Ok(WarcRef {
            file: self.relative.clone(),
            offset,
            record_id,
        })
    }

    /// Archives a whole fetch: each redirect hop, the final exchange, and a `metadata` record.
    /// `depth` is the link distance from a seed. The reference points at the final response.
    pub fn write_fetch(
        &mut self,
        resp: &crate::fetch::FetchedResponse,
        user_agent: &str,
        depth: u32,
    ) -> io::Result<WarcRef> {
        let encoded = self.encoder.fetch(resp, user_agent, depth)?;
        self.append_fetch(encoded)
    }

    /// Appends a fetch compressed by a [`WarcEncoder`]; the reference points at its final
    /// response.
    pub fn append_fetch(&mut self, encoded: EncodedFetch) -> io::Result<WarcRef> {
        let start = self.append(&encoded.bytes)?;
        Ok(WarcRef {
            file: self.relative.clone(),
            offset: start + encoded.response_at,
            record_id: encoded.record_id,
        })
    }

    /// Appends whole gzip members; returns the offset of the first.
    fn append(&mut self, members: &[u8]) -> io::Result<u64> {
        let offset = self.offset;
        self.file.write_all(members)?;
        self.file.flush()?;
        self.offset += members.len() as u64;
        Ok(offset)
    }
}

impl WarcEncoder {
    /// Appends the response and request records of one exchange to `out`; returns the
    /// response's record id (its member starts where `out` ended).
    pub fn exchange(&mut self, ex: &Exchange<'_>, out: &mut Vec<u8>) -> io::Result<String> {
        self.exchange_digested(ex, None, out)
    }

    /// [`WarcEncoder::exchange`], given the SHA-256 of `ex.body` when it is known already.
    fn exchange_digested(
        &mut self,
        ex: &Exchange<'_>,
        body_sha256: Option<&[u8; 32]>,
        out: &mut Vec<u8>,
    ) -> io::Result<String> {
        let response_id = record_id(ex.target_uri, ex.date);
        let request_id = record_id(ex.target_uri, ex.date);
        let date = warc_date(ex.date);

        let mut block = format!("{} {}\r\n", ex.protocol, status_line(ex.status)).into_bytes();
        for (name, value) in ex.response_headers {
            if TRANSFER_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(b": ");
            block.extend_from_slice(value);
            block.extend_from_slice(b"\r\n");
        }
        block.extend_from_slice(format!("Content-Length: {}\r\n\r\n", ex.body.len()).as_bytes());

        let mut headers = vec![
            ("WARC-Type", "response".to_string()),
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", ex.target_uri.to_string()),
        ];
        if let Some(ip) = &ex.ip {
            headers.push(("WARC-IP-Address", ip.clone()));
        }
        headers.push(("WARC-Concurrent-To", request_id.clone()));
        let payload_digest = match body_sha256 {
            Some(hash) => labelled_digest(hash),
            None => digest(ex.body),
        };
        headers.push(("WARC-Payload-Digest", payload_digest));
        headers.push((
            "Content-Type",
            "application/http;msgtype=response".to_string(),
        ));
        // The HTTP head and the body are the record's block, passed in parts: the body is not
        // copied behind the head only to be hashed and compressed.
        self.record(&headers, &[&block, ex.body], out)?;

        let mut req_headers = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", request_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", ex.target_uri.to_string()),
        ];
        if let Some(ip) = &ex.ip {
            req_headers.push(("WARC-IP-Address", ip.clone()));
        }
        req_headers.push(("WARC-Concurrent-To", response_id.clone()));
        req_headers.push((
            "Content-Type",
            "application/http;msgtype=request".to_string(),
        ));
        self.record(&req_headers, &[&ex.request], out)?;
        Ok(response_id)
    }

    /// Compresses a whole fetch: each redirect hop, the final exchange, and a `metadata`
    /// record. `depth` is the link distance from a seed.
    pub fn fetch(
        &mut self,
        resp: &crate::fetch::FetchedResponse,
        user_agent: &str,
        depth: u32,
    ) -> io::Result<EncodedFetch> {
        let mut out = Vec::with_capacity(resp.body.len() / 3 + 1024);
        for hop in &resp.redirects {
            self.exchange(
                &Exchange {
                    target_uri: hop.url.as_str(),
                    ip: hop.ip.clone(),
                    date: hop.fetched_at,
                    protocol: &hop.protocol,
                    status: hop.status,
                    response_headers: &hop.headers,
                    body: &hop.body,
                    request: request_block(&hop.url, &hop.protocol, user_agent),
                },
                &mut out,
            )?;
        }
        let response_at = out.len() as u64;
        let response_id = self.exchange_digested(
            &Exchange {
                target_uri: resp.final_url.as_str(),
                ip: resp.ip.clone(),
                date: resp.fetched_at,
                protocol: &resp.protocol,
                status: resp.status,
                response_headers: &resp.headers,
                body: &resp.body,
                request: request_block(&resp.final_url, &resp.protocol, user_agent),
            },
            Some(resp.body_sha256()),
            &mut out,
        )?;
        let mut fields = format!(
            "hopsFromSeed: {}\r\nfetchTimeMs: {}\r\n",
            "L".repeat(depth as usize),
            resp.fetched_at.timestamp_millis()
        );
        for hop in &resp.redirects {
            fields.push_str(&format!("via: {} {}\r\n", hop.status, hop.url));
        }
        let headers = vec![
            ("WARC-Type", "metadata".to_string()),
            ("WARC-Record-ID", record_id("metadata", resp.fetched_at)),
            ("WARC-Date", warc_date(resp.fetched_at)),
            ("WARC-Target-URI", resp.final_url.to_string()),
            ("WARC-Concurrent-To", response_id.clone()),
            ("Content-Type", "application/warc-fields".to_string()),
        ];
        self.record(&headers, &[fields.as_bytes()], &mut out)?;
        Ok(EncodedFetch {
            bytes: out,
            response_at,
            record_id: response_id,
        })
    }

    /// Appends one record to `out` as its own gzip member; its block is the concatenation of
    /// `block`'s parts.
    fn record(
        &mut self,
        headers: &[(&str, String)],
        block: &[&[u8]],
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let block_len: usize = block.iter().map(|part| part.len()).sum();
        let mut head = String::from("WARC/1.1\r\n");
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str(&format!("WARC-Block-Digest: {}\r\n", digest_parts(block)));
        head.push_str(&format!("Content-Length: {block_len}\r\n\r\n"));
        let tail: &[u8] = b"\r\n\r\n";
        let mut crc = Crc::new();
        for part in std::iter::once(head.as_bytes())
            .chain(block.iter().copied())
            .chain([tail])
        {
            crc.update(part);
            self.deflate.write_all(part)?;
        }
        // Finishes this record's deflate stream and resets the compressor for the next one.
        let mut next = Vec::with_capacity(block_len / 3 + 256);
        next.extend_from_slice(&GZIP_HEADER);
        let member = self.deflate.reset(next)?;
        out.extend_from_slice(&member);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        Ok(())
    }
}

/// The request as we sent it, reconstructed (reqwest does not expose the wire bytes).
pub fn request_block(url: &url::Url, protocol: &str, user_agent: &str) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    format!(
        "GET {target} {protocol}\r\nHost: {}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\
         Accept-Encoding: gzip, deflate, br\r\n\r\n",
        crate::url_norm::host_key(url)
    )
    .into_bytes()
}

fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_string()
}

fn warc_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `sha256:` + RFC 4648 base32 of the SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    digest_parts(&[bytes])
}

/// [`digest`] of the concatenation of `parts`.
fn digest_parts(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    labelled_digest(&hasher.finalize())
}

/// A SHA-256 hash as a WARC digest value: `sha256:` and the hash in base32.
fn labelled_digest(hash: &[u8]) -> String {
    format!("sha256:{}", base32(hash))
}

/// RFC 4648 base32 (upper case, `=` padded).
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A random-looking v4 UUID derived from SHA-256 of the URL, the time, the process and a
/// counter — unique without a uuid/rand dependency.
fn record_id(seed: &str, date: DateTime<Utc>) -> String {
    let n = RECORD_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(date.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(n.to_le_bytes());
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::{GzDecoder, MultiGzDecoder};
    use std::io::{Read, Seek, SeekFrom};

    #[test]
    fn base32_matches_rfc4648_vectors() {
        let table = [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ];
        for (input, want) in table {
            assert_eq!(base32(input.as_bytes()), want);
        }
        assert_eq!(
            digest(b""),
            "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="
        );
    }

    #[test]
    fn record_ids_are_unique_v4_uuids() {
        let t = Utc::now();
        let a = record_id("http://a/", t);
        let b = record_id("http://a/", t);
        assert_ne!(a, b);
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&a[24..25], "4", "{a}");
    }

    fn parse_record(text: &str) -> (Vec<(String, String)>, &str) {
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some("WARC/1.1"));
        let headers = lines
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_string(), v.to_string())
            })
            .collect::<Vec<_>>();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "Content-Length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        (headers, &rest[..len])
    }

    fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
        &h.iter().find(|(k, _)| k == name).unwrap().1
    }

    #[test]
    fn writes_readable_records_with_correct_digests() {
        let dir = std::env::temp_dir().join(format!("baqylau-warc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut w = WarcWriter::create(&dir, Utc::now()).unwrap();
        let body = "<p>Қаржы пирамидасы</p>".as_bytes();
        let headers = vec![
            (
                "Content-Type".to_string(),
                b"text/html; charset=utf-8".to_vec(),
            ),
            ("Content-Encoding".to_string(), b"gzip".to_vec()),
            ("Content-Length".to_string(), b"12".to_vec()),
        ];
        let url = url::Url::parse("http://example.kz/p?a=1").unwrap();
        let ex = Exchange {
            target_uri: url.as_str(),
            ip: Some("127.0.0.1".into()),
            date: Utc::now(),
            protocol: "HTTP/1.1",
            status: 200,
            response_headers: &headers,
            body,
            request: request_block(&url, "HTTP/1.1", "baqylau/0.1"),
        };
        let r = w.write_exchange(&ex).unwrap();
        assert!(r.file.starts_with("warc/") && r.file.ends_with(".warc.gz"));

        // The whole file reads as a multi-member gzip stream with three records.
        let mut all = String::new();
        MultiGzDecoder::new(File::open(w.path()).unwrap())
            .read_to_string(&mut all)
            .unwrap();
        assert_eq!(all.matches("WARC/1.1\r\n").count(), 3);

        // The reference's offset opens exactly the response record.
        let mut f = File::open(w.path()).unwrap();
        f.seek(SeekFrom::Start(r.offset)).unwrap();
        let mut one = String::new();
        GzDecoder::new(f).read_to_string(&mut one).unwrap();
        let (h, block) = parse_record(&one);
        assert_eq!(header(&h, "WARC-Type"), "response");
        assert_eq!(header(&h, "WARC-Record-ID"), r.record_id);
        assert_eq!(header(&h, "WARC-Target-URI"), "http://example.kz/p?a=1");
        assert_eq!(header(&h, "WARC-IP-Address"), "127.0.0.1");
        assert_eq!(header(&h, "WARC-Block-Digest"), digest(block.as_bytes()));
        assert_eq!(header(&h, "WARC-Payload-Digest"), digest(body));
        assert!(block.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(!block.contains("Content-Encoding"));
        assert!(block.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(block.ends_with("<p>Қаржы пирамидасы</p>"));

        // The request record follows and points back to the response.
        let req_start = all.find("WARC-Type: request").unwrap();
        let req = &all[all[..req_start].rfind("WARC/1.1").unwrap()..];
        let (rh, rblock) = parse_record(req);
        assert_eq!(header(&rh, "WARC-Concurrent-To"), r.record_id);
        assert_eq!(
            header(&h, "WARC-Concurrent-To"),
            header(&rh, "WARC-Record-ID")
        );
        assert!(rblock.starts_with("GET /p?a=1 HTTP/1.1\r\nHost: example.kz\r\n"));
        assert_eq!(header(&rh, "WARC-Block-Digest"), digest(rblock.as_bytes()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fetch_with_redirect_writes_hop_final_and_metadata() {
        let dir = std::env::temp_dir().join(format!("baqylau-warc-fetch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut w = WarcWriter::create(&dir, Utc::now()).unwrap();
        let hop_url = url::Url::parse("http://example.kz/old").unwrap();
        let resp = crate::fetch::FetchedResponse {
            final_url: url::Url::parse("http://example.kz/new").unwrap(),
            status: 200,
            ip: Some("127.0.0.1".into()),
            protocol: "HTTP/1.1".into(),
            headers: vec![("Content-Type".into(), b"text/html".to_vec())],
            content_type: Some("text/html".into()),
            body: "<p>Жаңа бет</p>".as_bytes().to_vec(),
            fetched_at: Utc::now(),
            redirects: vec![crate::fetch::RedirectHop {
                url: hop_url,
                status: 301,
                ip: Some("127.0.0.1".into()),
                protocol: "HTTP/1.1".into(),
                headers: vec![("Location".into(), b"/new".to_vec())],
                body: vec![],
                fetched_at: Utc::now(),
            }],
            body_digest: Default::default(),
        };
        let r = w.write_fetch(&resp, "baqylau/0.1", 2).unwrap();
        let mut all = String::new();
        MultiGzDecoder::new(File::open(w.path()).unwrap())
            .read_to_string(&mut all)
            .unwrap();
        let types: Vec<&str> = all
            .lines()
            .filter_map(|l| l.strip_prefix("WARC-Type: "))
            .collect();
        assert_eq!(
            types,
            [
                "warcinfo", "response", "request", "response", "request", "metadata"
            ]
        );
        assert!(all.contains("HTTP/1.1 301 Moved Permanently\r\nLocation: /new"));
        let meta = &all[all.find("WARC-Type: metadata").unwrap()..];
        assert!(meta.contains(&format!("WARC-Concurrent-To: {}", r.record_id)));
        assert!(meta.contains("hopsFromSeed: LL\r\n"));
        assert!(meta.contains("via: 301 http://example.kz/old\r\n"));
        let mut f = File::open(w.path()).unwrap();
        f.seek(SeekFrom::Start(r.offset)).unwrap();
        let mut one = String::new();
        GzDecoder::new(f).read_to_string(&mut one).unwrap();
        assert!(one.contains("WARC-Target-URI: http://example.kz/new"));
        assert!(
            one.contains(&format!("WARC-Payload-Digest: {}\r\n", digest(&resp.body))),
            "the final response's payload digest, computed once for the capture too"
        );
        assert_eq!(
            hex::encode(resp.body_sha256()),
            model::sha256_hex(&resp.body)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
