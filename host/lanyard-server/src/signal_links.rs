//! Signal links: signed URLs that answer a waiting run, made by
//! `signal_link(signal, choice)` in a flow (Approve/Reject links in a Slack
//! message or a mail) and answered by `crate::signal_pages`.
//!
//! A link is `<public_url>/signals/<token>`. The token is the link's only
//! credential: base64url (no padding) of
//!
//! ```text
//! version (1) | expires, Unix seconds (8) | after_seq (8)
//! | run id (1 + n) | signal (1 + n) | choice (1 + n, 0 for none) | HMAC-SHA256 (32)
//! ```
//!
//! the MAC taken over a domain label and every byte before it, under the
//! daemon's [`LinkKey`]. Nothing in it is secret (the run id, the signal and
//! the choice can be read by whoever holds the link); it cannot be changed
//! or made without the key. At most [`MAX_TOKEN_LEN`] characters.
//!
//! **Single use** needs no record of used tokens: `after_seq` is the journal
//! `seq` of the step that made the link, and the runner accepts a linked
//! signal only for the first wait for that signal whose `seq` is greater
//! ([`crate::runner::Signal::after`]). Once that wait has ended (by this
//! link, its sibling, the API or its timeout) its record is in the journal,
//! so the link answers nothing else, even a later wait for the same signal
//! in a loop. The store's compare-and-swap on the wait makes it once under
//! races.
//!
//! The key is 32 bytes from the OS random source, made at the daemon's
//! first start and kept in `<data_dir>/signal-links.key` (mode 0600). In a
//! file rather than the store: it is a secret, not history, so it does not
//! travel with the store's data or need a place in every store backend, and
//! deleting the file (then restarting) revokes every link made so far.
//!
//! This module makes and reads tokens; it does not look at runs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use lanyard_core::Clock;
use lanyard_flow::{LinkRequest, SignalLinks};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The file in the data directory that holds the key.
pub const KEY_FILE: &str = "signal-links.key";
/// The longest token read or made (characters).
pub const MAX_TOKEN_LEN: usize = 400;
/// The longest run id, signal or choice a token carries (bytes).
const MAX_FIELD: usize = 64;
const VERSION: u8 = 1;
const MAC_LEN: usize = 32;
/// Bound into every MAC, so the key signs nothing else by accident.
const DOMAIN: &[u8] = b"lanyard signal link v1\0";

/// What a link says: which run, which wait, which answer, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub run_id: String,
    pub signal: String,
    pub choice: Option<String>,
    /// The `seq` of the step that made the link.
    pub after_seq: u64,
    pub expires: DateTime<Utc>,
}

/// Why a token was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token: wrong length, encoding or layout.
    #[error("not a signal link")]
    Malformed,
    /// A token whose MAC does not match: changed, or made under another key.
    #[error("the link's signature does not match")]
    Forged,
    #[error("the link expired at {0}")]
    Expired(DateTime<Utc>),
}

/// The key links are signed with.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey([redacted])")
    }
}

impl LinkKey {
    pub fn from_bytes(bytes: [u8; 32]) -> LinkKey {
        LinkKey(bytes)
    }

    /// A new key from the OS random source.
    pub fn generate() -> LinkKey {
        use rand::RngCore as _;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        LinkKey(bytes)
    }

