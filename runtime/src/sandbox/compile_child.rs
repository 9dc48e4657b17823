//! Compiling an upload in a child process, under an address-space limit and a deadline.
//!
//! [`CodeLimits`](super::CodeLimits) bounds what Cranelift is given, but a bound proven by
//! measurement is not a budget: a module just inside every limit still took ~360 MiB and
//! seconds to compile, and an allocator keeps the pages it freed, so the server stayed
//! that much larger after the upload. In a child (`sandstep __compile-module`, the same
//! executable) the compile cannot take more than [`ChildCompiler::memory_bytes`] of address
//! space (`RLIMIT_AS`, set by the child on itself before it reads the module) nor run past
//! [`ChildCompiler::timeout`] (the parent kills it), and every byte it used is given back
//! when it exits. The server keeps only the compiled code.
//!
//! The protocol is a pipe each way: the module's bytes on stdin, wasmtime's precompiled
//! artifact on stdout (exit 0), or the compiler's error on stderr (exit 1). The parent
//! loads the artifact with the run engine, which checks wasmtime's version and code
//! settings in its header, so an artifact from another build is refused, not run.

use super::RejectReason;
use crate::store::modules::ModuleKind;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The hidden `sandstep` subcommand the child runs.
pub const SUBCOMMAND: &str = "__compile-module";

/// Where and under which budget uploads compile when not in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCompiler {
    /// The `sandstep` executable (the server's own, `std::env::current_exe()`).
    pub exe: PathBuf,
    /// The child's address-space limit: code, stacks, the module and Cranelift's memory.
    pub memory_bytes: u64,
    /// How long one compile may take before the child is killed.
    pub timeout: Duration,
}

/// What the child is told: the settings that shape compiled code, so that its artifact
/// loads into the parent's run engine, and its own memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Component or command.
    pub kind: ModuleKind,
    /// [`super::Options::max_wasm_stack_bytes`].
    pub max_wasm_stack_bytes: usize,
    /// [`super::Options::parallel_compilation`].
    pub parallel_compilation: bool,
    /// [`ChildCompiler::memory_bytes`].
    pub memory_bytes: u64,
}

impl Job {
    /// The child's arguments after [`SUBCOMMAND`].
    pub fn to_args(self) -> Vec<String> {
        vec![
            self.kind.as_str().to_owned(),
            self.max_wasm_stack_bytes.to_string(),
            self.parallel_compilation.to_string(),
            self.memory_bytes.to_string(),
        ]
    }

    /// Reads [`Job::to_args`] back.
    ///
    /// # Errors
    /// A message naming the argument that does not parse.
    pub fn from_args(args: &[String]) -> Result<Job, String> {
        let [kind, stack, parallel, memory] = args else {
            return Err(format!("expected 4 arguments, got {}", args.len()));
        };
        let number = |what: &str, s: &str| {
            s.parse::<u64>()
                .map_err(|e| format!("bad {what} '{s}': {e}"))
        };
        Ok(Job {
            kind: ModuleKind::parse(kind).ok_or_else(|| format!("bad kind '{kind}'"))?,
            max_wasm_stack_bytes: usize::try_from(number("stack", stack)?)
                .map_err(|e| e.to_string())?,
            parallel_compilation: parallel
                .parse()
                .map_err(|e| format!("bad parallel flag '{parallel}': {e}"))?,
            memory_bytes: number("memory", memory)?,
        })
    }
}

/// What the child's stderr says when it ran out of address space.
const OUT_OF_MEMORY: [&str; 5] = [
    "memory allocation of",
    "out of memory",
    "Cannot allocate memory",
    "Resource temporarily unavailable",
    "failed to spawn thread",
];

/// The most of the child's stderr kept for the refusal's message.
const STDERR_KEPT: usize = 16 << 10;

