//! The WebAssembly sandbox: every Task state runs a module here, under wasmtime.
//!
//! The sandbox narrows wasmtime to one way of running: one engine with a fixed
//! configuration (component model, pooling allocator, fuel, epoch interruption, a stack and
//! memory cap), modules compiled once and their artifacts cached in the store, linked code
//! cached in memory per module version, and one call per task:
//!
//! ```no_run
//! use sandstep::sandbox::{Invocation, Options, Sandbox, TaskContext};
//! use sandstep::store::{Store, TenantId};
//! use sandstep::grants::Grants;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::new(Options::default(), Store::memory())?;
//! let tenant = TenantId("default".into());
//! let bytes = std::fs::read("modules/dist/echo.wasm")?;
//! sandbox.register(&tenant, "echo", &bytes, Grants::none())?;
//! let prepared = sandbox.prepare(&tenant, "echo", None)?;
//! let outcome = sandbox.run(&prepared, r#"{"hello": "world"}"#, Invocation::new(TaskContext::default()));
//! assert_eq!(outcome.result.ok(), Some(serde_json::json!({"hello": "world"})));
//! # Ok(())
//! # }
//! ```
//!
//! What is enforced, and where:
//! - **CPU**: a fuel budget ([`Limits::fuel`]) and a wall-clock deadline
//!   ([`Limits::timeout`]) checked from an epoch callback about every millisecond; either
//!   ends the task with `States.Timeout`. A missed heartbeat is `States.HeartbeatTimeout`;
//!   a [`CancelHandle`] stops the task within a tick.
//! - **Memory**: linear memory, tables and instances per invocation ([`Limits`]) inside a
//!   pooling allocator sized by [`Options`]; the wasm stack is capped engine-wide.
//! - **Compilation**: before Cranelift sees an upload, one streaming pass measures every
//!   function of every core module in it ([`CodeLimits`]: body size, nesting, branches,
//!   locals, and totals) and refuses what would take too long or too much memory to
//!   compile; the server compiles in a child process under an address-space limit and a
//!   deadline ([`ChildCompiler`]), which gives all of the compiler's memory back on exit.
//! - **Data**: input and output sizes (`States.DataLimitExceeded`), stderr and log caps.
//! - **Capabilities**: components import only `sandstep:host/*@0.1.0`, commands only
//!   `wasi_snapshot_preview1` (no files, environment, arguments, sockets; virtual clocks);
//!   host calls are checked against the module version's grants inside the tenant.
//!
//! Every ending maps to an ASL error in one function (`outcome::judge`).

mod artifact;
mod cache;
mod clock;
pub mod code_limits;
mod command;
pub mod compile_child;
mod component;
mod engine;
mod inspect;
mod invoke;
pub(crate) mod limiter;
pub mod limits;
pub(crate) mod outcome;
pub(crate) mod watch;

pub use code_limits::CodeLimits;
pub use compile_child::ChildCompiler;
pub use inspect::{Inspection, RejectReason};
pub use limits::{Limits, PAYLOAD_LIMIT};
pub use outcome::{LogLevel, LogLine, TaskFailure, TaskOutcome};
pub use watch::{BeatListener, CancelHandle, Interrupt};

use crate::clock::now as now_millis;
use crate::grants::Grants;
use crate::host::{self, Caller, HostState, Logs};
use crate::store::modules::{ModuleKind, ModuleVersion};
use crate::store::{self, data::hex, Modules, Store, TenantId};
use artifact::{Code, Identity};
use inspect::Ready;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The engine-wide configuration. Per-invocation limits are [`Limits`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Concurrent instances the pooling allocator holds (component instances; core
    /// instances, memories and tables are sized from it). Each memory slot reserves (but
    /// does not commit) 4 GiB of address space, so that bounds checks are free.
    pub pool_slots: u32,
    /// The largest linear memory any module may have, in bytes: the pool's slot size and
    /// the ceiling of [`Limits::memory_bytes`].
    pub max_memory_bytes: usize,
    /// The largest table any module may have, in elements.
    pub max_table_elements: usize,
    /// The wasm stack, in bytes. Deeper recursion traps (stack overflow).
    pub max_wasm_stack_bytes: usize,
    /// How often the epoch ticks, i.e. how quickly deadlines and cancels are noticed.
    pub epoch_tick: Duration,
    /// The largest module accepted, in bytes.
    pub max_module_bytes: usize,
    /// Linked module versions kept in memory.
    pub cache_entries: usize,
    /// Compile functions on several threads.
    pub parallel_compilation: bool,
    /// What an upload's code may cost to compile, checked before compiling it.
    pub code_limits: CodeLimits,
    /// Compile uploads in a child process with a memory and time budget (the server);
    /// `None` compiles in this process (the CLI's `run`, tests).
    pub compiler: Option<ChildCompiler>,
    /// The limits invocations start from.
    pub limits: Limits,
    /// Where modules' answers to task tokens go (`callback`), once the server binds it.
    pub answers: crate::host::callback::AnswerSlot,
    /// Modules' outbound HTTP (`http`); `None`: every request is refused.
    pub outbound: Option<crate::outbound::Outbound>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pool_slots: 256,
            max_memory_bytes: 64 << 20,
            max_table_elements: 20_000,
            max_wasm_stack_bytes: 512 << 10,
            epoch_tick: Duration::from_millis(1),
            max_module_bytes: 64 << 20,
            cache_entries: 1024,
            parallel_compilation: true,
            code_limits: CodeLimits::default(),
            compiler: None,
            limits: Limits::default(),
            answers: crate::host::callback::AnswerSlot::default(),
            outbound: None,
        }
    }
}

