//! The per-invocation resource limiter: memory, tables and instances, remembering what it
//! refused so the failure can name the limit instead of the guest's bare abort.

use wasmtime::ResourceLimiter;

/// A refused growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A linear memory would have grown past the cap.
    Memory { desired: usize, limit: usize },
    /// A table would have grown past the cap.
    Table { desired: usize, limit: usize },
}

#[derive(Debug)]
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    pub(crate) refused: Option<Refusal>,
}

impl Limiter {
    pub(crate) fn new(memory_bytes: usize, table_elements: usize, instances: usize) -> Limiter {
        Limiter {
            memory_bytes,
            table_elements,
            instances,
            refused: None,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.refused = Some(Refusal::Memory {
                desired,
                limit: self.memory_bytes,
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.refused = Some(Refusal::Table {
                desired,
                limit: self.table_elements,
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        self.instances
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Memory { desired, limit } => write!(
                f,
                "memory limit of {} reached: a grow to {} was refused",
                bytes(*limit),
                bytes(*desired)
            ),
            Refusal::Table { desired, limit } => write!(
                f,
                "table limit of {limit} elements reached: a grow to {desired} was refused"
            ),
        }
    }
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n & ((1 << 20) - 1) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n & ((1 << 10) - 1) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_cap_and_remembers() {
        let mut l = Limiter::new(1 << 20, 10, 4);
        assert!(l.memory_growing(0, 1 << 20, None).unwrap());
        assert_eq!(l.refused, None);
        assert!(!l.memory_growing(1 << 20, 2 << 20, None).unwrap());
        assert_eq!(
            l.refused.unwrap().to_string(),
            "memory limit of 1 MiB reached: a grow to 2 MiB was refused"
        );
        assert!(!l.table_growing(0, 11, None).unwrap());
        assert_eq!(bytes(100), "100 bytes");
        assert_eq!(bytes(512 << 10), "512 KiB");
    }
}