/// Compiles `bytes` in a child and returns wasmtime's precompiled artifact.
///
/// # Errors
/// [`RejectReason::CompileBudget`] when the child ran out of memory or time;
/// [`RejectReason::Invalid`] with the compiler's message otherwise.
pub(crate) fn compile(
    compiler: &ChildCompiler,
    job: Job,
    bytes: &[u8],
) -> Result<Vec<u8>, RejectReason> {
    let started = Instant::now();
    let mut child = Command::new(&compiler.exe)
        .arg(SUBCOMMAND)
        .args(job.to_args())
        .env_clear()
        // mimalloc reserves 1 GiB of address space up front by default, which would count
        // against RLIMIT_AS before the compiler used anything; 64 MiB arenas make the
        // limit measure what the compile really maps.
        .env("MIMALLOC_ARENA_RESERVE", "64MiB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            RejectReason::Invalid(format!(
                "the compiler process {} could not start: {e}",
                compiler.exe.display()
            ))
        })?;
    let io = Pipes::attach(&mut child, bytes.to_vec());
    let status = match wait_until(&mut child, started + compiler.timeout) {
        Some(status) => status,
        None => {
            // Killing closes the pipes, which ends the reader threads.
            let _ = child.kill();
            let _ = child.wait();
            let _ = io.finish();
            return Err(RejectReason::CompileBudget {
                budget: Budget::Time,
                limit: compiler.timeout.as_secs().max(1),
            });
        }
    };
    let (artifact, stderr) = io.finish();
    if status.success() {
        return Ok(artifact);
    }
    let message = String::from_utf8_lossy(&stderr).trim().to_owned();
    // What running into RLIMIT_AS looks like: Rust aborts with "memory allocation of N
    // bytes failed"; a thread (rayon's compile workers) cannot map its stack (EAGAIN);
    // an mmap fails with ENOMEM.
    if OUT_OF_MEMORY.iter().any(|sign| message.contains(sign)) {
        return Err(RejectReason::CompileBudget {
            budget: Budget::Memory,
            limit: compiler.memory_bytes >> 20,
        });
    }
    if status.code() == Some(1) && !message.is_empty() {
        return Err(RejectReason::Invalid(message));
    }
    Err(RejectReason::Invalid(format!(
        "the compiler process ended with {}: {}",
        describe(status),
        if message.is_empty() {
            "no message"
        } else {
            &message
        }
    )))
}

/// Which budget a compile ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// [`ChildCompiler::memory_bytes`], reported in MiB.
    Memory,
    /// [`ChildCompiler::timeout`], reported in seconds.
    Time,
}

impl Budget {
    /// The budget and its unit, as the refusal says them.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Budget::Memory => ("memory", "MiB"),
            Budget::Time => ("time", "s"),
        }
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "an unknown status".into(),
    }
}

/// Polls the child until it exits or the deadline passes (`None`).
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The threads that feed the child's stdin and drain its stdout and stderr, so that
/// neither side blocks on a full pipe.
struct Pipes {
    writer: Option<std::thread::JoinHandle<()>>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Pipes {
    fn attach(child: &mut Child, input: Vec<u8>) -> Pipes {
        let writer = child.stdin.take().map(|mut stdin| {
            std::thread::spawn(move || {
                // A child that died early closed its end: its status says why.
                let _ = stdin.write_all(&input);
            })
        });
        let stdout = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = out.read_to_end(&mut buf);
                buf
            })
        });
        let stderr = child.stderr.take().map(|err| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = err.take(STDERR_KEPT as u64).read_to_end(&mut buf);
                buf
            })
        });
        Pipes {
            writer,
            stdout,
            stderr,
        }
    }

    /// Waits for the threads: (stdout, stderr).
    fn finish(self) -> (Vec<u8>, Vec<u8>) {
        if let Some(w) = self.writer {
            let _ = w.join();
        }
        let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        (join(self.stdout), join(self.stderr))
    }
}

