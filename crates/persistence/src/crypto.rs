//! Protection of personal data at rest: CPR numbers are stored encrypted with an authenticated
//! cipher (ChaCha20-Poly1305, bound to the row id) and found again by a keyed hash (HMAC-SHA256),
//! so the database never holds a CPR in the clear and equality lookups still work.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::RepoError;

type HmacSha256 = Hmac<Sha256>;

const CIPHERTEXT_PREFIX: &str = "v1:";

/// The master key for personal data (`SMAAJOB_DATA_KEY`): 32 bytes. Separate sub-keys for
/// hashing and encryption are derived from it so one never doubles as the other.
#[derive(Clone)]
pub struct DataKey {
    hash_key: [u8; 32],
    cipher: ChaCha20Poly1305,
    session_key: [u8; 64],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// A data key that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("SMAAJOB_DATA_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
pub struct BadDataKey;

impl DataKey {
    /// Decodes a base64 (standard or URL-safe) 32-byte key.
    pub fn from_base64(s: &str) -> Result<DataKey, BadDataKey> {
        let s = s.trim();
        let bytes =
            STANDARD.decode(s).or_else(|_| URL_SAFE_NO_PAD.decode(s.trim_end_matches('='))).map_err(|_| BadDataKey)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| BadDataKey)?;
        Ok(DataKey::from_bytes(&master))
    }

    /// Builds the key from raw bytes.
    pub fn from_bytes(master: &[u8; 32]) -> DataKey {
        let hash_key = derive(master, b"smaajob/cpr-hash/v1");
        let enc_key = derive(master, b"smaajob/cpr-encryption/v1");
        // The web pages' session cookies are sealed with their own sub-key: every instance
        // sharing the data key reads every other's sessions, and a leaked session key tells
        // nothing about the CPR keys.
        let mut session_key = [0u8; 64];
        session_key[..32].copy_from_slice(&derive(master, b"smaajob/session-cookie/signing/v1"));
        session_key[32..].copy_from_slice(&derive(master, b"smaajob/session-cookie/encryption/v1"));
        DataKey { hash_key, cipher: ChaCha20Poly1305::new(Key::from_slice(&enc_key)), session_key }
    }

    /// The key material the web pages' session cookies are sealed with (derived, never the
    /// master key or a CPR sub-key).
    pub fn session_key(&self) -> [u8; 64] {
        self.session_key
    }

    /// A fresh random key, base64-encoded, for local development.
    pub fn generate_base64() -> String {
        STANDARD.encode(rand::random::<[u8; 32]>())
    }

    /// The keyed hash used to find a row by its secret value.
    pub fn lookup_hash(&self, secret: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash_key).expect("any key length");
        mac.update(secret.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Encrypts `secret`, bound to `row_id` so a ciphertext copied to another row won't decrypt.
    pub fn encrypt(&self, row_id: &str, secret: &str) -> String {
        let nonce_bytes = rand::random::<[u8; 12]>();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), Payload { msg: secret.as_bytes(), aad: row_id.as_bytes() })
            .expect("ChaCha20-Poly1305 encryption of a short message cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        format!("{CIPHERTEXT_PREFIX}{}", STANDARD.encode(out))
    }

    /// Decrypts what [`DataKey::encrypt`] produced for the same row.
    pub fn decrypt(&self, row_id: &str, stored: &str) -> Result<String, RepoError> {
        let corrupt = || RepoError::Corrupt("encrypted field cannot be decrypted with this key".into());
        let b64 = stored.strip_prefix(CIPHERTEXT_PREFIX).ok_or_else(corrupt)?;
        let raw = STANDARD.decode(b64).map_err(|_| corrupt())?;
        if raw.len() < 12 {
            return Err(corrupt());
        }
        let (nonce, sealed) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: row_id.as_bytes() })
            .map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(b: u8) -> DataKey {
        DataKey::from_bytes(&[b; 32])
    }

    #[test]
    fn an_encrypted_value_decrypts_for_its_own_row_only() {
        let k = key(7);
        let sealed = k.encrypt("row-1", "0101901234");
        assert!(!sealed.contains("0101901234"));
        assert_eq!(k.decrypt("row-1", &sealed).unwrap(), "0101901234");
        assert!(k.decrypt("row-2", &sealed).is_err());
    }

    #[test]
    fn encrypting_twice_gives_different_ciphertexts() {
        let k = key(7);
        assert_ne!(k.encrypt("r", "x"), k.encrypt("r", "x"));
    }

    #[test]
    fn another_key_cannot_decrypt_and_hashes_differently() {
        let sealed = key(1).encrypt("r", "secret");
        assert!(key(2).decrypt("r", &sealed).is_err());
        assert_ne!(key(1).lookup_hash("secret"), key(2).lookup_hash("secret"));
        assert_eq!(key(1).lookup_hash("secret"), key(1).lookup_hash("secret"));
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let k = key(3);
        let mut sealed = k.encrypt("r", "secret").into_bytes();
        let last = sealed.len() - 2;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        assert!(k.decrypt("r", &String::from_utf8(sealed).unwrap()).is_err());
    }

    #[test]
    fn a_data_key_must_be_32_bytes_of_base64() {
        assert!(DataKey::from_base64(&DataKey::generate_base64()).is_ok());
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
        assert!(DataKey::from_base64("not base64 at all!").is_err());
    }
}
