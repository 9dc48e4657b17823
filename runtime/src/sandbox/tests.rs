//! Unit tests on hand-written modules; the fixtures in `modules/` are tested in
//! `tests/all/sandbox.rs`.

use super::*;
use crate::store::{Modules, Store};

fn sandbox() -> Sandbox {
    let options = Options {
        pool_slots: 8,
        ..Options::default()
    };
    Sandbox::new(options, Store::memory()).unwrap()
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

fn tenant() -> TenantId {
    TenantId("t".into())
}

fn run(sandbox: &Sandbox, text: &str, limits: Limits) -> TaskOutcome {
    let t = tenant();
    sandbox
        .register(&t, "m", &wat(text), Grants::none())
        .unwrap();
    let prepared = sandbox.prepare(&t, "m", None).unwrap();
    sandbox.run(
        &prepared,
        "{}",
        Invocation {
            limits,
            ..Invocation::new(TaskContext::default())
        },
    )
}

const WRITE_NOPE: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\04\00\00\00")
  (data (i32.const 16) "nope")
  (func (export "_start") (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

#[test]
fn inspect_names_the_import_a_command_may_not_have() {
    let s = sandbox();
    let env = wat(r#"(module (import "env" "abort" (func)) (func (export "_start")))"#);
    assert_eq!(
        s.inspect(&env),
        Err(RejectReason::Import {
            import: "env::abort".into(),
            why: "a command may import only wasi_snapshot_preview1 functions".into()
        })
    );
    let unknown = wat(
        r#"(module (import "wasi_snapshot_preview1" "sock_open" (func)) (func (export "_start")))"#,
    );
    match s.inspect(&unknown) {
        Err(RejectReason::Import { import, .. }) => {
            assert_eq!(import, "wasi_snapshot_preview1::sock_open")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn inspect_wants_the_entry_point_of_its_kind() {
    let s = sandbox();
    for text in [
        "(module)",
        r#"(module (func (export "_start") (param i32)))"#,
    ] {
        match s.inspect(&wat(text)) {
            Err(RejectReason::Export { export, .. }) => assert_eq!(export, "_start"),
            other => panic!("{text}: {other:?}"),
        }
    }
    match s.inspect(&wat("(component)")) {
        Err(RejectReason::Export { export, .. }) => assert_eq!(export, "run"),
        other => panic!("{other:?}"),
    }
    let ok = s
        .inspect(&wat(
            r#"(module (memory (export "memory") 1) (func (export "_start")))"#,
        ))
        .unwrap();
    assert_eq!(ok.kind, ModuleKind::Command);
    assert_eq!(ok.exports, vec!["memory".to_string(), "_start".to_string()]);
}

#[test]
fn inspect_refuses_oversized_modules_and_bad_names() {
    let s = Sandbox::new(
        Options {
            pool_slots: 8,
            max_module_bytes: 10,
            ..Options::default()
        },
        Store::memory(),
    )
    .unwrap();
    let bytes = wat(r#"(module (func (export "_start")))"#);
    assert!(matches!(
        s.inspect(&bytes),
        Err(RejectReason::TooLarge { limit: 10, .. })
    ));
    assert!(matches!(
        sandbox().register(&tenant(), "a/b", &bytes, Grants::none()),
        Err(Error::InvalidName(_))
    ));
}

#[test]
fn command_output_must_be_json() {
    let outcome = run(&sandbox(), WRITE_NOPE, Limits::default());
    let failure = outcome.result.unwrap_err();
    assert_eq!(failure.error.as_str(), "States.TaskFailed");
    assert!(
        failure.cause.contains("not valid JSON"),
        "{}",
        failure.cause
    );
}

#[test]
fn command_exit_status_is_the_verdict() {
    let exit = |code: i32| {
        format!(
            r#"(module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func (export "_start") (call $exit (i32.const {code}))))"#
        )
    };
    let failure = run(&sandbox(), &exit(3), Limits::default())
        .result
        .unwrap_err();
    assert_eq!(failure.cause, "the command exited with status 3");
    // Exit 0 with nothing on stdout: not JSON.
    let failure = run(&sandbox(), &exit(0), Limits::default())
        .result
        .unwrap_err();
    assert!(
        failure.cause.contains("not valid JSON"),
        "{}",
        failure.cause
    );
}

#[test]
fn commands_cannot_sleep_past_the_deadline() {
    // poll_oneoff would block the thread where the epoch cannot interrupt it: ENOSYS.
    let text = r#"(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (if (i32.ne (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)) (i32.const 52))
          (then unreachable))))"#;
    let outcome = run(&sandbox(), text, Limits::default());
    // It exited 0 with an empty stdout: the poll was refused, not run.
    assert!(outcome.result.unwrap_err().cause.contains("not valid JSON"));
}

#[test]
fn a_spinning_command_times_out() {
    let text = r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#;
    let limits = Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let outcome = run(&sandbox(), text, limits);
    assert_eq!(outcome.result.unwrap_err().error.as_str(), "States.Timeout");
    assert!(outcome.duration < Duration::from_secs(1));
}

#[test]
fn sealed_artifacts_open_only_for_their_identity() {
    let s = sandbox();
    let code = inspect::compile(
        &s.inner.engine,
        &s.inner.options,
        ModuleKind::Command,
        &wat(r#"(module (func (export "_start")))"#),
    )
    .unwrap();
    let id = Identity {
        fingerprint: s.fingerprint(),
        sha256: "aa",
        kind: ModuleKind::Command,
    };
    let sealed = artifact::seal(id, &code).unwrap();
    assert!(artifact::open(&s.inner.engine, id, &sealed).is_ok());
    let other = Identity { sha256: "bb", ..id };
    assert!(artifact::open(&s.inner.engine, other, &sealed).is_err());
    let stale = Identity {
        fingerprint: "wasmtime-0.0.0-0000",
        ..id
    };
    assert!(artifact::open(&s.inner.engine, stale, &sealed).is_err());
    let as_component = Identity {
        kind: ModuleKind::Component,
        ..id
    };
    assert!(artifact::open(&s.inner.engine, as_component, &sealed).is_err());
    assert!(artifact::open(&s.inner.engine, id, sealed.get(..40).unwrap()).is_err());
    assert!(artifact::open(&s.inner.engine, id, b"garbage").is_err());
}

#[test]
fn the_fingerprint_is_stable_and_names_wasmtime() {
    let (a, b) = (sandbox(), sandbox());
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert!(a.fingerprint().starts_with("wasmtime-48.0.8-"));
}

#[test]
fn prepare_follows_new_and_deleted_versions() {
    let s = sandbox();
    let t = tenant();
    let a = wat(r#"(module (func (export "_start")))"#);
    let b = wat(r#"(module (memory (export "memory") 1) (func (export "_start")))"#);
    s.register(&t, "m", &a, Grants::none()).unwrap();
    assert_eq!(s.prepare(&t, "m", None).unwrap().module().version, 1);
    assert_eq!(s.prepare(&t, "m", None).unwrap().module().version, 1);
    s.register(&t, "m", &b, Grants::none()).unwrap();
    assert_eq!(s.prepare(&t, "m", None).unwrap().module().version, 2);
    assert_eq!(s.prepare(&t, "m", Some(1)).unwrap().module().version, 1);
    s.store().module_delete(&t, "m", Some(2)).unwrap();
    assert_eq!(s.prepare(&t, "m", None).unwrap().module().version, 1);
    s.store().module_delete(&t, "m", None).unwrap();
    assert!(matches!(
        s.prepare(&t, "m", None),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.prepare(&t, "m", Some(1)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn code_over_the_limits_is_refused_before_compiling() {
    let s = Sandbox::new(
        Options {
            pool_slots: 8,
            code_limits: CodeLimits {
                nesting_depth: 2,
                ..CodeLimits::default()
            },
            ..Options::default()
        },
        Store::memory(),
    )
    .unwrap();
    let deep = wat(r#"(module (func (export "_start") (block (block (block)))))"#);
    match s.inspect(&deep) {
        Err(RejectReason::Limit {
            limit: code_limits::Limit::NestingDepth,
            site:
                Some(code_limits::Site {
                    module: 0,
                    function: 0,
                }),
            value: 3,
            max: 2,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.register(&tenant(), "deep", &deep, Grants::none()),
        Err(Error::Rejected(RejectReason::Limit { .. }))
    ));
    assert_eq!(s.stats().compiled, 0);
    // At the limit: compiled apart, loaded into the run engine, and it runs.
    let ok = wat(r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "\10\00\00\00\02\00\00\00")
      (data (i32.const 16) "{}")
      (func (export "_start")
        (block (block (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))))"#);
    s.register(&tenant(), "ok", &ok, Grants::none()).unwrap();
    assert_eq!(s.stats().compiled, 1);
    let prepared = s.prepare(&tenant(), "ok", None).unwrap();
    let outcome = s.run(&prepared, "{}", Invocation::new(TaskContext::default()));
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
}
