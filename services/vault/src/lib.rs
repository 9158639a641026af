//! The personal-data vault.
//!
//! - Each person has a random 256-bit data key, stored wrapped (XChaCha20-Poly1305) by the master key, with the
//!   person id as associated data so a wrapped key cannot be moved to another person.
//! - Personal fields are sealed with the person's key inside events: XChaCha20-Poly1305, random 192-bit nonce,
//!   associated data = person id ‖ event id, so a sealed value cannot be replayed into another event or person.
//! - Erasure deletes the wrapped key. Every sealed value of that person in the log becomes noise: the log is never
//!   rewritten, and nothing can decrypt it again (crypto-shredding).
//! - The blind index is an HMAC-SHA256 under a key derived from the master key, so duplicates can be matched on
//!   normalised name and date of birth without storing either in plaintext.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use casetrack_proto::{EventId, PersonId, Sealed};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;
use zeroize::Zeroizing;

use std::collections::HashMap;

use casetrack_eventstore::db::ReadDb;

const SEALED_PREFIX: &str = "v1.";
/// Keys created and read per transaction by [`Vault::keys_for`].
const KEY_BATCH: usize = 500;

/// The master key: 32 bytes, never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// Parses the base64 form used in `CASETRACK_MASTER_KEY` and in the key file.
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .context("the master key is not valid base64")?,
        );
        let key: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| anyhow::anyhow!("the master key must be 32 bytes"))?;
        Ok(Self(Zeroizing::new(key)))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
    }

    /// Reads the key file in `dir`, or creates one (owner-only permissions) and says so in the log.
    pub fn load_or_generate(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("master.key");
        if path.exists() {
            let text = Zeroizing::new(
                std::fs::read_to_string(&path).with_context(|| format!("failed to read {}", path.display()))?,
            );
            return Self::from_base64(&text);
        }
        let key = Self::generate();
        write_owner_only(&path, key.to_base64().as_bytes())?;
        tracing::warn!(
            path = %path.display(),
            "generated a new master key for personal data; back it up and keep it apart from the data: without it nobody \
             can read any person's details"
        );
        Ok(key)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

fn write_owner_only(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("failed to create {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The person's key was erased: their data is gone for good.
    #[error("this person's data has been erased")]
    Erased,
    #[error("no data key exists for this person")]
    NoKey,
    /// Wrong key, tampered value, or a value moved to another person or event.
    #[error("sealed data failed its integrity check")]
    Integrity,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Vault {
    db: ReadDb,
    master: MasterKey,
    blind_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The data keys' table, as the platform's first migration makes it in the read-model database.
const KEYS_TABLE: &str = "CREATE TABLE IF NOT EXISTS person_keys (person_id TEXT PRIMARY KEY, wrapped_key TEXT, \
                          created_at TEXT NOT NULL, erased_at TEXT)";

/// Keys moved per transaction from the read-model database into the embedded vault's own file.
const MOVE_BATCH: i64 = 5_000;

impl Vault {
    /// The vault with its keys in `db` (PostgreSQL, where writers do not queue for one lock).
    pub fn new(db: ReadDb, master: MasterKey) -> Self {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(master.0.as_ref()).expect("HMAC takes any key length");
        mac.update(b"casetrack blind index v1");
        let blind_key = Zeroizing::new(mac.finalize().into_bytes().into());
        Self { db, master, blind_key }
    }

    /// The embedded vault: its keys in a SQLite file of their own (`keys.db`), whose one writer never waits
    /// behind the read models' (a registration's key, written while the person waits, waited a projection's batch:
    /// 6.6 ms of a 14 ms registration under load). Keys an earlier version kept in the read-model database
    /// (`read_models`) are moved here, each once, and then removed there, so that erasure has one key to destroy.
    pub async fn in_own_file(path: &Path, read_models: &ReadDb, master: MasterKey) -> anyhow::Result<Self> {
        let db = ReadDb::open(&format!("sqlite://{}?mode=rwc", path.display())).await?;
        sqlx::query(KEYS_TABLE).execute(db.pool()).await.context("failed to make the vault's table of keys")?;
        move_keys(read_models, &db).await.context("failed to move the data keys into the vault's own file")?;
        Ok(Self::new(db, master))
    }

    /// A new random data key for `person`: the key itself, and as stored (wrapped by the master key, the person's id
    /// as associated data).
    fn new_key(&self, person: PersonId) -> Result<(DataKey, String), VaultError> {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let wrapped = self
            .master
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.as_ref(), aad: person.to_string().as_bytes() })
            .map_err(|_| VaultError::Integrity)?;
        let mut stored = nonce.to_vec();
        stored.extend(wrapped);
        let cipher = XChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| VaultError::Integrity)?;
        Ok((DataKey { person, cipher }, B64.encode(stored)))
    }

    /// Unwraps a stored key (`None`: erased).
    fn unwrap_key(&self, person: PersonId, stored: Option<&str>) -> Result<DataKey, VaultError> {
        let wrapped = B64.decode(stored.ok_or(VaultError::Erased)?).map_err(|_| VaultError::Integrity)?;
        if wrapped.len() < 24 {
            return Err(VaultError::Integrity);
        }
        let (nonce, ciphertext) = wrapped.split_at(24);
        let key = Zeroizing::new(
            self.master
                .cipher()
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: person.to_string().as_bytes() })
                .map_err(|_| VaultError::Integrity)?,
        );
        let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|_| VaultError::Integrity)?;
        Ok(DataKey { person, cipher })
    }

    /// Creates the person's data key if they have none. Idempotent.
    pub async fn ensure_key(&self, person: PersonId) -> Result<(), VaultError> {
        match self.key_for(person).await {
            Ok(_) | Err(VaultError::Erased) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The person's data key, created if they have none ([`VaultError::Erased`] if they were erased). A key made
    /// here is used as made, with no second read of what was just written (registering someone new).
    pub async fn key_for(&self, person: PersonId) -> Result<DataKey, VaultError> {
        let (key, wrapped) = self.new_key(person)?;
        // In a write transaction of its own, which on SQLite queues for the writer's turn ahead of background work,
        // rather than in SQLite's busy wait (which sleeps up to 100 ms at a time: registrations' slowest tenth).
        let mut tx = self.db.begin().await?;
        let written = sqlx::query(
            "INSERT INTO person_keys (person_id, wrapped_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (person_id) DO NOTHING",
        )
        .bind(person.to_string())
        .bind(wrapped)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if written.rows_affected() == 1 { Ok(key) } else { self.data_key(person).await }
    }

    /// The data keys of many people, created where missing, a few hundred per transaction (imports). People
    /// already erased are left out of the answer.
    pub async fn keys_for(&self, persons: &[PersonId]) -> Result<HashMap<PersonId, DataKey>, VaultError> {
        let mut keys = HashMap::with_capacity(persons.len());
        let now = chrono::Utc::now().to_rfc3339();
        for chunk in persons.chunks(KEY_BATCH) {
            let mut tx = self.db.begin().await?;
            let rows = chunk
                .iter()
                .map(|p| Ok((p.to_string(), self.new_key(*p)?.1)))
                .collect::<Result<Vec<_>, VaultError>>()?;
            // `$n` placeholders written out: sqlx's query builder writes `?` for the Any driver, which PostgreSQL refuses.
            let values = casetrack_eventstore::db::placeholder_rows(rows.len(), 3);
            let insert = format!(
                "INSERT INTO person_keys (person_id, wrapped_key, created_at) VALUES {values} ON CONFLICT (person_id) DO NOTHING"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
            for (person, wrapped) in &rows {
                query = query.bind(person.clone()).bind(wrapped.clone()).bind(now.clone());
            }
            query.execute(&mut *tx).await?;
            let select = format!(
                "SELECT person_id, wrapped_key FROM person_keys WHERE person_id IN ({})",
                casetrack_eventstore::db::placeholder_list(1, rows.len())
            );
            let mut query = sqlx::query_as::<_, (String, Option<String>)>(sqlx::AssertSqlSafe(select));
            for (person, _) in &rows {
                query = query.bind(person.clone());
            }
            let stored = query.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            for (person, wrapped) in stored {
                let person = PersonId(person.parse().map_err(|_| VaultError::Integrity)?);
                match self.unwrap_key(person, wrapped.as_deref()) {
                    Ok(key) => {
                        keys.insert(person, key);
                    }
                    Err(VaultError::Erased) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        Ok(keys)
    }

    async fn data_key(&self, person: PersonId) -> Result<DataKey, VaultError> {
        let row: Option<(Option<String>,)> = sqlx::query_as("SELECT wrapped_key FROM person_keys WHERE person_id = $1")
            .bind(person.to_string())
            .fetch_optional(self.db.pool())
            .await?;
        match row {
            None => Err(VaultError::NoKey),
            Some((stored,)) => self.unwrap_key(person, stored.as_deref()),
        }
    }

    /// Seals a value for one person inside one event.
    pub async fn seal<T: Serialize>(&self, person: PersonId, event: EventId, value: &T) -> Result<Sealed, VaultError> {
        self.data_key(person).await?.seal(event, value)
    }

    /// Opens a sealed value. [`VaultError::Erased`] once the person has been erased.
    pub async fn open<T: DeserializeOwned>(
        &self,
        person: PersonId,
        event: EventId,
        sealed: &Sealed,
    ) -> Result<T, VaultError> {
        let cipher = self.data_key(person).await?.cipher;
        let bytes =
            sealed.0.strip_prefix(SEALED_PREFIX).and_then(|b| B64.decode(b).ok()).ok_or(VaultError::Integrity)?;
        if bytes.len() < 24 {
            return Err(VaultError::Integrity);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let aad = associated_data(person, event);
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
                .map_err(|_| VaultError::Integrity)?,
        );
        serde_json::from_slice(&plaintext).map_err(|_| VaultError::Integrity)
    }

    /// Destroys the person's data key. Idempotent; the row stays to record when.
    pub async fn erase(&self, person: PersonId) -> Result<(), VaultError> {
        sqlx::query("UPDATE person_keys SET wrapped_key = NULL, erased_at = $1 WHERE person_id = $2 AND wrapped_key IS NOT NULL")
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(person.to_string())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Keyed hash of already-normalised text (see [`normalise`]), hex encoded.
    pub fn blind_index(&self, normalised: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.blind_key.as_ref()).expect("HMAC takes any key length");
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Moves every key row (erased ones too: they record when) from `from` to `to`, a batch at a time: each batch is
/// written to `to` (a key already there, erased or not, is kept as it is), then deleted from `from`. Stopped
/// halfway, it goes on from where it stopped at the next start, and loses nothing.
async fn move_keys(from: &ReadDb, to: &ReadDb) -> Result<(), VaultError> {
    loop {
        let rows: Vec<(String, Option<String>, String, Option<String>)> = sqlx::query_as(
            "SELECT person_id, wrapped_key, created_at, erased_at FROM person_keys ORDER BY person_id LIMIT $1",
        )
        .bind(MOVE_BATCH)
        .fetch_all(from.pool())
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = to.begin().await?;
        for chunk in rows.chunks(KEY_BATCH) {
            let values = casetrack_eventstore::db::placeholder_rows(chunk.len(), 4);
            let insert = format!(
                "INSERT INTO person_keys (person_id, wrapped_key, created_at, erased_at) VALUES {values} \
                 ON CONFLICT (person_id) DO NOTHING"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
            for (person, wrapped, created, erased) in chunk {
                query = query.bind(person.clone()).bind(wrapped.clone()).bind(created.clone()).bind(erased.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let moved: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
        let mut tx = from.begin().await?;
        casetrack_eventstore::db::delete_in(&mut tx, "DELETE FROM person_keys WHERE person_id IN", &moved).await?;
        tx.commit().await?;
        tracing::info!(keys = rows.len(), "moved data keys into the vault's own file");
    }
}

/// One person's unwrapped data key, held briefly in memory (never printed).
pub struct DataKey {
    person: PersonId,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// Seals a value for this person inside one event.
    pub fn seal<T: Serialize>(&self, event: EventId, value: &T) -> Result<Sealed, VaultError> {
        let plaintext = Zeroizing::new(serde_json::to_vec(value).expect("personal data serialises"));
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(self.person, event);
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
            .map_err(|_| VaultError::Integrity)?;
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        Ok(Sealed(format!("{SEALED_PREFIX}{}", B64.encode(sealed))))
    }
}

fn associated_data(person: PersonId, event: EventId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32);
    aad.extend_from_slice(person.0.as_bytes());
    aad.extend_from_slice(event.0.as_bytes());
    aad
}

/// Normalises text for matching: lowercase, letters and digits only, runs of anything else collapsed to one space.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_ignores_case_punctuation_and_spacing() {
        assert_eq!(normalise("  O'Brien-Smith,  MARY "), "o brien smith mary");
    }

    #[test]
    fn master_key_round_trips_and_never_prints() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.0.as_ref(), again.0.as_ref());
        assert_eq!(format!("{key:?}"), "MasterKey(..)");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }
}
