//! Digests: a signed statement (Ed25519) of every stream's head, for an auditor to keep
//! elsewhere. A digest file is NDJSON: a header line, one line per stream
//! (`aggregate_type`, `aggregate_id`, `sequence`, `hash`), and a last line with the counts and
//! the signature, over the SHA-256 of every byte before it.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use futures::TryStreamExt;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Every stream's head, signed.
pub type Heads = HashMap<(String, String), (i64, Vec<u8>)>;

#[derive(Serialize, Deserialize)]
struct Header {
    digest: String,
    version: u32,
    created_at: chrono::DateTime<chrono::Utc>,
    /// The signing key's public half (base64), to check against the one the auditor trusts.
    public_key: String,
}

#[derive(Serialize, Deserialize)]
struct Head {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    hash: String,
}

#[derive(Serialize, Deserialize)]
struct Footer {
    streams: u64,
    signature: String,
}

/// Makes a new signing key (PKCS#8) and returns its public half (base64).
pub fn new_key(path: &std::path::Path) -> anyhow::Result<String> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("cannot make a key"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("cannot read the key just made"))?;
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?
        .write_all(pkcs8.as_ref())?;
    Ok(BASE64.encode(pair.public_key().as_ref()))
}

fn load_key(path: &std::path::Path) -> anyhow::Result<Ed25519KeyPair> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| anyhow::anyhow!("{} is not an Ed25519 key (PKCS#8)", path.display()))
}

/// A line and the running hash of what the signature covers.
struct Signed<W: Write> {
    out: W,
    hasher: Sha256,
}

impl<W: Write> Signed<W> {
    fn line(&mut self, value: &impl Serialize) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.out.write_all(&line)?;
        Ok(())
    }
}

/// Writes a digest of every stream's head to `out`, signed with the key in `key`; returns the
/// number of streams.
pub async fn write(pool: &PgPool, key: &std::path::Path, out: impl Write) -> anyhow::Result<u64> {
    let pair = load_key(key)?;
    let mut signed = Signed {
        out,
        hasher: Sha256::new(),
    };
    signed.line(&Header {
        digest: "operations event-stream heads".into(),
        version: 1,
        created_at: chrono::Utc::now(),
        public_key: BASE64.encode(pair.public_key().as_ref()),
    })?;
    let mut heads = sqlx::query_as::<_, (String, String, i64, Option<Vec<u8>>)>(
        "SELECT DISTINCT ON (aggregate_type, aggregate_id)
                aggregate_type, aggregate_id, sequence, hash
           FROM events ORDER BY aggregate_type, aggregate_id, sequence DESC",
    )
    .fetch(pool);
    let mut streams = 0;
    while let Some((aggregate_type, aggregate_id, sequence, hash)) = heads.try_next().await? {
        streams += 1;
        signed.line(&Head {
            aggregate_type,
            aggregate_id,
            sequence,
            hash: hash.map(hex).unwrap_or_default(),
        })?;
    }
    let statement = signed.hasher.clone().finalize();
    signed.line(&Footer {
        streams,
        signature: BASE64.encode(pair.sign(&statement).as_ref()),
    })?;
    signed.out.flush()?;
    Ok(streams)
}

fn hex(bytes: Vec<u8>) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (text.len() % 2 == 0)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
                .collect()
        })
        .flatten()
}

/// Reads a digest and checks its signature, against `trusted` (a public key, base64) when
/// given, else against the key it names (whose fingerprint the caller should show). Returns
/// the heads and the public key that signed them.
pub fn read(input: impl BufRead, trusted: Option<&str>) -> anyhow::Result<(Heads, String)> {
    let mut hasher = Sha256::new();
    let mut lines = input.lines();
    let first = lines.next().context("the digest is empty")??;
    hasher.update(first.as_bytes());
    hasher.update(b"\n");
    let header: Header = serde_json::from_str(&first).context("the digest's first line")?;
    if header.version != 1 {
        bail!("digest version {} is not known", header.version);
    }
    if let Some(trusted) = trusted {
        if BASE64
            .decode(trusted.trim())
            .map_or(true, |key| key.len() != 32)
        {
            bail!("--public-key is not an Ed25519 public key (32 bytes, base64)");
        }
        if trusted.trim() != header.public_key {
            bail!("the digest was signed by another key than the trusted one");
        }
    }
    let mut heads = Heads::new();
    let mut footer = None;
    for line in lines {
        let line = line?;
        if footer.is_some() {
            bail!("the digest goes on after its signature");
        }
        if let Ok(head) = serde_json::from_str::<Head>(&line) {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
            let hash = unhex(&head.hash).context("a head's hash is not hex")?;
            heads.insert(
                (head.aggregate_type, head.aggregate_id),
                (head.sequence, hash),
            );
        } else {
            footer = Some(serde_json::from_str::<Footer>(&line).context("a digest line")?);
        }
    }
    let footer = footer.context("the digest has no signature: it was cut short")?;
    let public = BASE64
        .decode(&header.public_key)
        .context("the digest's public key")?;
    let signature = BASE64
        .decode(&footer.signature)
        .context("the digest's signature")?;
    signature::UnparsedPublicKey::new(&signature::ED25519, public)
        .verify(&hasher.finalize(), &signature)
        .map_err(|_| anyhow::anyhow!("the digest's signature does not verify: it was altered"))?;
    if footer.streams != heads.len() as u64 {
        bail!(
            "the digest names {} streams but holds {}",
            footer.streams,
            heads.len()
        );
    }
    Ok((heads, header.public_key))
}