/// Why the sandbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module was refused.
    #[error("module rejected: {0}")]
    Rejected(#[from] RejectReason),
    /// No such module (or version) in the tenant.
    #[error("no module '{name}'{} in tenant '{tenant}'", version.map(|v| format!(" version {v}")).unwrap_or_default())]
    NotFound {
        /// The tenant.
        tenant: TenantId,
        /// The module name.
        name: String,
        /// The version asked for, if any.
        version: Option<u32>,
    },
    /// An invalid module name.
    #[error("invalid module name '{0}': 1-128 letters, digits, '-', '_' and '.'")]
    InvalidName(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The stored bytes of a module version are missing or do not match its sha256.
    #[error("the stored bytes of module '{name}' (sha256 {sha256}) are missing or damaged")]
    Damaged {
        /// The module name.
        name: String,
        /// Its recorded sha256.
        sha256: String,
    },
    /// Wasmtime failed to start.
    #[error("the WebAssembly engine failed: {0}")]
    Engine(String),
}

/// Counters, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Modules compiled from their bytes.
    pub compiled: u64,
    /// Artifacts loaded from the store instead of compiling.
    pub artifacts_loaded: u64,
    /// Artifacts refused (corrupt, foreign, stale) and replaced by a compile.
    pub artifacts_refused: u64,
    /// Prepares served from the in-memory cache.
    pub cache_hits: u64,
}

#[derive(Default)]
struct Counters {
    compiled: AtomicU64,
    artifacts_loaded: AtomicU64,
    artifacts_refused: AtomicU64,
    cache_hits: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The sandbox. Cheap to clone; the epoch ticker stops when the last clone is dropped.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    engine: wasmtime::Engine,
    components: wasmtime::component::Linker<HostState>,
    commands: wasmtime::Linker<command::CommandState>,
    fingerprint: String,
    store: Store,
    options: Options,
    cache: cache::Cache,
    records: cache::Records,
    counters: Counters,
    _ticker: engine::Ticker,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("fingerprint", &self.inner.fingerprint)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// A module version ready to run: linked code, and the grants resolved for it.
#[derive(Clone)]
pub struct Prepared {
    tenant: TenantId,
    /// With its grants, resolved once here for every host call of every invocation.
    module: Arc<ModuleVersion>,
    ready: Arc<Ready>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("tenant", &self.tenant)
            .field("module", &self.module.name)
            .field("version", &self.module.version)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The module version.
    pub fn module(&self) -> &ModuleVersion {
        &self.module
    }

    /// The tenant it runs in.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
}

/// What a task is told about its invocation (the WIT `context`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskContext {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The Task state's name.
    pub state_name: String,
    /// 0 for the first attempt, then 1, 2, ...
    pub attempt: u32,
    /// The task token, for `.waitForTaskToken` resources.
    pub task_token: Option<String>,
}

/// One invocation's parameters.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// What the task is told.
    pub context: TaskContext,
    /// What it may use.
    pub limits: Limits,
    /// Stops it from another thread.
    pub cancel: CancelHandle,
    /// Hears its heartbeats.
    pub heartbeats: BeatListener,
}

impl Invocation {
    /// An invocation with the default limits and a fresh cancel handle.
    pub fn new(context: TaskContext) -> Invocation {
        Invocation {
            context,
            limits: Limits::default(),
            cancel: CancelHandle::new(),
            heartbeats: BeatListener::default(),
        }
    }
}

