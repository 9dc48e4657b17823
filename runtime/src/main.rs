//! The `sandstep` command line.
mod cli_bindings;
mod cli_data;
mod cli_eval;
mod cli_jobs;
mod cli_roles;
mod cli_routes;
mod cli_samples;
mod cli_schedules;
mod cli_test_state;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandstep::grants::Grants;
use sandstep::local;
use sandstep::sandbox::{Options, Sandbox};
use sandstep::service::machines::diagnostics;
use sandstep::store::{Expect, Kv as _, Store, TenantId};
use sandstep_engine::validate::MachineType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: sandstep::alloc_meter::Metered = sandstep::alloc_meter::Metered;

#[derive(Parser, Debug)]
#[command(
    name = "sandstep",
    version,
    about = "Self-hosted AWS Step Functions on WebAssembly"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the server: the AWS Step Functions API on POST /, modules under /v1/modules.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Where the store lives [default: ./sandstep-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The store: sled (default, under --data-dir) or postgres://user@host/db, shared
        /// by every server pointed at it.
        #[arg(long, env = "SANDSTEP_STORE")]
        store: Option<String>,
        /// A TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The admin token that allows POST /v1/tenants.
        #[arg(long, env = "SANDSTEP_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// group (default), fsync or none.
        #[arg(long)]
        durability: Option<String>,
    },
    /// Checks a definition: prints OK (exit 0) or one diagnostic per line (exit 2).
    Validate {
        /// STANDARD or EXPRESS.
        #[arg(long = "type", default_value = "STANDARD")]
        machine_type: String,
        /// The definition file.
        definition: PathBuf,
    },
    /// Runs one execution locally and prints its output (exit 0) or failure (exit 1).
    Run {
        /// The definition file.
        definition: PathBuf,
        /// The execution input: JSON text, or @FILE.
        #[arg(long, default_value = "{}")]
        input: String,
        /// Print the AWS-shaped history events instead of the output.
        #[arg(long)]
        history: bool,
        /// A task module, NAME=PATH.wasm: Task states calling function NAME run it.
        #[arg(long = "module", value_name = "NAME=PATH")]
        modules: Vec<String>,
        /// Grants of a module, NAME=kind:name[:read|write],...: e.g. NAME=kv:orders,queue:shipments.
        #[arg(long = "grant", value_name = "NAME=GRANTS")]
        grants: Vec<String>,
        /// A kv item to start with, TABLE/KEY=JSON.
        #[arg(long = "kv", value_name = "TABLE/KEY=JSON")]
        kv: Vec<String>,
        /// A blob to start with, BUCKET/KEY=@FILE (or BUCKET/KEY=TEXT).
        #[arg(long = "blob", value_name = "BUCKET/KEY=@FILE")]
        blobs: Vec<String>,
    },
    /// Evaluates a JSONata expression (the body of a `{% %}`) as a state would: prints
    /// the result as JSON (nothing when undefined, exit 0) or {"code", "message"} (exit 1).
    Eval {
        /// The expression, without the `{%` and `%}`.
        #[arg(allow_hyphen_values = true)]
        expression: String,
        /// What `$` is bound to: JSON text, or @FILE (default: undefined).
        #[arg(long, allow_hyphen_values = true)]
        input: Option<String>,
        /// A variable, NAME=JSON (or NAME=@FILE): `$NAME` in the expression.
        #[arg(long = "bind", value_name = "NAME=JSON")]
        binds: Vec<String>,
    },
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manages modules on a server.
    Module {
        #[command(subcommand)]
        command: ModuleCommand,
    },
    /// Manages Batch job queues on a server.
    #[command(name = "job-queue")]
    JobQueue {
        #[command(subcommand)]
        command: cli_jobs::QueueCommand,
    },
    /// Lists, describes and cancels Batch jobs on a server, and prints their logs.
    Job {
        #[command(subcommand)]
        command: cli_jobs::JobCommand,
    },
    /// Looks at and changes the tenant's tables, buckets, queues and topics on a server.
    Data {
        #[command(subcommand)]
        command: cli_data::DataCommand,
    },
    /// Manages schedules on a server: executions started at times a rate, cron or at
    /// expression names.
    Schedule {
        #[command(subcommand)]
        command: cli_schedules::ScheduleCommand,
    },
    /// Shows what a server's event buses keep: dead letters, the latest events.
    Bus {
        #[command(subcommand)]
        command: cli_schedules::BusCommand,
    },
    /// Manages HTTP routes on a server: requests to /hooks/<account><path> that start
    /// state machines.
    Route {
        #[command(subcommand)]
        command: cli_routes::RouteCommand,
    },
    /// Runs one state alone through a server's TestState and prints its stages: its task
    /// mocked (--mock-result, --mock-error) or run for real (--role-arn).
    TestState(cli_test_state::TestStateArgs),
    /// Manages resource bindings on a server: the modules that play services Sandstep
    /// does not host.
    Binding {
        #[command(subcommand)]
        command: cli_bindings::BindingCommand,
    },
    /// The sample projects: list them, or install one into a running server.
    Sample {
        #[command(subcommand)]
        command: cli_samples::SampleCommand,
    },
    /// Manages roles on a server: what state machines' integrations may touch.
    Role {
        #[command(subcommand)]
        command: cli_roles::RoleCommand,
    },
    /// The server's module compiler, run as a child process with a memory limit: the
    /// module on stdin, the compiled artifact on stdout.
    #[command(name = "__compile-module", hide = true)]
    CompileModule {
        /// What `sandbox::compile_child::Job::to_args` wrote.
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum TenantCommand {
    /// Creates a tenant and prints its account id and credentials (shown once).
    Create {
        /// The tenant's name.
        name: String,
        /// Create it offline in this data directory (the server must be stopped).
        #[arg(long, conflicts_with = "endpoint")]
        data_dir: Option<PathBuf>,
        /// Create it through a running server (needs --admin-token).
        #[arg(long)]
        endpoint: Option<String>,
        /// The server's admin token.
        #[arg(long, env = "SANDSTEP_ADMIN_TOKEN")]
        admin_token: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ModuleCommand {
    /// Uploads a .wasm file as a new version of a module.
    Upload {
        /// The module's name (what Task resources call).
        name: String,
        /// The .wasm file.
        path: PathBuf,
        /// Capabilities: kind:name[:read|write|rw], e.g. kv:orders,queue:shipments.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        endpoint: String,
        /// The tenant's API key (not needed for the default tenant on loopback).
        #[arg(long, env = "SANDSTEP_API_KEY")]
        api_key: Option<String>,
    },
}

fn main() -> ExitCode {
    sandstep_engine::jsonata::set_memory_probe(sandstep::alloc_meter::live_bytes);
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::CompileModule { args } => Ok(ExitCode::from(
            sandstep::sandbox::compile_child::serve(&args),
        )),
        Command::Serve {
            listen,
            data_dir,
            store,
            config,
            admin_token,
            durability,
        } => {
            let mut c = match config {
                Some(path) => sandstep::config::Config::from_file(&path)?,
                None => sandstep::config::Config::default(),
            };
            if let Some(l) = listen {
                c.listen = l;
            }
            if let Some(d) = data_dir {
                c.data_dir = d;
            }
            if let Some(s) = store {
                c.store = s;
            }
            if admin_token.is_some() {
                c.admin_token = admin_token;
            }
            if let Some(d) = durability {
                c.durability = d;
            }
            init_tracing();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(sandstep::server::serve(c, sandstep::plugins))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            definition,
            input,
            history,
            modules,
            grants,
            kv,
            blobs,
        } => run_local(
            &definition,
            &input,
            history,
            &Setup {
                modules,
                grants,
                kv,
                blobs,
            },
        ),
        Command::Eval {
            expression,
            input,
            binds,
        } => cli_eval::eval(&expression, input.as_deref(), &binds),
        Command::Validate {
            machine_type,
            definition,
        } => {
            let machine_type = parse_type(&machine_type)?;
            match read_definition(&definition, machine_type)? {
                Ok(_) => {
                    println!("OK");
                    Ok(ExitCode::SUCCESS)
                }
                Err(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Tenant {
            command:
                TenantCommand::Create {
                    name,
                    data_dir,
                    endpoint,
                    admin_token,
                },
        } => tenant_create(&name, data_dir, endpoint, admin_token),
        Command::Module {
            command:
                ModuleCommand::Upload {
                    name,
                    path,
                    grants,
                    endpoint,
                    api_key,
                },
        } => module_upload(&name, &path, &grants, &endpoint, api_key.as_deref()),
        Command::JobQueue { command } => cli_jobs::queue(command),
        Command::Job { command } => cli_jobs::job(command),
        Command::Role { command } => cli_roles::role(command),
        Command::Binding { command } => cli_bindings::binding(command),
        Command::Sample { command } => cli_samples::sample(command),
        Command::Route { command } => cli_routes::route(command),
        Command::TestState(args) => cli_test_state::test_state(args),
        Command::Schedule { command } => cli_schedules::schedule(command),
        Command::Bus { command } => cli_schedules::bus(command),
        Command::Data { command } => cli_data::data(command),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SANDSTEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The HTTP client logs requests' headers at debug level, credentials among them
    // (connections' API keys): never below warn, whatever SANDSTEP_LOG says (a directive
    // replaces one of the same target, so each of its modules is named).
    let filter = [
        "ureq",
        "ureq::unit",
        "ureq::stream",
        "ureq::pool",
        "ureq::response",
        "ureq::agent",
    ]
    .iter()
    .filter_map(|target| format!("{target}=warn").parse().ok())
    .fold(filter, |f, quiet| f.add_directive(quiet));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .json()
        .try_init();
}

fn parse_type(text: &str) -> anyhow::Result<MachineType> {
    MachineType::parse(text)
        .ok_or_else(|| anyhow::anyhow!("--type must be STANDARD or EXPRESS, not {text}"))
}

/// Reads and validates a definition: its text, or the diagnostic lines.
fn read_definition(
    path: &Path,
    machine_type: MachineType,
) -> anyhow::Result<Result<String, Vec<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let found = diagnostics(&text, machine_type);
    if found.is_empty() {
        return Ok(Ok(text));
    }
    Ok(Err(found
        .iter()
        .map(|d| format!("{}: {} at {}", d.code, d.message, d.location))
        .collect()))
}

/// What `sandstep run` loads into its in-memory store before the execution starts.
struct Setup {
    modules: Vec<String>,
    grants: Vec<String>,
    kv: Vec<String>,
    blobs: Vec<String>,
}

/// Splits `NAME=VALUE`.
fn pair<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} expects NAME=VALUE, not '{text}'"))
}

/// Splits `CONTAINER/KEY`.
fn place<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('/')
        .filter(|(c, k)| !c.is_empty() && !k.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} expects CONTAINER/KEY=..., not '{text}'"))
}

/// Registers the modules with their grants and seeds kv and blob data. `Err(code)` after
/// printing why a module was refused.
fn load(
    sandbox: &Sandbox,
    tenant: &TenantId,
    setup: &Setup,
) -> anyhow::Result<Result<(), ExitCode>> {
    let mut grants: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in &setup.grants {
        let (name, list) = pair("--grant", g)?;
        grants.entry(name).or_default().push(list);
    }
    let mut names = Vec::new();
    for m in &setup.modules {
        let (name, path) = pair("--module", m)?;
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let granted = Grants::parse(grants.get(name).into_iter().flatten().copied())?;
        if let Err(e) = sandbox.register(tenant, name, &bytes, granted) {
            eprintln!("{name} ({path}): {e}");
            return Ok(Err(ExitCode::from(2)));
        }
        names.push(name);
    }
    if let Some(stray) = grants.keys().find(|g| !names.contains(g)) {
        anyhow::bail!("--grant {stray}=...: there is no --module {stray}=...");
    }
    let store = sandbox.store();
    for item in &setup.kv {
        let (at, json) = pair("--kv", item)?;
        let (table, key) = place("--kv", at)?;
        serde_json::from_str::<serde_json::Value>(json)
            .with_context(|| format!("--kv {at}: the value is not JSON"))?;
        store.kv_put(tenant, table, key, json, Expect::Any)?;
    }
    for blob in &setup.blobs {
        let (at, value) = pair("--blob", blob)?;
        let (bucket, key) = place("--blob", at)?;
        let data = match value.strip_prefix('@') {
            Some(file) => std::fs::read(file).with_context(|| format!("reading {file}"))?,
            None => value.as_bytes().to_vec(),
        };
        store.blob_put(tenant, bucket, key, &data, None, sandstep::clock::now())?;
    }
    Ok(Ok(()))
}

fn run_local(
    path: &Path,
    input: &str,
    print_history: bool,
    setup: &Setup,
) -> anyhow::Result<ExitCode> {
    let text = match read_definition(path, MachineType::Standard)? {
        Ok(text) => text,
        Err(lines) => {
            for l in lines {
                eprintln!("{l}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let tenant = TenantId("default".into());
    let sandbox = Sandbox::new(Options::default(), Store::memory())?;
    if let Err(code) = load(&sandbox, &tenant, setup)? {
        return Ok(code);
    }
    let definition = match sandstep_engine::Definition::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            let code = match e {
                sandstep_engine::Error::Unsupported(_) => "UNSUPPORTED_FEATURE",
                _ => "SCHEMA_VALIDATION_FAILED",
            };
            eprintln!("{code}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let input_text = match input.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
        None => input.to_string(),
    };
    let input: serde_json::Value =
        serde_json::from_str(&input_text).context("--input is not valid JSON")?;
    let machine_name: String = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        })
        .unwrap_or_else(|| "local".to_string());
    let finished = local::run(&definition, input, &machine_name, &sandbox, &tenant)?;
    if print_history {
        let events: Vec<serde_json::Value> =
            finished.history.iter().map(|e| e.to_aws_json()).collect();
        println!("{}", serde_json::Value::Array(events));
    }
    match finished.outcome {
        sandstep_engine::Outcome::Succeeded(output) => {
            if !print_history {
                println!("{output}");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => {
            let (error, cause) = match &other {
                sandstep_engine::Outcome::Failed { error, cause }
                | sandstep_engine::Outcome::TimedOut { error, cause }
                | sandstep_engine::Outcome::Aborted { error, cause } => {
                    (error.clone(), cause.clone())
                }
                sandstep_engine::Outcome::Succeeded(_) => (None, None),
            };
            if !print_history {
                println!(
                    "{}",
                    serde_json::json!({"status": other.status(), "error": error, "cause": cause})
                );
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn tenant_create(
    name: &str,
    data_dir: Option<PathBuf>,
    endpoint: Option<String>,
    admin_token: Option<String>,
) -> anyhow::Result<ExitCode> {
    let created = match (data_dir, endpoint) {
        (Some(dir), None) => {
            let store = sandstep::store::Store::on(
                sandstep::store::sled::Sled::open(
                    &dir,
                    sandstep::store::durability::Durability::Fsync,
                )
                .context("opening the data directory (is the server still running?)")?,
            );
            let tenants = sandstep::service::Tenants::new(store);
            serde_json::to_value(tenants.create(name, sandstep::tenants::Quotas::default())?)?
        }
        (None, Some(endpoint)) => {
            let token = admin_token
                .context("--admin-token (or SANDSTEP_ADMIN_TOKEN) is required with --endpoint")?;
            let url = format!("{}/v1/tenants", endpoint.trim_end_matches('/'));
            let response = ureq::post(&url)
                .set("authorization", &format!("Bearer {token}"))
                .send_json(serde_json::json!({"name": name}));
            http_json(response)?
        }
        _ => anyhow::bail!(
            "give either --data-dir DIR (server stopped) or --endpoint URL --admin-token TOKEN"
        ),
    };
    println!("{}", serde_json::to_string_pretty(&created)?);
    Ok(ExitCode::SUCCESS)
}

fn http_json(response: Result<ureq::Response, ureq::Error>) -> anyhow::Result<serde_json::Value> {
    match response {
        Ok(r) => Ok(r.into_json()?),
        Err(ureq::Error::Status(code, r)) => {
            let body = r.into_string().unwrap_or_default();
            anyhow::bail!("the server answered {code}: {body}")
        }
        Err(e) => Err(e.into()),
    }
}

fn module_upload(
    name: &str,
    path: &Path,
    grants: &[String],
    endpoint: &str,
    api_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut url = format!("{}/v1/modules/{name}", endpoint.trim_end_matches('/'));
    if !grants.is_empty() {
        url.push_str(&format!("?grants={}", grants.join(",")));
    }
    let mut request = ureq::put(&url).set("content-type", "application/wasm");
    if let Some(key) = api_key {
        request = request.set("authorization", &format!("Bearer {key}"));
    }
    let answer = http_json(request.send_bytes(&bytes))?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(ExitCode::SUCCESS)
}
