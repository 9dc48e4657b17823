//! Checking uploads: what a module is, what it costs to compile, what it imports and
//! exports, and whether the host can run it. A refusal names the offending limit and
//! function, import or export.

use super::artifact::{self, Code};
use super::code_limits::{Limit, Site};
use super::command::CommandState;
use super::compile_child::{self, Budget};
use super::Options;
use crate::host::{self, HostState, TaskPre};
use crate::store::modules::ModuleKind;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, ExternType, Linker, Module};

/// The smallest compile budget that compiles on several threads. Cranelift's threads each
/// take allocator segments as they are scheduled, so a parallel compile's address space
/// varies with the machine's load: a module that needs ~120 MiB on one thread was seen
/// to go over 256 MiB under load. Below this budget a compile runs on one thread, and the
/// budget measures the module, not the scheduler.
pub const PARALLEL_COMPILE_BYTES: u64 = 1 << 30;

/// What an accepted module is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Component or command.
    pub kind: ModuleKind,
    /// What it imports: `interface#function` for components, `module::name` for commands.
    pub imports: Vec<String>,
    /// What it exports.
    pub exports: Vec<String>,
}

/// Why a module was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Not WebAssembly at all.
    #[error("not a WebAssembly module or component (bad magic number or version)")]
    NotWasm,
    /// Larger than the sandbox accepts.
    #[error("the module is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Malformed or failed validation.
    #[error("invalid WebAssembly: {0}")]
    Invalid(String),
    /// Its code exceeds a [`CodeLimits`](super::CodeLimits) limit, checked before compiling.
    #[error("{}", limit_message(*.limit, *.site, *.value, *.max))]
    Limit {
        /// Which limit.
        limit: Limit,
        /// The function, for a per-function limit or the function that crossed a total.
        site: Option<Site>,
        /// What the module has (at least: counting stops at the limit).
        value: u64,
        /// The limit.
        max: u64,
    },
    /// Compiling it took more memory or time than [`ChildCompiler`] allows.
    ///
    /// [`ChildCompiler`]: super::ChildCompiler
    #[error("compiling the module exceeded its {} budget of {limit} {}", .budget.describe().0, .budget.describe().1)]
    CompileBudget {
        /// Memory or time.
        budget: Budget,
        /// The budget, in MiB or seconds.
        limit: u64,
    },
    /// Imports something the host does not provide.
    #[error("unsupported import '{import}': {why}")]
    Import {
        /// The import, e.g. `sandstep:host/secrets@0.1.0` or `env::abort`.
        import: String,
        /// Why it cannot be satisfied.
        why: String,
    },
    /// Lacks the entry point of its kind, or has the wrong type for it.
    #[error("missing or mistyped export '{export}': {why}")]
    Export {
        /// `run` for components, `_start` for commands.
        export: String,
        /// What is wrong.
        why: String,
    },
}

fn limit_message(limit: Limit, site: Option<Site>, value: u64, max: u64) -> String {
    let what = limit.describe();
    match site {
        Some(Site { module, function }) => format!(
            "function {function} of core module {module} exceeds the limit on {what}: {value} > {max}"
        ),
        None => format!("the module exceeds the limit on {what}: {value} > {max}"),
    }
}

/// Compiled code linked against the host, ready to instantiate.
pub(crate) enum Ready {
    Component(TaskPre<HostState>),
    Command(wasmtime::InstancePre<CommandState>),
}

/// The kind of some bytes, without compiling them.
pub(crate) fn kind_of(bytes: &[u8]) -> Result<ModuleKind, RejectReason> {
    // The preamble: `\0asm`, then a version: 1 for core modules; for components a
    // version number followed by layer 1.
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(b"\0asm"), Some([1, 0, 0, 0])) => Ok(ModuleKind::Command),
        (Some(b"\0asm"), Some([_, _, 1, 0])) => Ok(ModuleKind::Component),
        _ => Err(RejectReason::NotWasm),
    }
}