/// What a module's run produced before it is judged.
pub(crate) struct Ran {
    pub(crate) ending: outcome::Ending,
    /// `None` when fuel could not be counted (the watch interrupted the module).
    pub(crate) fuel_used: Option<u64>,
    pub(crate) logs: Logs,
    pub(crate) stderr: String,
}

impl Sandbox {
    /// Starts the engine and its epoch ticker.
    ///
    /// # Errors
    /// [`Error::Engine`] when wasmtime cannot be configured (e.g. the pool cannot reserve
    /// its address space) or the ticker thread cannot start.
    pub fn new(options: Options, store: Store) -> Result<Sandbox, Error> {
        let fail = |e: &dyn fmt::Display| Error::Engine(e.to_string());
        let engine = engine::build(&options).map_err(|e| fail(&e))?;
        let mut components = wasmtime::component::Linker::new(&engine);
        host::add_to_linker(&mut components).map_err(|e| fail(&e))?;
        let commands = command::linker(&engine).map_err(|e| fail(&e))?;
        let ticker = engine::Ticker::start(&engine, options.epoch_tick).map_err(|e| fail(&e))?;
        Ok(Sandbox {
            inner: Arc::new(Inner {
                fingerprint: engine::fingerprint(&engine),
                engine,
                components,
                commands,
                store,
                cache: cache::Cache::new(options.cache_entries),
                records: cache::Records::new(options.cache_entries),
                options,
                counters: Counters::default(),
                _ticker: ticker,
            }),
        })
    }

    /// The limits invocations start from ([`Options::limits`]).
    pub fn limits(&self) -> &Limits {
        &self.inner.options.limits
    }

