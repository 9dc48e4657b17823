//! The backend contract as one suite run on every implementation: the in-memory map, sled,
//! and PostgreSQL. What the tables rely on is checked here once: key order (bytes, not
//! text), prefix scans with `after` and limits, the last write of a key winning inside a
//! batch, guards checked atomically with their writes (also under contention from many
//! threads), and compare-and-swap.

use super::backend::{Backend, Guard, Write};
use std::sync::Arc;

fn put(k: &[u8], v: &[u8]) -> Write {
    Write::Put(k.to_vec(), v.to_vec())
}

fn keys(found: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    found.iter().map(|(k, _)| k.clone()).collect()
}

/// Every check, on `backend` (empty).
pub fn suite(backend: Arc<dyn Backend>) {
    reads_what_was_written(&*backend);
    scans_in_byte_order_within_a_prefix(&*backend);
    guards_are_checked_with_their_writes(&*backend);
    compare_and_swap_needs_the_old_value(&*backend);
    guarded_increments_from_many_threads_lose_nothing(backend);
}

fn reads_what_was_written(b: &dyn Backend) {
    assert_eq!(b.get(b"a/missing").unwrap(), None);
    b.apply(vec![put(b"a/1", b"one"), put(b"a/2", b"two")])
        .unwrap();
    assert_eq!(b.get(b"a/1").unwrap(), Some(b"one".to_vec()));
    // Inside a batch, the last write of a key wins.
    b.apply(vec![
        put(b"a/1", b"first"),
        Write::Delete(b"a/1".to_vec()),
        put(b"a/2", b"x"),
        put(b"a/2", b"last"),
    ])
    .unwrap();
    assert_eq!(b.get(b"a/1").unwrap(), None);
    assert_eq!(b.get(b"a/2").unwrap(), Some(b"last".to_vec()));
    // Empty values and binary keys are values and keys like any other.
    b.apply(vec![put(&[b'a', 0, 0xFF], b"")]).unwrap();
    assert_eq!(b.get(&[b'a', 0, 0xFF]).unwrap(), Some(Vec::new()));
    b.apply(Vec::new()).unwrap();
    b.durable().unwrap();
}

fn scans_in_byte_order_within_a_prefix(b: &dyn Backend) {
    let all: Vec<&[u8]> = vec![
        b"s/",
        b"s/a",
        b"s/a\x00",
        b"s/ab",
        b"s/b",
        b"s/\x7f",
        b"s/\xff",
        b"s/\xff\xff",
        b"t/a",
        b"r/z",
    ];
    b.apply(all.iter().map(|k| put(k, k)).collect()).unwrap();
    let scanned = b.scan(b"s/", None, 100).unwrap();
    assert_eq!(
        keys(&scanned),
        [
            b"s/".to_vec(),
            b"s/a".to_vec(),
            b"s/a\x00".to_vec(),
            b"s/ab".to_vec(),
            b"s/b".to_vec(),
            b"s/\x7f".to_vec(),
            b"s/\xff".to_vec(),
            b"s/\xff\xff".to_vec(),
        ],
        "byte order, and nothing outside the prefix"
    );
    assert!(scanned.iter().all(|(k, v)| k == v));
    assert_eq!(keys(&b.scan(b"s/", None, 2).unwrap()).len(), 2);
    assert_eq!(
        keys(&b.scan(b"s/", Some(b"s/ab"), 2).unwrap()),
        [b"s/b".to_vec(), b"s/\x7f".to_vec()],
        "after is exclusive"
    );
    assert_eq!(
        keys(&b.scan(b"s/", Some(b"r/zzz"), 1).unwrap()),
        [b"s/".to_vec()],
        "an after before the prefix starts at the prefix"
    );
    assert!(b.scan(b"s/", Some(b"s/\xff\xff"), 10).unwrap().is_empty());
    assert!(b.scan(b"s/", None, 0).unwrap().is_empty());
    // A prefix of 0xFF bytes has no successor: its scan runs to the end of the map.
    b.apply(vec![put(b"\xff\xff", b""), put(b"\xff\xff\x01", b"")])
        .unwrap();
    assert_eq!(keys(&b.scan(b"\xff\xff", None, 10).unwrap()).len(), 2);
}

