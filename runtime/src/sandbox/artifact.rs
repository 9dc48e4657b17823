//! Compiled artifacts: sealing them for the store and loading them back. The only
//! `unsafe` in Sandstep is here.
//!
//! An artifact is `FORMAT`, a SHA-256 seal, then wasmtime's serialized code. The seal
//! covers the engine fingerprint, the module's sha256, its kind and the code, so a
//! truncated, corrupted, foreign (another module's) or stale (another engine's) artifact is
//! refused before wasmtime sees it, and the caller compiles the module again.
#![allow(unsafe_code)]

use crate::store::modules::ModuleKind;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// The artifact layout's version (part of the engine fingerprint too).
pub(crate) const FORMAT: &str = "sandstep-artifact-1";

/// Compiled code of either kind.
#[derive(Clone)]
pub(crate) enum Code {
    Component(Component),
    Command(Module),
}

/// What the seal covers besides the code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity<'a> {
    pub(crate) fingerprint: &'a str,
    pub(crate) sha256: &'a str,
    pub(crate) kind: ModuleKind,
}

fn seal_of(identity: Identity<'_>, code: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        identity.fingerprint.as_bytes(),
        identity.sha256.as_bytes(),
        identity.kind.as_str().as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(code);
    h.finalize().into()
}

/// Serializes compiled code into a sealed artifact.
pub(crate) fn seal(identity: Identity<'_>, code: &Code) -> wasmtime::Result<Vec<u8>> {
    let serialized = match code {
        Code::Component(c) => c.serialize()?,
        Code::Command(m) => m.serialize()?,
    };
    let mut out = Vec::with_capacity(FORMAT.len() + 32 + serialized.len());
    out.extend_from_slice(FORMAT.as_bytes());
    out.extend_from_slice(&seal_of(identity, &serialized));
    out.extend_from_slice(&serialized);
    Ok(out)
}

/// Loads what a compile-only engine of this process compiled a moment ago.
pub(crate) fn load_precompiled(
    engine: &Engine,
    kind: ModuleKind,
    precompiled: &[u8],
) -> wasmtime::Result<Code> {
    // SAFETY: `deserialize` trusts its input to be code that wasmtime compiled. These
    // bytes are exactly what `Engine::precompile_module` / `precompile_component` of a
    // compile-only engine (`engine::build_compiler`, the run engine's code settings
    // without its pool) returned for this module a moment ago: in this process, or in a
    // child running this same executable (`compile_child`), which reads only the module
    // from a pipe of ours and writes only wasmtime's output back on another; the bytes
    // were never stored or seen by anyone else. Trusting that child is trusting Cranelift,
    // as compiling in process would. Wasmtime checks the version and the code settings in
    // their header against `engine` and refuses (an error, not undefined behaviour) what
    // does not match, such as the output of an upgraded executable.
    unsafe {
        match kind {
            ModuleKind::Component => {
                Component::deserialize(engine, precompiled).map(Code::Component)
            }
            ModuleKind::Command => Module::deserialize(engine, precompiled).map(Code::Command),
        }
    }
}

/// Loads a sealed artifact, or says why it was refused.
pub(crate) fn open(
    engine: &Engine,
    identity: Identity<'_>,
    artifact: &[u8],
) -> Result<Code, String> {
    let rest = artifact
        .strip_prefix(FORMAT.as_bytes())
        .ok_or("not a Sandstep artifact of this format")?;
    let (seal, code) = rest.split_at_checked(32).ok_or("truncated artifact")?;
    if seal != seal_of(identity, code) {
        return Err("the artifact's seal does not match (corrupt, foreign or stale)".into());
    }
    // SAFETY: `Module::deserialize` and `Component::deserialize` trust their input to be
    // code that wasmtime compiled, and would run whatever machine code it holds. These
    // bytes are exactly what `seal` above was given: the seal (SHA-256 over the engine
    // fingerprint, the module's sha256, its kind and every byte of the code) matched, so
    // the code was serialized by an engine with this configuration for this very module
    // and is intact. Wasmtime itself then checks the version and the settings in its
    // header and refuses an incompatible artifact. The store holding artifacts is
    // written only by this process (never by tenants), which is what makes the seal a
    // proof of origin rather than of integrity alone.
    let loaded = unsafe {
        match identity.kind {
            ModuleKind::Component => Component::deserialize(engine, code).map(Code::Component),
            ModuleKind::Command => Module::deserialize(engine, code).map(Code::Command),
        }
    };
    loaded.map_err(|e| format!("wasmtime refused the artifact: {e}"))
}
