//! What an upload's code may cost to compile, checked before Cranelift sees it.
//!
//! Cranelift's memory and time grow with more than a module's size: with the number of
//! blocks and branches in a function, with its locals times its branches (every local
//! live across every block or loop header), and quadratically with the branches of one
//! function while fuel is metered. A 12 MB module of two functions of nested `block`s
//! took 15–18 s and 3.6 GB to compile; 43 KB of nested loops reading 10,000 locals took
//! 5 minutes. One streaming [`wasmparser`] pass over every core module of an upload (the
//! embedded ones of a component too; no recursion, memory independent of nesting)
//! measures each function and the whole upload, and refuses with the first limit
//! exceeded, naming the function.
//!
//! The defaults pass the largest real guests comfortably (componentize-py's CPython
//! component: 13,510 functions, 6.5 MB of code, nesting 781, 7,780 branches in one
//! function; componentize-js's StarlingMonkey: 12,699 functions, 9.2 MB of code, 400,648
//! locals×branches in one function) and keep the worst module within them to a bounded
//! compile (see the README's limits).

use super::RejectReason;
use wasmparser::{CompositeInnerType, Encoding, Operator, Parser, Payload, TypeRef};

/// Limits on the code of an upload, per function and for the whole upload (all its
/// core modules together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    /// Bytes of one function body (locals declaration and instructions).
    pub function_bytes: u64,
    /// Nesting of `block`, `loop`, `if` and `try` in one function.
    pub nesting_depth: u64,
    /// Branch points of one function: `block`, `loop`, `if`, `else`, `try`, `catch`,
    /// `br_if`, `br_table` and the `br_on_*` family.
    pub branches: u64,
    /// `loop`s in one function (a loop costs Cranelift about 60 times a `block`).
    pub loops: u64,
    /// Locals of one function, its parameters included.
    pub locals: u64,
    /// Locals times branches of one function.
    pub locals_times_branches: u64,
    /// Functions defined in the upload.
    pub functions: u64,
    /// Bytes of all function bodies of the upload.
    pub code_bytes: u64,
    /// `loop`s in all functions of the upload.
    pub total_loops: u64,
    /// Locals times branches, summed over the upload's functions.
    pub total_locals_times_branches: u64,
    /// The square of each function's branches, summed over the upload's functions.
    pub total_branches_squared: u64,
}

impl Default for CodeLimits {
    fn default() -> CodeLimits {
        CodeLimits {
            function_bytes: 1 << 20,
            nesting_depth: 2_048,
            branches: 16_384,
            loops: 2_048,
            locals: 10_000,
            locals_times_branches: 1_000_000,
            functions: 100_000,
            code_bytes: 32 << 20,
            total_loops: 65_536,
            total_locals_times_branches: 16_000_000,
            total_branches_squared: 2_000_000_000,
        }
    }
}

/// A limit of [`CodeLimits`], by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`CodeLimits::function_bytes`].
    FunctionBytes,
    /// [`CodeLimits::nesting_depth`].
    NestingDepth,
    /// [`CodeLimits::branches`].
    Branches,
    /// [`CodeLimits::loops`].
    Loops,
    /// [`CodeLimits::locals`].
    Locals,
    /// [`CodeLimits::locals_times_branches`].
    LocalsTimesBranches,
    /// [`CodeLimits::functions`].
    Functions,
    /// [`CodeLimits::code_bytes`].
    CodeBytes,
    /// [`CodeLimits::total_loops`].
    TotalLoops,
    /// [`CodeLimits::total_locals_times_branches`].
    TotalLocalsTimesBranches,
    /// [`CodeLimits::total_branches_squared`].
    TotalBranchesSquared,
}

impl Limit {
    /// What the limit counts, as the refusal says it.
    pub fn describe(self) -> &'static str {
        match self {
            Limit::FunctionBytes => "function body size (bytes)",
            Limit::NestingDepth => "control-flow nesting depth",
            Limit::Branches => "branches per function",
            Limit::Loops => "loops per function",
            Limit::Locals => "locals per function (parameters included)",
            Limit::LocalsTimesBranches => "locals x branches per function",
            Limit::Functions => "number of functions",
            Limit::CodeBytes => "total code size (bytes)",
            Limit::TotalLoops => "loops in all functions",
            Limit::TotalLocalsTimesBranches => "locals x branches summed over all functions",
            Limit::TotalBranchesSquared => "branches squared summed over all functions",
        }
    }
}

/// Where a limit was exceeded: a function, by its index in its core module's function
/// space (imports first, as `wasm-tools print` numbers them), and that module's position
/// among the upload's core modules (0 for a core module upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// The core module, counted in the order they appear in the upload.
    pub module: u32,
    /// The function index.
    pub function: u32,
}