fn guards_are_checked_with_their_writes(b: &dyn Backend) {
    let step = b"g/step".as_slice();
    assert!(b
        .apply_guarded(
            &[Guard::Absent(step)],
            vec![put(step, b"1"), put(b"g/e1", b"")]
        )
        .unwrap());
    assert!(
        !b.apply_guarded(&[Guard::Absent(step)], vec![put(step, b"x")])
            .unwrap(),
        "an absent guard on a present key"
    );
    assert!(!b
        .apply_guarded(
            &[Guard::Equals(step, b"0")],
            vec![put(step, b"2"), put(b"g/e2", b"")]
        )
        .unwrap());
    assert_eq!(
        b.get(b"g/e2").unwrap(),
        None,
        "a refused batch writes nothing"
    );
    assert!(b
        .apply_guarded(
            &[Guard::Equals(step, b"1"), Guard::Present(b"g/e1")],
            vec![put(step, b"2"), Write::Delete(b"g/e1".to_vec())]
        )
        .unwrap());
    assert_eq!(b.get(step).unwrap(), Some(b"2".to_vec()));
    assert!(!b
        .apply_guarded(&[Guard::Present(b"g/e1")], vec![put(b"g/e3", b"")])
        .unwrap());
    assert!(b
        .apply_if_absent(b"g/new", vec![put(b"g/new", b"")])
        .unwrap());
    assert!(!b
        .apply_if_absent(b"g/new", vec![put(b"g/new", b"")])
        .unwrap());
}

fn compare_and_swap_needs_the_old_value(b: &dyn Backend) {
    assert!(b
        .compare_and_swap(b"c/k", None, Some(b"1".to_vec()))
        .unwrap());
    assert!(!b
        .compare_and_swap(b"c/k", None, Some(b"x".to_vec()))
        .unwrap());
    assert!(!b
        .compare_and_swap(b"c/k", Some(b"0"), Some(b"x".to_vec()))
        .unwrap());
    assert!(b
        .compare_and_swap(b"c/k", Some(b"1"), Some(b"2".to_vec()))
        .unwrap());
    assert!(b.compare_and_swap(b"c/k", Some(b"2"), None).unwrap());
    assert_eq!(b.get(b"c/k").unwrap(), None);
}

/// Threads race to move one counter on by compare-and-swap, each writing a row of its own
/// with every step it won: no two may win the same step, and no step is lost.
fn guarded_increments_from_many_threads_lose_nothing(b: Arc<dyn Backend>) {
    const THREADS: usize = 6;
    const EACH: usize = 15;
    let counter = b"n/counter".as_slice();
    b.apply(vec![put(counter, b"0")]).unwrap();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let b = Arc::clone(&b);
            std::thread::spawn(move || {
                let mut won = 0;
                while won < EACH {
                    let now = b.get(counter).unwrap().unwrap();
                    let n: usize = String::from_utf8(now.clone()).unwrap().parse().unwrap();
                    let next = (n + 1).to_string().into_bytes();
                    let row = format!("n/won/{:05}", n + 1).into_bytes();
                    if b.apply_guarded(
                        &[Guard::Equals(counter, &now), Guard::Absent(&row)],
                        vec![
                            Write::Put(counter.to_vec(), next),
                            Write::Put(row.clone(), vec![t as u8]),
                        ],
                    )
                    .unwrap()
                    {
                        won += 1;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = THREADS * EACH;
    assert_eq!(
        b.get(counter).unwrap(),
        Some(total.to_string().into_bytes())
    );
    let rows = b.scan(b"n/won/", None, total + 10).unwrap();
    assert_eq!(rows.len(), total, "every step won once");
    for t in 0..THREADS {
        let mine = rows.iter().filter(|(_, v)| v == &[t as u8]).count();
        assert_eq!(mine, EACH, "thread {t} won what it counted");
    }
}

#[test]
fn the_memory_backend_keeps_the_contract() {
    suite(Arc::new(super::memory::Memory::new()));
}

#[test]
fn sled_keeps_the_contract() {
    let dir = std::env::temp_dir().join(format!("sandstep-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sled = super::sled::Sled::open(&dir, super::durability::Durability::default()).unwrap();
    suite(Arc::new(sled));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_keeps_the_contract() {
    if let Some(pg) = super::postgres::testing::fresh() {
        suite(Arc::new(pg));
    }
}