    /// The key in `dir`'s [`KEY_FILE`], made (mode 0600) when there is none.
    pub fn load_or_create(dir: &Path) -> Result<LinkKey, String> {
        let path = dir.join(KEY_FILE);
        let shown = |e: std::io::Error| format!("{}: {e}", path.display());
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(text.trim()).ok_or_else(|| {
                format!("{}: not a signal link key (64 hex digits); delete it to make a new one, which revokes every link made so far", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(shown)?;
                let key = Self::generate();
                write_private(&path, &format!("{}\n", hex::encode(key.0))).map_err(shown)?;
                tracing::info!(file = %path.display(), "made the key signal links are signed with");
                Ok(key)
            }
            Err(e) => Err(shown(e)),
        }
    }

    fn parse(text: &str) -> Option<LinkKey> {
        let bytes = hex::decode(text).ok()?;
        Some(LinkKey(bytes.try_into().ok()?))
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        use jsonwebtoken::{Algorithm, EncodingKey, crypto};
        let mut message = Vec::with_capacity(DOMAIN.len() + payload.len());
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(payload);
        // jsonwebtoken's HS256 is HMAC-SHA256 (the crate the flow language's
        // `hmac_sha256` uses too); it answers base64url.
        let key = EncodingKey::from_secret(&self.0).expect("a 32-byte HMAC key is not empty");
        let signature = crypto::sign(&message, &key, Algorithm::HS256).expect("HMAC takes any message under a 32-byte key");
        let bytes = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')).expect("jsonwebtoken answers base64url");
        bytes.try_into().expect("HMAC-SHA256 is 32 bytes")
    }

    /// The token for `c`; refused when a field is empty or too long.
    pub fn sign(&self, c: &LinkClaims) -> Result<String, String> {
        let mut payload = vec![VERSION];
        payload.extend_from_slice(&c.expires.timestamp().max(0).to_be_bytes());
        payload.extend_from_slice(&c.after_seq.to_be_bytes());
        for (what, field) in [("run id", Some(&c.run_id)), ("signal", Some(&c.signal)), ("choice", c.choice.as_ref())] {
            let bytes = field.map(String::as_bytes).unwrap_or_default();
            if bytes.len() > MAX_FIELD || (field.is_some() && bytes.is_empty()) {
                return Err(format!("a signal link's {what} is 1 to {MAX_FIELD} bytes"));
            }
            payload.push(bytes.len() as u8);
            payload.extend_from_slice(bytes);
        }
        let mac = self.mac(&payload);
        payload.extend_from_slice(&mac);
        Ok(URL_SAFE_NO_PAD.encode(payload))
    }

    /// What `token` says, if this key made it and it has not expired at `now`.
    pub fn open(&self, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| TokenError::Malformed)?;
        if bytes.len() < 1 + 8 + 8 + 3 + MAC_LEN {
            return Err(TokenError::Malformed);
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        // The MAC first: nothing of a forged token is read.
        if !bool::from(self.mac(payload).ct_eq(mac)) {
            return Err(TokenError::Forged);
        }
        let claims = read_payload(payload).ok_or(TokenError::Malformed)?;
        if now >= claims.expires {
            return Err(TokenError::Expired(claims.expires));
        }
        Ok(claims)
    }
}

fn read_payload(p: &[u8]) -> Option<LinkClaims> {
    let (&version, rest) = p.split_first()?;
    if version != VERSION {
        return None;
    }
    let (expires, rest) = rest.split_at_checked(8)?;
    let (after_seq, mut rest) = rest.split_at_checked(8)?;
    let mut fields = Vec::with_capacity(3);
    for _ in 0..3 {
        let (&len, tail) = rest.split_first()?;
        let (field, tail) = tail.split_at_checked(usize::from(len))?;
        fields.push(String::from_utf8(field.to_vec()).ok()?);
        rest = tail;
    }
    if !rest.is_empty() {
        return None;
    }
    let choice = fields.pop().filter(|c| !c.is_empty());
    let signal = fields.pop()?;
    let run_id = fields.pop()?;
    Some(LinkClaims {
        run_id,
        signal,
        choice,
        after_seq: u64::from_be_bytes(after_seq.try_into().ok()?),
        expires: DateTime::from_timestamp(i64::from_be_bytes(expires.try_into().ok()?), 0)?,
    })
}

#[cfg(unix)]
fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// The daemon's link maker: what `signal_link()` calls in its runs.
pub struct SignalLinker {
    key: LinkKey,
    /// `[signals] public_url`, or the daemon's own address once it listens.
    base: RwLock<String>,
    configured: bool,
    max_age: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SignalLinker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalLinker").field("base", &self.base()).field("max_age", &self.max_age).finish_non_exhaustive()
    }
}

impl SignalLinker {
    /// Links under `public_url` (`None`: the listen address, see
    /// [`SignalLinker::listening_at`]), valid for `max_age`.
    pub fn new(key: LinkKey, public_url: Option<&str>, fallback: &str, max_age: Duration, clock: Arc<dyn Clock>) -> SignalLinker {
        SignalLinker {
            key,
            base: RwLock::new(public_url.unwrap_or(fallback).trim_end_matches('/').to_string()),
            configured: public_url.is_some(),
            max_age,
            clock,
        }
    }

    /// The server listens at `addr`: links point there when no public URL is
    /// configured (with one warning: people who get a link may not reach it).
    pub fn listening_at(&self, addr: std::net::SocketAddr) {
        if self.configured {
            return;
        }
        let base = format!("http://{addr}");
        tracing::warn!(%base, "[signals] public_url is not set: signal links point at the daemon's listen address, which people who get them may not reach");
        *self.base.write().unwrap_or_else(|p| p.into_inner()) = base;
    }

    pub fn base(&self) -> String {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn key(&self) -> &LinkKey {
        &self.key
    }

    /// What `token` says, if it is a live link of this daemon.
    pub fn open(&self, token: &str) -> Result<LinkClaims, TokenError> {
        self.key.open(token, self.clock.now())
    }
}

impl SignalLinks for SignalLinker {
    fn link(&self, req: LinkRequest<'_>) -> Result<String, String> {
        let age = chrono::Duration::from_std(self.max_age).map_err(|e| e.to_string())?;
        let claims = LinkClaims {
            run_id: req.run_id.to_string(),
            signal: req.signal.to_string(),
            choice: req.choice.map(str::to_string),
            after_seq: req.after_seq,
            expires: self.clock.now() + age,
        };
        let token = self.key.sign(&claims)?;
        Ok(format!("{}/signals/{token}", self.base()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard_core::ManualClock;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            run_id: "01JF3X5V2K8Q4R7T9W1Y3Z5A7C".into(),
            signal: "approval".into(),
            choice: Some("approve".into()),
            after_seq: 7,
            expires: at(2_000_000_000),
        }
    }

    fn key(n: u8) -> LinkKey {
        LinkKey::from_bytes([n; 32])
    }

    #[test]
    fn a_token_reads_back_as_it_was_made() {
        let t = key(1).sign(&claims()).unwrap();
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "base64url without padding: {t}");
        assert_eq!(key(1).open(&t, at(1_900_000_000)), Ok(claims()));
        let no_choice = LinkClaims { choice: None, ..claims() };
        assert_eq!(key(1).open(&key(1).sign(&no_choice).unwrap(), at(0)), Ok(no_choice));
    }

