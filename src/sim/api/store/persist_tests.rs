//! The store on disk: the log, snapshots, torn tails, the legacy file, failed writes.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::persist::{LEGACY_FILE, LOG_FILE, SNAPSHOT_FILE};
use super::*;

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "fleetctl-persist-{}",
        uuid::Uuid::new_v4().simple()
    ))
}

fn open(dir: &std::path::Path) -> (Arc<Store>, ResourceType) {
    crate::fsutil::create_dir_private(dir).unwrap();
    let s = Store::new(Registry::new(true), 100, Some(dir.to_path_buf()));
    s.load().unwrap();
    s.persist().unwrap();
    s.bootstrap(&["default", "agents"]);
    let rt = s.registry().find("", "v1", "configmaps").unwrap().clone();
    (s, rt)
}

fn cm(name: &str, v: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": v}})
}

fn put(s: &Store, rt: &ResourceType, name: &str, v: &str) -> Value {
    s.create(rt, "agents", cm(name, v), false, |o| Ok(o.clone()))
        .unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn changes_survive_a_restart_through_the_log_and_the_snapshot() {
    let dir = temp_dir();
    let (s, rt) = open(&dir);
    for i in 0..50 {
        put(&s, &rt, &format!("c{i}"), "1");
    }
    s.update(&rt, "agents", "c1", Part::Main, false, |o| {
        let mut o = o.clone();
        o["data"]["v"] = json!("2");
        Ok(o)
    })
    .unwrap();
    s.delete(&rt, "agents", "c2", &DeleteOptions::default())
        .unwrap();
    s.flush(false, Duration::from_secs(10)).unwrap();
    let rv = s.current_rv();
    assert!(dir.join(LOG_FILE).exists());
    assert!(
        !dir.join(SNAPSHOT_FILE).exists(),
        "no whole-store write for a few changes"
    );
    s.close();
    drop(s);
    // A restart reads the log alone.
    let (s, rt) = open(&dir);
    assert_eq!(s.current_rv(), rv, "bootstrap finds its namespaces there");
    assert_eq!(s.get(&rt, "agents", "c1").unwrap()["data"]["v"], "2");
    assert!(s.get(&rt, "agents", "c2").is_err());
    assert!(s.get(&rt, "agents", "c49").is_ok());
    // A stop compacts the log into a snapshot; the next start reads it.
    s.flush(true, Duration::from_secs(10)).unwrap();
    s.close();
    drop(s);
    assert_eq!(std::fs::metadata(dir.join(LOG_FILE)).unwrap().len(), 0);
    assert_eq!(mode(&dir.join(SNAPSHOT_FILE)), 0o600);
    assert_eq!(mode(&dir.join(LOG_FILE)), 0o600);
    let (s, rt) = open(&dir);
    assert_eq!(s.current_rv(), rv);
    assert_eq!(s.get(&rt, "agents", "c1").unwrap()["data"]["v"], "2");
    assert_eq!(
        s.list(
            &rt,
            Some("agents"),
            &Selector::default(),
            &FieldSelector::default(),
            None,
            None
        )
        .unwrap()
        .items
        .len(),
        49
    );
    s.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_torn_last_record_is_cut_off_and_the_rest_loads() {
    let dir = temp_dir();
    let (s, rt) = open(&dir);
    for i in 0..10 {
        put(&s, &rt, &format!("c{i}"), "1");
    }
    s.flush(false, Duration::from_secs(10)).unwrap();
    s.close();
    drop(s);
    // A crash in the middle of a record: its first bytes only.
    let log = dir.join(LOG_FILE);
    let whole = std::fs::read(&log).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, &whole[..whole.len().min(30)]).unwrap();
    drop(f);
    let (s, rt) = open(&dir);
    for i in 0..10 {
        assert!(s.get(&rt, "agents", &format!("c{i}")).is_ok());
    }
    put(&s, &rt, "after", "1");
    s.flush(false, Duration::from_secs(10)).unwrap();
    s.close();
    drop(s);
    let (s, rt) = open(&dir);
    assert!(
        s.get(&rt, "agents", "after").is_ok(),
        "records after a cut tail load"
    );
    s.close();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_older_state_json_is_read_and_replaced_by_a_snapshot() {
    let dir = temp_dir();
    crate::fsutil::create_dir_private(&dir).unwrap();
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "old", "namespace": "agents", "resourceVersion": "7", "uid": "u"},
        "data": {"v": "legacy"}});
    std::fs::write(
        dir.join(LEGACY_FILE),
        serde_json::to_vec(
            &json!({"rv": 7, "objects": [{"group": "", "plural": "configmaps", "object": obj}]}),
        )
        .unwrap(),
    )
    .unwrap();
    let (s, rt) = open(&dir);
    assert_eq!(s.get(&rt, "agents", "old").unwrap()["data"]["v"], "legacy");
    assert!(s.current_rv() > 7);
    s.flush(false, Duration::from_secs(10)).unwrap();
    assert!(dir.join(SNAPSHOT_FILE).exists());
    assert!(!dir.join(LEGACY_FILE).exists());
    s.close();
    let _ = std::fs::remove_dir_all(dir);
}

/// A write that fails is reported (not silently dropped) and retried until it succeeds: the
/// store on disk then holds every change, the ones made while writing failed included.
#[test]
fn a_failed_write_is_reported_and_retried() {
    let dir = temp_dir();
    let (s, rt) = open(&dir);
    put(&s, &rt, "before", "1");
    s.flush(false, Duration::from_secs(10)).unwrap();
    // Every write of the log fails from now on (as on a full disk).
    s.close();
    drop(s);
    let (s, rt) = {
        crate::fsutil::create_dir_private(&dir).unwrap();
        let s = Store::new(Registry::new(true), 100, Some(dir.clone()));
        s.load().unwrap();
        std::fs::remove_file(dir.join(LOG_FILE)).unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.join(LOG_FILE)).unwrap();
        // Nor can a snapshot replace it.
        std::fs::create_dir(dir.join(SNAPSHOT_FILE)).unwrap();
        s.persist().unwrap();
        let rt = s.registry().find("", "v1", "configmaps").unwrap().clone();
        (s, rt)
    };
    put(&s, &rt, "during", "1");
    let err = s.flush(false, Duration::from_secs(2)).unwrap_err();
    assert!(err.to_string().contains("not written"), "{err}");
    // The disk recovers: the retry writes everything.
    std::fs::remove_dir(dir.join(SNAPSHOT_FILE)).unwrap();
    s.flush(false, Duration::from_secs(20)).unwrap();
    s.close();
    drop(s);
    let (s, rt) = open(&dir);
    assert!(s.get(&rt, "agents", "before").is_ok());
    assert!(s.get(&rt, "agents", "during").is_ok());
    s.close();
    let _ = std::fs::remove_dir_all(dir);
}
