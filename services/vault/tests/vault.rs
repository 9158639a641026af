//! The personal-data vault on both read-model databases: sealing, associated data, erasure, blind index.

use casetrack_eventstore::db::ReadDb;
use casetrack_eventstore::testkit::{TempDir, fresh_postgres, fresh_sqlite};
use casetrack_proto::{EventId, PersonId};
use casetrack_vault::{MasterKey, Vault, VaultError, normalise};

async fn sealing_opening_and_erasure(db: ReadDb) {
    let vault = Vault::new(db.clone(), MasterKey::generate());
    let (alex, sam) = (PersonId::new(), PersonId::new());
    let event = EventId::new();
    vault.ensure_key(alex).await.unwrap();
    vault.ensure_key(alex).await.unwrap();
    vault.ensure_key(sam).await.unwrap();
    // A key made on first asking is the one stored: what it seals, the stored key opens, and so does a second asking.
    let jo = PersonId::new();
    let made = vault.key_for(jo).await.unwrap().seal(event, &"made").unwrap();
    assert_eq!(vault.open::<String>(jo, event, &made).await.unwrap(), "made");
    let again = vault.key_for(jo).await.unwrap().seal(event, &"again").unwrap();
    assert_eq!(vault.open::<String>(jo, event, &again).await.unwrap(), "again");

    let sealed = vault.seal(alex, event, &"07700 900123").await.unwrap();
    assert!(!sealed.0.contains("07700"), "the plaintext must not appear in the sealed value");
    assert_eq!(vault.open::<String>(alex, event, &sealed).await.unwrap(), "07700 900123");

    // Associated data binds the value to its person and event.
    assert!(matches!(vault.open::<String>(alex, EventId::new(), &sealed).await, Err(VaultError::Integrity)));
    assert!(matches!(vault.open::<String>(sam, event, &sealed).await, Err(VaultError::Integrity)));
    // Another master key cannot unwrap the person's key.
    let stranger = Vault::new(db.clone(), MasterKey::generate());
    assert!(matches!(stranger.open::<String>(alex, event, &sealed).await, Err(VaultError::Integrity)));

    vault.erase(alex).await.unwrap();
    assert!(matches!(vault.open::<String>(alex, event, &sealed).await, Err(VaultError::Erased)));
    assert!(matches!(vault.seal(alex, EventId::new(), &"new").await, Err(VaultError::Erased)));
    // Creating a key again after erasure does not bring the person back.
    vault.ensure_key(alex).await.unwrap();
    assert!(matches!(vault.open::<String>(alex, event, &sealed).await, Err(VaultError::Erased)));
    assert!(matches!(vault.key_for(alex).await, Err(VaultError::Erased)));
    // Others are untouched.
    let other = vault.seal(sam, event, &"kept").await.unwrap();
    assert_eq!(vault.open::<String>(sam, event, &other).await.unwrap(), "kept");
    assert!(matches!(vault.open::<String>(PersonId::new(), event, &other).await, Err(VaultError::NoKey)));
}

async fn blind_index_matches_normalised_text_under_one_key_only(db: ReadDb) {
    let key = MasterKey::generate();
    let vault = Vault::new(db.clone(), key.clone());
    let same = Vault::new(db.clone(), key);
    let other = Vault::new(db, MasterKey::generate());
    let a = vault.blind_index(&normalise("Mary O'Brien 1980-01-02"));
    assert_eq!(a, same.blind_index(&normalise("  MARY  o brien, 1980 01 02")));
    assert_ne!(a, vault.blind_index(&normalise("Mary O'Brien 1980-01-03")));
    assert_ne!(a, other.blind_index(&normalise("Mary O'Brien 1980-01-02")));
    assert!(!a.contains("mary"));
}

#[tokio::test]
async fn postgres_sealing_opening_and_erasure() {
    sealing_opening_and_erasure(fresh_postgres().await).await
}

#[tokio::test]
async fn sqlite_sealing_opening_and_erasure() {
    let dir = TempDir::new();
    sealing_opening_and_erasure(fresh_sqlite(dir.path()).await).await
}

#[tokio::test]
async fn blind_index() {
    let dir = TempDir::new();
    blind_index_matches_normalised_text_under_one_key_only(fresh_sqlite(dir.path()).await).await
}