/// The child's side: limits its own address space, reads the module from stdin, and
/// writes the artifact to stdout. Returns the exit code.
pub fn serve(args: &[String]) -> u8 {
    let job = match Job::from_args(args) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("{SUBCOMMAND}: {e}");
            return 2;
        }
    };
    if let Err(e) = rlimit::setrlimit(rlimit::Resource::AS, job.memory_bytes, job.memory_bytes) {
        eprintln!("{SUBCOMMAND}: cannot limit the address space: {e}");
        return 2;
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("{SUBCOMMAND}: cannot read the module: {e}");
        return 2;
    }
    let options = super::Options {
        max_wasm_stack_bytes: job.max_wasm_stack_bytes,
        parallel_compilation: job.parallel_compilation,
        ..super::Options::default()
    };
    match super::inspect::precompile(&options, job.kind, &bytes) {
        Ok(artifact) => match std::io::stdout().lock().write_all(&artifact) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{SUBCOMMAND}: cannot write the artifact: {e}");
                2
            }
        },
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_arguments_round_trip() {
        let job = Job {
            kind: ModuleKind::Component,
            max_wasm_stack_bytes: 512 << 10,
            parallel_compilation: false,
            memory_bytes: 2 << 30,
        };
        assert_eq!(Job::from_args(&job.to_args()), Ok(job));
        assert!(Job::from_args(&["component".into()]).is_err());
        let mut bad = job.to_args();
        bad[1] = "lots".into();
        assert!(Job::from_args(&bad).unwrap_err().contains("stack"));
    }

    /// A stand-in compiler: a shell script with `body`, in a fresh directory.
    fn script(name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!(
            "sandstep-compile-child-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("compiler");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn job() -> Job {
        Job {
            kind: ModuleKind::Command,
            max_wasm_stack_bytes: 512 << 10,
            parallel_compilation: false,
            memory_bytes: 1 << 30,
        }
    }

    #[test]
    fn a_missing_compiler_is_a_clear_refusal() {
        let compiler = ChildCompiler {
            exe: "/nonexistent/sandstep".into(),
            memory_bytes: 1 << 30,
            timeout: Duration::from_secs(5),
        };
        match compile(&compiler, job(), b"\0asm\x01\0\0\0") {
            Err(RejectReason::Invalid(m)) => assert!(m.contains("could not start"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_compile_past_its_deadline_is_killed() {
        let compiler = ChildCompiler {
            exe: script("slow", "exec sleep 30"),
            memory_bytes: 1 << 30,
            timeout: Duration::from_millis(300),
        };
        let started = Instant::now();
        let refused = compile(&compiler, job(), b"\0asm\x01\0\0\0");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            refused,
            Err(RejectReason::CompileBudget {
                budget: Budget::Time,
                limit: 1
            })
        );
    }

    #[test]
    fn the_child_s_answers_are_read_back() {
        let echo = ChildCompiler {
            exe: script("echo", "cat"),
            memory_bytes: 1 << 30,
            timeout: Duration::from_secs(30),
        };
        let big: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
        assert_eq!(compile(&echo, job(), &big), Ok(big));
        let failing = ChildCompiler {
            exe: script("fail", "cat >/dev/null; echo 'bad section' >&2; exit 1"),
            ..echo.clone()
        };
        assert_eq!(
            compile(&failing, job(), b"x"),
            Err(RejectReason::Invalid("bad section".into()))
        );
        let oom = ChildCompiler {
            exe: script(
                "oom",
                "cat >/dev/null; echo 'memory allocation of 4096 bytes failed' >&2; kill -ABRT $$",
            ),
            ..echo.clone()
        };
        assert_eq!(
            compile(&oom, job(), b"x"),
            Err(RejectReason::CompileBudget {
                budget: Budget::Memory,
                limit: 1024
            })
        );
        let crash = ChildCompiler {
            exe: script("crash", "cat >/dev/null; kill -SEGV $$"),
            ..echo
        };
        match compile(&crash, job(), b"x") {
            Err(RejectReason::Invalid(m)) => assert!(m.contains("signal 11"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