    #[test]
    fn changing_any_field_or_the_key_is_refused() {
        let t = key(1).sign(&claims()).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let payload = bytes.len() - MAC_LEN;
        // Each byte of the payload (version, expiry, seq, run id, signal,
        // choice) and of the MAC, flipped in turn.
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            let forged = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(key(1).open(&forged, at(0)), Err(TokenError::Forged), "byte {i} of {} (payload {payload})", bytes.len());
            bytes[i] ^= 1;
        }
        // A token re-made with other claims under another key.
        let other = LinkClaims { run_id: "another-run".into(), ..claims() };
        assert_eq!(key(1).open(&key(2).sign(&other).unwrap(), at(0)), Err(TokenError::Forged));
        assert_eq!(key(2).open(&t, at(0)), Err(TokenError::Forged));
        // Cut short or lengthened.
        let shorter = URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]);
        assert_eq!(key(1).open(&shorter, at(0)), Err(TokenError::Forged));
        let longer = URL_SAFE_NO_PAD.encode([&bytes[..], &[0]].concat());
        assert_eq!(key(1).open(&longer, at(0)), Err(TokenError::Forged));
        for junk in ["", "x", "%%%", "a.b.c", &"A".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(key(1).open(junk, at(0)), Err(TokenError::Malformed), "{junk:?}");
        }
    }

    #[test]
    fn a_token_expires() {
        let t = key(1).sign(&claims()).unwrap();
        assert!(key(1).open(&t, at(1_999_999_999)).is_ok());
        assert_eq!(key(1).open(&t, at(2_000_000_000)), Err(TokenError::Expired(at(2_000_000_000))));
    }

    #[test]
    fn tokens_are_bounded() {
        let long = "x".repeat(MAX_FIELD);
        let biggest = LinkClaims { run_id: long.clone(), signal: long.clone(), choice: Some(long.clone()), ..claims() };
        let t = key(1).sign(&biggest).unwrap();
        assert!(t.len() <= MAX_TOKEN_LEN, "{} characters", t.len());
        assert_eq!(key(1).open(&t, at(0)), Ok(biggest));
        let too_long = LinkClaims { signal: format!("{long}x"), ..claims() };
        assert!(key(1).sign(&too_long).is_err());
        let empty = LinkClaims { choice: Some(String::new()), ..claims() };
        assert!(key(1).sign(&empty).is_err());
    }

    #[test]
    fn the_key_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = LinkKey::load_or_create(&data).unwrap();
        let again = LinkKey::load_or_create(&data).unwrap();
        assert_eq!(first.0, again.0);
        assert_ne!(first.0, LinkKey::load_or_create(&dir.path().join("other")).unwrap().0, "each daemon its own key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(data.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(data.join(KEY_FILE), "not a key").unwrap();
        let e = LinkKey::load_or_create(&data).unwrap_err();
        assert!(e.contains("not a signal link key"), "{e}");
    }

    #[test]
    fn links_are_absolute_under_the_public_url_and_expire_after_max_age() {
        let clock = Arc::new(ManualClock::new(at(1_000_000)));
        let l = SignalLinker::new(key(3), Some("https://lanyard.example.com/"), "http://127.0.0.1:8080", Duration::from_secs(3600), clock.clone());
        l.listening_at("127.0.0.1:9".parse().unwrap());
        let req = LinkRequest { run_id: "r1", signal: "approval", choice: Some("reject"), after_seq: 4 };
        let url = l.link(req).unwrap();
        let token = url.strip_prefix("https://lanyard.example.com/signals/").expect(&url);
        let c = l.open(token).unwrap();
        assert_eq!((c.run_id.as_str(), c.signal.as_str(), c.choice.as_deref(), c.after_seq), ("r1", "approval", Some("reject"), 4));
        assert_eq!(c.expires, at(1_000_000 + 3600));
        clock.set(at(1_000_000 + 3600));
        assert!(matches!(l.open(token), Err(TokenError::Expired(_))));

        let local = SignalLinker::new(key(3), None, "http://127.0.0.1:8080", Duration::from_secs(60), clock);
        local.listening_at("127.0.0.1:9".parse().unwrap());
        assert!(local.link(req).unwrap().starts_with("http://127.0.0.1:9/signals/"));
    }
}