#[test]
fn master_key_file_is_generated_owner_only_and_reused() {
    let dir = TempDir::new();
    let first = MasterKey::load_or_generate(dir.path()).unwrap();
    let again = MasterKey::load_or_generate(dir.path()).unwrap();
    assert_eq!(*first.to_base64(), *again.to_base64());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

async fn keys_for_creates_missing_keys_and_leaves_out_the_erased(db: ReadDb) {
    let vault = Vault::new(db, MasterKey::generate());
    let people: Vec<PersonId> = (0..1_200).map(|_| PersonId::new()).collect();
    let event = EventId::new();
    // One already has a key (and something sealed with it), one has been erased.
    vault.ensure_key(people[0]).await.unwrap();
    let sealed = vault.seal(people[0], event, &"kept").await.unwrap();
    vault.ensure_key(people[1]).await.unwrap();
    vault.erase(people[1]).await.unwrap();

    let keys = vault.keys_for(&people).await.unwrap();
    assert_eq!(keys.len(), 1_199);
    assert!(!keys.contains_key(&people[1]));
    // The existing key was kept, not replaced.
    let again = keys[&people[0]].seal(event, &"kept").unwrap();
    assert_eq!(vault.open::<String>(people[0], event, &sealed).await.unwrap(), "kept");
    assert_eq!(vault.open::<String>(people[0], event, &again).await.unwrap(), "kept");
    // A new key seals what the vault opens.
    let fresh = keys[&people[700]].seal(event, &"new").unwrap();
    assert_eq!(vault.open::<String>(people[700], event, &fresh).await.unwrap(), "new");
}

#[tokio::test]
async fn postgres_keys_for() {
    keys_for_creates_missing_keys_and_leaves_out_the_erased(fresh_postgres().await).await
}

#[tokio::test]
async fn sqlite_keys_for() {
    let dir = TempDir::new();
    keys_for_creates_missing_keys_and_leaves_out_the_erased(fresh_sqlite(dir.path()).await).await
}

/// Embedded, the keys live in a file of their own. Keys an earlier version kept in the read-model database are
/// moved there at start: what they sealed still opens, the erased stay erased, and no copy is left behind.
#[tokio::test]
async fn embedded_keys_move_into_their_own_file_and_nothing_is_lost() {
    let dir = TempDir::new();
    let read_models = fresh_sqlite(dir.path()).await;
    let master = MasterKey::generate();
    let before = Vault::new(read_models.clone(), master.clone());
    let (kept, erased) = (PersonId::new(), PersonId::new());
    let event = EventId::new();
    before.ensure_key(kept).await.unwrap();
    let sealed = before.seal(kept, event, &"kept").await.unwrap();
    before.ensure_key(erased).await.unwrap();
    let gone = before.seal(erased, event, &"gone").await.unwrap();
    before.erase(erased).await.unwrap();
    // Enough people for several batches of the move.
    let many: Vec<PersonId> = (0..12_000).map(|_| PersonId::new()).collect();
    before.keys_for(&many).await.unwrap();

    let path = dir.path().join("keys.db");
    let vault = Vault::in_own_file(&path, &read_models, master.clone()).await.unwrap();
    assert_eq!(vault.open::<String>(kept, event, &sealed).await.unwrap(), "kept");
    assert!(matches!(vault.open::<String>(erased, event, &gone).await, Err(VaultError::Erased)));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_keys").fetch_one(read_models.pool()).await.unwrap();
    assert_eq!(left, 0, "no key is left in the read-model database for an erasure to miss");
    assert_eq!(vault.keys_for(&many).await.unwrap().len(), many.len());

    // New keys go to the vault's file, and a restart finds them there.
    let new = PersonId::new();
    let fresh = vault.key_for(new).await.unwrap().seal(event, &"new").unwrap();
    vault.erase(kept).await.unwrap();
    let again = Vault::in_own_file(&path, &read_models, master).await.unwrap();
    assert_eq!(again.open::<String>(new, event, &fresh).await.unwrap(), "new");
    assert!(matches!(again.open::<String>(kept, event, &sealed).await, Err(VaultError::Erased)));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_keys").fetch_one(read_models.pool()).await.unwrap();
    assert_eq!(left, 0);
}