/// Compiles bytes of a known kind, within the limits of `options.code_limits`.
///
/// Cranelift runs in a child process when `options.compiler` names one (the server), so
/// that the compile has a memory and time budget and its memory is given back when the
/// child exits; otherwise (the CLI's `run`, tests) in a compile-only engine made for this
/// module and dropped after it, because wasmtime keeps each engine's compiler contexts,
/// grown to the largest function it ever compiled, for the engine's life. Either way the
/// code is loaded into the run engine `engine` from the artifact.
pub(crate) fn compile(
    engine: &Engine,
    options: &Options,
    kind: ModuleKind,
    bytes: &[u8],
) -> Result<Code, RejectReason> {
    let stats = options.code_limits.check(bytes)?;
    let started = std::time::Instant::now();
    let precompiled = match &options.compiler {
        Some(child) => compile_child::compile(
            child,
            compile_child::Job {
                kind,
                max_wasm_stack_bytes: options.max_wasm_stack_bytes,
                parallel_compilation: options.parallel_compilation
                    && child.memory_bytes >= PARALLEL_COMPILE_BYTES,
                memory_bytes: child.memory_bytes,
            },
            bytes,
        ),
        None => precompile(options, kind, bytes).map_err(RejectReason::Invalid),
    };
    tracing::debug!(
        functions = stats.functions,
        code_bytes = stats.code_bytes,
        in_child = options.compiler.is_some(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sandbox.compile"
    );
    artifact::load_precompiled(engine, kind, &precompiled?)
        .map_err(|e| RejectReason::Invalid(format!("the compiled code did not load: {e}")))
}

/// Compiles to an artifact in an engine of its own, dropped before returning.
pub(crate) fn precompile(
    options: &Options,
    kind: ModuleKind,
    bytes: &[u8],
) -> Result<Vec<u8>, String> {
    let compiler = super::engine::build_compiler(options)
        .map_err(|e| format!("the compiler could not start: {e:#}"))?;
    let precompiled = match kind {
        ModuleKind::Component => compiler.precompile_component(bytes),
        ModuleKind::Command => compiler.precompile_module(bytes),
    };
    precompiled.map_err(|e| format!("{e:#}"))
}

/// Checks compiled code against the host and links it.
pub(crate) fn check(
    engine: &Engine,
    components: &ComponentLinker<HostState>,
    commands: &Linker<CommandState>,
    code: &Code,
) -> Result<(Inspection, Ready), RejectReason> {
    match code {
        Code::Component(c) => check_component(engine, components, c),
        Code::Command(m) => check_command(commands, m),
    }
}

fn check_component(
    engine: &Engine,
    linker: &ComponentLinker<HostState>,
    component: &Component,
) -> Result<(Inspection, Ready), RejectReason> {
    let ty = component.component_type();
    let mut imports = Vec::new();
    for (name, item) in ty.imports(engine) {
        if !host::INTERFACES.contains(&name) {
            return Err(RejectReason::Import {
                import: name.to_string(),
                why: format!(
                    "the host provides only the interfaces {}",
                    host::INTERFACES.join(", ")
                ),
            });
        }
        match item.ty {
            ComponentItem::ComponentInstance(instance) => {
                for (function, export) in instance.exports(engine) {
                    if matches!(export.ty, ComponentItem::ComponentFunc(_)) {
                        imports.push(format!("{name}#{function}"));
                    }
                }
            }
            _ => imports.push(name.to_string()),
        }
    }
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    if !exports.iter().any(|e| e == "run") {
        return Err(RejectReason::Export {
            export: "run".into(),
            why: "a component must export `run: func(input: string, context: context) -> result<string, task-error>` (the `task` world)".into(),
        });
    }
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| RejectReason::Import {
            import: imports_named_in(&e, &imports),
            why: format!("{e:#}"),
        })?;
    let pre = TaskPre::new(pre).map_err(|e| RejectReason::Export {
        export: "run".into(),
        why: format!("{e:#}"),
    })?;
    Ok((
        Inspection {
            kind: ModuleKind::Component,
            imports,
            exports,
        },
        Ready::Component(pre),
    ))
}

/// The import a link error is about, when its message names one we listed.
fn imports_named_in(e: &wasmtime::Error, imports: &[String]) -> String {
    let text = format!("{e:#}");
    imports
        .iter()
        .find(|i| {
            let function = i.rsplit('#').next().unwrap_or(i);
            text.contains(&format!("`{function}`")) || text.contains(i.as_str())
        })
        .cloned()
        .unwrap_or_else(|| "sandstep:host".to_string())
}

fn check_command(
    linker: &Linker<CommandState>,
    module: &Module,
) -> Result<(Inspection, Ready), RejectReason> {
    let mut imports = Vec::new();
    for import in module.imports() {
        let name = format!("{}::{}", import.module(), import.name());
        if import.module() != "wasi_snapshot_preview1"
            || !matches!(import.ty(), ExternType::Func(_))
        {
            return Err(RejectReason::Import {
                import: name,
                why: "a command may import only wasi_snapshot_preview1 functions".into(),
            });
        }
        imports.push(name);
    }
    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    match module.get_export("_start") {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(_) => {
            return Err(RejectReason::Export {
                export: "_start".into(),
                why: "`_start` must be a function with no parameters and no results".into(),
            })
        }
        None => {
            return Err(RejectReason::Export {
                export: "_start".into(),
                why: "a core module runs as a WASI preview 1 command and must export `_start` (build a component of the `task` world otherwise)".into(),
            })
        }
    }
    let pre = linker.instantiate_pre(module).map_err(|e| {
        let text = format!("{e:#}");
        RejectReason::Import {
            import: imports
                .iter()
                .find(|i| text.contains(i.rsplit("::").next().unwrap_or(i)))
                .cloned()
                .unwrap_or_else(|| "wasi_snapshot_preview1".into()),
            why: text,
        }
    })?;
    Ok((
        Inspection {
            kind: ModuleKind::Command,
            imports,
            exports,
        },
        Ready::Command(pre),
    ))
}