    /// The store modules, artifacts and task data live in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// What compiled artifacts must match: wasmtime's version and configuration.
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            compiled: c.compiled.load(Ordering::Relaxed),
            artifacts_loaded: c.artifacts_loaded.load(Ordering::Relaxed),
            artifacts_refused: c.artifacts_refused.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// The engine, for benchmarks that compare against bare wasmtime.
    #[doc(hidden)]
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.inner.engine
    }

    /// Validates an upload: its kind, its code's cost ([`Options::code_limits`]), imports
    /// and exports, and whether the host can run it. Compiles it (a few milliseconds to
    /// seconds, by size).
    ///
    /// # Errors
    /// [`RejectReason`], naming the offending limit and function, import or export.
    pub fn inspect(&self, bytes: &[u8]) -> Result<Inspection, RejectReason> {
        self.compile_checked(bytes)
            .map(|(inspection, _, _)| inspection)
    }

    fn compile_checked(&self, bytes: &[u8]) -> Result<(Inspection, Code, Ready), RejectReason> {
        let limit = self.inner.options.max_module_bytes;
        if bytes.len() > limit {
            return Err(RejectReason::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        let kind = inspect::kind_of(bytes)?;
        let code = inspect::compile(&self.inner.engine, &self.inner.options, kind, bytes)?;
        bump(&self.inner.counters.compiled);
        let (inspection, ready) = self.link(&code)?;
        Ok((inspection, code, ready))
    }

    fn link(&self, code: &Code) -> Result<(Inspection, Ready), RejectReason> {
        inspect::check(
            &self.inner.engine,
            &self.inner.components,
            &self.inner.commands,
            code,
        )
    }

    /// Validates, compiles and stores a new version of module `name` in `tenant`, with
    /// its grants; caches its artifact and its linked code.
    ///
    /// # Errors
    /// [`Error::Rejected`] for a module the sandbox cannot run, [`Error::InvalidName`],
    /// [`Error::Store`].
    pub fn register(
        &self,
        tenant: &TenantId,
        name: &str,
        bytes: &[u8],
        grants: Grants,
    ) -> Result<ModuleVersion, Error> {
        if !crate::grants::valid_name(name) {
            return Err(Error::InvalidName(name.to_string()));
        }
        let (inspection, code, ready) = self.compile_checked(bytes)?;
        let sha256 = hex(&Sha256::digest(bytes));
        let record = self.inner.store.module_add(
            tenant,
            ModuleVersion {
                name: name.to_string(),
                version: 0,
                sha256: sha256.clone(),
                kind: inspection.kind,
                imports: inspection.imports,
                exports: inspection.exports,
                grants,
                size: bytes.len() as u64,
                created: now_millis(),
            },
            bytes,
        )?;
        self.save_artifact(tenant, &sha256, inspection.kind, &code);
        self.inner.cache.insert(tenant, &sha256, Arc::new(ready));
        Ok(record)
    }

    /// Looks up a module version (the latest when `version` is `None`) and prepares it.
    ///
    /// # Errors
    /// [`Error::NotFound`], or what [`Sandbox::prepare_version`] returns.
    pub fn prepare(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
    ) -> Result<Prepared, Error> {
        let not_found = || Error::NotFound {
            tenant: tenant.clone(),
            name: name.to_string(),
            version,
        };
        let encoded = self
            .inner
            .store
            .module_version_encoded(tenant, name, version)?
            .ok_or_else(not_found)?;
        let module = match self.inner.records.get(tenant, name, version, &encoded) {
            Some(module) => module,
            None => {
                let module: ModuleVersion = serde_json::from_slice(&encoded)
                    .map_err(|e| Error::Store(store::Error::Corrupt(e.to_string())))?;
                let module = Arc::new(module);
                self.inner
                    .records
                    .insert(tenant, name, version, encoded, module.clone());
                module
            }
        };
        self.prepare_shared(tenant, module)
    }

    /// Makes a module version ready to run: from the in-memory cache, else from its cached
    /// artifact, else by compiling its bytes (and caching the artifact). Resolves its
    /// grants once, for every host call of every invocation.
    ///
    /// # Errors
    /// [`Error::Damaged`] when its bytes are gone or altered, [`Error::Rejected`] when they
    /// no longer link (a host interface was removed), [`Error::Store`].
    pub fn prepare_version(
        &self,
        tenant: &TenantId,
        module: ModuleVersion,
    ) -> Result<Prepared, Error> {
        self.prepare_shared(tenant, Arc::new(module))
    }

    fn prepare_shared(
        &self,
        tenant: &TenantId,
        module: Arc<ModuleVersion>,
    ) -> Result<Prepared, Error> {
        let ready = match self.inner.cache.get(tenant, &module.sha256) {
            Some(ready) => {
                bump(&self.inner.counters.cache_hits);
                ready
            }
            None => {
                let ready = Arc::new(self.load(tenant, &module)?);
                self.inner
                    .cache
                    .insert(tenant, &module.sha256, ready.clone());
                ready
            }
        };
        Ok(Prepared {
            tenant: tenant.clone(),
            module,
            ready,
        })
    }

    /// Forgets the linked code of a module's bytes (after its deletion from the store).
    pub fn evict(&self, tenant: &TenantId, sha256: &str) {
        self.inner.cache.remove(tenant, sha256);
    }

    fn load(&self, tenant: &TenantId, module: &ModuleVersion) -> Result<Ready, Error> {
        let identity = Identity {
            fingerprint: &self.inner.fingerprint,
            sha256: &module.sha256,
            kind: module.kind,
        };
        let stored =
            self.inner
                .store
                .artifact_get(tenant, &module.sha256, &self.inner.fingerprint)?;
        if let Some(stored) = stored {
            match artifact::open(&self.inner.engine, identity, &stored) {
                Ok(code) => {
                    bump(&self.inner.counters.artifacts_loaded);
                    return Ok(self.link(&code)?.1);
                }
                Err(why) => {
                    bump(&self.inner.counters.artifacts_refused);
                    tracing::warn!(
                        tenant = %tenant,
                        module = %module.name,
                        sha256 = %module.sha256,
                        "compiled artifact refused, compiling again: {why}"
                    );
                }
            }
        }
        let damaged = || Error::Damaged {
            name: module.name.clone(),
            sha256: module.sha256.clone(),
        };
        let bytes = self
            .inner
            .store
            .module_bytes(tenant, &module.sha256)?
            .ok_or_else(damaged)?;
        if hex(&Sha256::digest(&bytes)) != module.sha256 {
            return Err(damaged());
        }
        let code = inspect::compile(&self.inner.engine, &self.inner.options, module.kind, &bytes)?;
        bump(&self.inner.counters.compiled);
        let (_, ready) = self.link(&code)?;
        self.save_artifact(tenant, &module.sha256, module.kind, &code);
        Ok(ready)
    }

    /// Stores an artifact; a failure only costs a compile later, so it is logged.
    fn save_artifact(&self, tenant: &TenantId, sha256: &str, kind: ModuleKind, code: &Code) {
        let identity = Identity {
            fingerprint: &self.inner.fingerprint,
            sha256,
            kind,
        };
        let saved = artifact::seal(identity, code)
            .map_err(|e| e.to_string())
            .and_then(|sealed| {
                self.inner
                    .store
                    .artifact_put(tenant, sha256, &self.inner.fingerprint, &sealed)
                    .map_err(|e| e.to_string())
            });
        if let Err(why) = saved {
            tracing::warn!(tenant = %tenant, sha256, "could not cache the compiled artifact: {why}");
        }
    }

    /// Runs a prepared module on `input` (JSON text) to its end. Blocking: call it from a
    /// thread that may block (`spawn_blocking`). Never panics on anything the module does.
    pub fn run(&self, prepared: &Prepared, input: &str, invocation: Invocation) -> TaskOutcome {
        let _span = tracing::debug_span!(
            "sandbox.run",
            tenant = %prepared.tenant,
            module = %prepared.module.name,
            version = prepared.module.version,
            execution = %invocation.context.execution_arn
        )
        .entered();
        let started = Instant::now();
        let options = &self.inner.options;
        let mut limits = invocation.limits;
        limits.memory_bytes = limits.memory_bytes.min(options.max_memory_bytes);
        limits.table_elements = limits.table_elements.min(options.max_table_elements);
        let wall_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let ran = if input.len() > limits.max_input_bytes {
            Ran {
                ending: outcome::Ending::InputTooLarge { size: input.len() },
                fuel_used: Some(0),
                logs: Logs::default(),
                stderr: String::new(),
            }
        } else {
            let watch =
                watch::Watch::new(started, limits.timeout, limits.heartbeat, invocation.cancel)
                    .heard_by(invocation.heartbeats);
            let limiter =
                limiter::Limiter::new(limits.memory_bytes, limits.table_elements, limits.instances);
            match &*prepared.ready {
                Ready::Component(pre) => {
                    let deadline = wall_start.saturating_add(limits.timeout);
                    let context = invocation.context;
                    component::run(
                        component::Call {
                            engine: &self.inner.engine,
                            pre,
                            caller: Caller {
                                tenant: prepared.tenant.clone(),
                                execution_arn: context.execution_arn.clone(),
                                state_name: context.state_name.clone(),
                                module: prepared.module.name.clone(),
                            },
                            module: prepared.module.clone(),
                            store: self.inner.store.clone(),
                            answers: self.inner.options.answers.get().cloned(),
                            outbound: self.inner.options.outbound.clone(),
                            watch,
                            limiter,
                            logs: Logs {
                                max_lines: limits.log_lines,
                                max_line_bytes: limits.log_line_bytes,
                                ..Logs::default()
                            },
                            context: host::Context {
                                execution_arn: context.execution_arn,
                                state_name: context.state_name,
                                attempt: context.attempt,
                                task_token: context.task_token,
                                deadline_ms: u64::try_from(deadline.as_millis())
                                    .unwrap_or(u64::MAX),
                            },
                            fuel: limits.fuel,
                        },
                        input,
                    )
                }
                Ready::Command(pre) => command::run(
                    command::Call {
                        engine: &self.inner.engine,
                        pre,
                        watch,
                        limiter,
                        fuel: limits.fuel,
                        wall_start,
                        max_output_bytes: limits.max_output_bytes,
                        stderr_bytes: limits.stderr_bytes,
                    },
                    input,
                ),
            }
        };
        let ending = with_last_error_logged(ran.ending, &ran.logs);
        let exit_code = match (&ending, &*prepared.ready) {
            (outcome::Ending::Exited { code, .. }, _) => Some(*code),
            (outcome::Ending::Returned(_), Ready::Command(_)) => Some(0),
            _ => None,
        };
        TaskOutcome {
            exit_code,
            result: outcome::judge(ending, &limits),
            fuel_consumed: ran.fuel_used.unwrap_or(limits.fuel),
            duration: started.elapsed(),
            logs: ran.logs.lines,
            logs_dropped: ran.logs.dropped,
            stderr: ran.stderr,
        }
    }
}

/// A trap's cause gains the last error the module logged: the SDK's panic hook logs the
/// panic message just before the module aborts with a bare `unreachable`.
fn with_last_error_logged(ending: outcome::Ending, logs: &Logs) -> outcome::Ending {
    match ending {
        outcome::Ending::Trapped { message, refused } => {
            let logged = logs
                .lines
                .iter()
                .rev()
                .find(|l| l.level == LogLevel::Error)
                .map(|l| format!("{message}; the module logged: {}", l.message));
            outcome::Ending::Trapped {
                message: logged.unwrap_or(message),
                refused,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