/// What a whole upload's code amounts to (for the figures in logs and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeStats {
    /// Core modules, the embedded ones of a component included.
    pub modules: u64,
    /// Functions defined.
    pub functions: u64,
    /// Bytes of all function bodies.
    pub code_bytes: u64,
    /// The largest function body.
    pub max_function_bytes: u64,
    /// The deepest nesting.
    pub max_nesting_depth: u64,
    /// The most branches in one function.
    pub max_branches: u64,
    /// The most loops in one function.
    pub max_loops: u64,
    /// Loops in all functions.
    pub total_loops: u64,
    /// The most locals in one function.
    pub max_locals: u64,
    /// The largest locals x branches of one function.
    pub max_locals_times_branches: u64,
    /// Locals x branches, summed.
    pub total_locals_times_branches: u64,
    /// Branches squared, summed.
    pub total_branches_squared: u64,
}

/// One core module being read: parameter counts of its types, the type of each function.
#[derive(Default)]
struct Module {
    index: u32,
    type_params: Vec<u64>,
    function_types: Vec<u32>,
    next_body: u32,
}

impl CodeLimits {
    /// Measures every function of `bytes` (a core module or a component) and checks the
    /// limits, stopping at the first one exceeded. Malformed bytes are refused as invalid.
    ///
    /// # Errors
    /// [`RejectReason::Limit`] naming the limit and the function, or
    /// [`RejectReason::Invalid`].
    pub fn check(&self, bytes: &[u8]) -> Result<CodeStats, RejectReason> {
        let invalid = |e: wasmparser::BinaryReaderError| RejectReason::Invalid(e.to_string());
        let mut stats = CodeStats::default();
        // Core modules nest inside components; each `End` closes the innermost.
        let mut open: Vec<Option<Module>> = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(invalid)? {
                Payload::Version { encoding, .. } => {
                    open.push(match encoding {
                        Encoding::Module => {
                            let index = u32::try_from(stats.modules).unwrap_or(u32::MAX);
                            stats.modules += 1;
                            Some(Module {
                                index,
                                ..Module::default()
                            })
                        }
                        Encoding::Component => None,
                    });
                }
                Payload::End(_) => {
                    open.pop();
                }
                Payload::TypeSection(reader) => {
                    if let Some(Some(module)) = open.last_mut() {
                        for group in reader {
                            for ty in group.map_err(invalid)?.into_types() {
                                let params = match &ty.composite_type.inner {
                                    CompositeInnerType::Func(f) => f.params().len() as u64,
                                    _ => 0,
                                };
                                module.type_params.push(params);
                            }
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    if let Some(Some(module)) = open.last_mut() {
                        for import in reader.into_imports() {
                            if let TypeRef::Func(ty) = import.map_err(invalid)?.ty {
                                module.function_types.push(ty);
                                module.next_body += 1;
                            }
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    if let Some(Some(module)) = open.last_mut() {
                        for ty in reader {
                            module.function_types.push(ty.map_err(invalid)?);
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    if let Some(Some(module)) = open.last_mut() {
                        let site = Site {
                            module: module.index,
                            function: module.next_body,
                        };
                        let params = module
                            .function_types
                            .get(module.next_body as usize)
                            .and_then(|ty| module.type_params.get(*ty as usize))
                            .copied()
                            .unwrap_or(0);
                        module.next_body = module.next_body.saturating_add(1);
                        self.function(&body, params, site, &mut stats)?;
                    }
                }
                _ => {}
            }
        }
        Ok(stats)
    }

    /// Measures one function and adds it to the upload's totals.
    fn function(
        &self,
        body: &wasmparser::FunctionBody<'_>,
        params: u64,
        site: Site,
        stats: &mut CodeStats,
    ) -> Result<(), RejectReason> {
        let invalid = |e: wasmparser::BinaryReaderError| RejectReason::Invalid(e.to_string());
        let over = |limit: Limit, value: u64, max: u64, site: Option<Site>| {
            Err(RejectReason::Limit {
                limit,
                site,
                value,
                max,
            })
        };
        stats.functions += 1;
        if stats.functions > self.functions {
            return over(Limit::Functions, stats.functions, self.functions, None);
        }
        let size = body.range().len() as u64;
        stats.code_bytes += size;
        stats.max_function_bytes = stats.max_function_bytes.max(size);
        if size > self.function_bytes {
            return over(Limit::FunctionBytes, size, self.function_bytes, Some(site));
        }
        if stats.code_bytes > self.code_bytes {
            return over(Limit::CodeBytes, stats.code_bytes, self.code_bytes, None);
        }
        let mut locals = params;
        for group in body.get_locals_reader().map_err(invalid)? {
            let (count, _) = group.map_err(invalid)?;
            locals = locals.saturating_add(u64::from(count));
            if locals > self.locals {
                return over(Limit::Locals, locals, self.locals, Some(site));
            }
        }
        stats.max_locals = stats.max_locals.max(locals);
        let (mut depth, mut branches, mut loops) = (0u64, 0u64, 0u64);
        let mut reader = body.get_operators_reader().map_err(invalid)?;
        while !reader.eof() {
            let opens = match reader.read().map_err(invalid)? {
                Operator::Loop { .. } => {
                    loops += 1;
                    stats.total_loops += 1;
                    if loops > self.loops {
                        return over(Limit::Loops, loops, self.loops, Some(site));
                    }
                    if stats.total_loops > self.total_loops {
                        return over(
                            Limit::TotalLoops,
                            stats.total_loops,
                            self.total_loops,
                            Some(site),
                        );
                    }
                    true
                }
                Operator::Block { .. }
                | Operator::If { .. }
                | Operator::Try { .. }
                | Operator::TryTable { .. } => true,
                Operator::Else
                | Operator::Catch { .. }
                | Operator::CatchAll
                | Operator::BrIf { .. }
                | Operator::BrTable { .. }
                | Operator::BrOnNull { .. }
                | Operator::BrOnNonNull { .. }
                | Operator::BrOnCast { .. }
                | Operator::BrOnCastFail { .. }
                | Operator::BrOnCastDescEq { .. }
                | Operator::BrOnCastDescEqFail { .. } => {
                    branches += 1;
                    false
                }
                Operator::End => {
                    depth = depth.saturating_sub(1);
                    false
                }
                Operator::Delegate { .. } => {
                    depth = depth.saturating_sub(1);
                    branches += 1;
                    false
                }
                _ => false,
            };
            if opens {
                depth += 1;
                branches += 1;
                stats.max_nesting_depth = stats.max_nesting_depth.max(depth);
                if depth > self.nesting_depth {
                    return over(Limit::NestingDepth, depth, self.nesting_depth, Some(site));
                }
            }
            if branches > self.branches {
                return over(Limit::Branches, branches, self.branches, Some(site));
            }
        }
        stats.max_branches = stats.max_branches.max(branches);
        stats.max_loops = stats.max_loops.max(loops);
        let product = locals.saturating_mul(branches);
        stats.max_locals_times_branches = stats.max_locals_times_branches.max(product);
        if product > self.locals_times_branches {
            return over(
                Limit::LocalsTimesBranches,
                product,
                self.locals_times_branches,
                Some(site),
            );
        }
        stats.total_locals_times_branches =
            stats.total_locals_times_branches.saturating_add(product);
        if stats.total_locals_times_branches > self.total_locals_times_branches {
            return over(
                Limit::TotalLocalsTimesBranches,
                stats.total_locals_times_branches,
                self.total_locals_times_branches,
                Some(site),
            );
        }
        stats.total_branches_squared = stats
            .total_branches_squared
            .saturating_add(branches.saturating_mul(branches));
        if stats.total_branches_squared > self.total_branches_squared {
            return over(
                Limit::TotalBranchesSquared,
                stats.total_branches_squared,
                self.total_branches_squared,
                Some(site),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    /// A module whose function 1 (after one import) nests `depth` blocks.
    fn nested(depth: usize) -> Vec<u8> {
        let blocks = "(block ".repeat(depth) + &")".repeat(depth);
        wat(&format!(
            r#"(module (import "m" "f" (func)) (func (param i32) (local i64 i64) {blocks}))"#
        ))
    }

    fn refusal(bytes: &[u8], limits: &CodeLimits) -> (Limit, Option<Site>, u64, u64) {
        match limits.check(bytes) {
            Err(RejectReason::Limit {
                limit,
                site,
                value,
                max,
            }) => (limit, site, value, max),
            other => panic!("expected a limit, got {other:?}"),
        }
    }

    #[test]
    fn measures_a_function() {
        let stats = CodeLimits::default().check(&nested(5)).unwrap();
        assert_eq!(stats.modules, 1);
        assert_eq!(stats.functions, 1);
        assert_eq!(stats.max_nesting_depth, 5);
        assert_eq!(stats.max_branches, 5);
        assert_eq!(stats.max_locals, 3, "one parameter and two locals");
        assert_eq!(stats.max_locals_times_branches, 15);
    }

    #[test]
    fn nesting_is_refused_naming_the_function() {
        let limits = CodeLimits {
            nesting_depth: 10,
            ..CodeLimits::default()
        };
        assert!(limits.check(&nested(10)).is_ok());
        let site = Some(Site {
            module: 0,
            function: 1,
        });
        assert_eq!(
            refusal(&nested(11), &limits),
            (Limit::NestingDepth, site, 11, 10)
        );
        let message = limits.check(&nested(11)).unwrap_err().to_string();
        assert!(message.contains("control-flow nesting depth"), "{message}");
        assert!(message.contains("function 1"), "{message}");
    }

    #[test]
    fn the_nesting_pass_does_not_recurse() {
        // 300,000 levels (900 KB, under the body size limit): a recursive reader would
        // overflow the test thread's stack.
        let depth = 300_000;
        let mut body = vec![0u8];
        for _ in 0..depth {
            body.extend_from_slice(&[0x02, 0x40]);
        }
        body.extend(std::iter::repeat_n(0x0b, depth + 1));
        let mut module = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0".to_vec();
        let mut code = vec![1u8];
        leb(&mut code, body.len() as u64);
        code.extend_from_slice(&body);
        module.push(10);
        leb(&mut module, code.len() as u64);
        module.extend_from_slice(&code);
        let (limit, _, value, _) = refusal(&module, &CodeLimits::default());
        assert_eq!((limit, value), (Limit::NestingDepth, 2_049));
    }

    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    #[test]
    fn every_function_limit() {
        let module = wat(r#"(module (func (param i32 i32) (local i32)
                (block (br_if 0 (local.get 0)))
                (loop (br_if 0 (local.get 1)))
                (if (local.get 2) (then) (else))))"#);
        let stats = CodeLimits::default().check(&module).unwrap();
        // block, br_if, loop, br_if, if, else.
        assert_eq!(stats.max_branches, 6);
        assert_eq!(stats.max_locals, 3);
        let site = Some(Site {
            module: 0,
            function: 0,
        });
        let cases = [
            (
                CodeLimits {
                    branches: 5,
                    ..CodeLimits::default()
                },
                (Limit::Branches, site, 6, 5),
            ),
            (
                CodeLimits {
                    loops: 0,
                    ..CodeLimits::default()
                },
                (Limit::Loops, site, 1, 0),
            ),
            (
                CodeLimits {
                    total_loops: 0,
                    ..CodeLimits::default()
                },
                (Limit::TotalLoops, site, 1, 0),
            ),
            (
                CodeLimits {
                    locals: 2,
                    ..CodeLimits::default()
                },
                (Limit::Locals, site, 3, 2),
            ),
            (
                CodeLimits {
                    locals_times_branches: 17,
                    ..CodeLimits::default()
                },
                (Limit::LocalsTimesBranches, site, 18, 17),
            ),
            (
                CodeLimits {
                    function_bytes: 10,
                    ..CodeLimits::default()
                },
                (Limit::FunctionBytes, site, stats.max_function_bytes, 10),
            ),
            (
                CodeLimits {
                    total_branches_squared: 35,
                    ..CodeLimits::default()
                },
                (Limit::TotalBranchesSquared, site, 36, 35),
            ),
        ];
        for (limits, expected) in cases {
            assert_eq!(refusal(&module, &limits), expected);
        }
    }

    #[test]
    fn upload_totals() {
        let module =
            wat(r#"(module (func (block (br_if 0 (i32.const 0)))) (func (nop)) (func (nop)))"#);
        let stats = CodeLimits::default().check(&module).unwrap();
        assert_eq!(stats.functions, 3);
        let limits = CodeLimits {
            functions: 2,
            ..CodeLimits::default()
        };
        assert_eq!(refusal(&module, &limits), (Limit::Functions, None, 3, 2));
        let limits = CodeLimits {
            code_bytes: stats.code_bytes - 1,
            ..CodeLimits::default()
        };
        let (limit, site, value, _) = refusal(&module, &limits);
        assert_eq!(
            (limit, site, value),
            (Limit::CodeBytes, None, stats.code_bytes)
        );
    }

    #[test]
    fn components_are_checked_module_by_module() {
        let component = wat(r#"(component
                (core module (func (nop)))
                (core module (func) (func (block (block (block))))))"#);
        let stats = CodeLimits::default().check(&component).unwrap();
        assert_eq!((stats.modules, stats.functions), (2, 3));
        let limits = CodeLimits {
            nesting_depth: 2,
            ..CodeLimits::default()
        };
        let site = Some(Site {
            module: 1,
            function: 1,
        });
        assert_eq!(
            refusal(&component, &limits),
            (Limit::NestingDepth, site, 3, 2)
        );
        let message = limits.check(&component).unwrap_err().to_string();
        assert!(message.contains("core module 1"), "{message}");
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        let mut bytes = nested(3);
        let len = bytes.len();
        bytes.truncate(len - 3);
        assert!(matches!(
            CodeLimits::default().check(&bytes),
            Err(RejectReason::Invalid(_))
        ));
    }
}
