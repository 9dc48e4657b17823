//! What both kinds of module share around a call: arming the store's fuel and epoch
//! callback, and reading why a call failed.

use super::limiter::{Limiter, Refusal};
use super::outcome::Ending;
use super::watch::Watch;
use std::time::Instant;
use wasmtime::{Store, Trap, UpdateDeadline};

/// Store data with a watch and a limiter.
pub(crate) trait Guarded: Send + 'static {
    fn watch(&mut self) -> &mut Watch;
    fn limiter(&mut self) -> &mut Limiter;
}

/// Installs the limiter, the fuel budget and the epoch callback that enforces the watch.
pub(crate) fn arm<T: Guarded>(store: &mut Store<T>, fuel: u64) -> wasmtime::Result<()> {
    store.limiter(|data| data.limiter());
    store.set_fuel(fuel)?;
    // Check at the next tick, and at every tick after.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(
        |mut ctx| match ctx.data_mut().watch().check(Instant::now()) {
            Some(why) => Err(wasmtime::Error::new(why)),
            None => Ok(UpdateDeadline::Continue(1)),
        },
    );
    Ok(())
}

/// Fuel used so far; `None` when the watch stopped the module, because fuel counted in a
/// running loop is not written back when the epoch callback interrupts it.
pub(crate) fn fuel_used<T: Guarded>(store: &mut Store<T>, budget: u64) -> Option<u64> {
    if store.data_mut().watch().fired.is_some() {
        return None;
    }
    store
        .get_fuel()
        .ok()
        .map(|left| budget.saturating_sub(left))
}

/// Why a call failed, in the order of certainty: the watch's own record, fuel, the trap.
pub(crate) fn failure(error: &wasmtime::Error, watch: &Watch, refused: Option<Refusal>) -> Ending {
    if let Some(why) = watch.fired {
        return Ending::Interrupted(why);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Ending::OutOfFuel,
        Some(Trap::StackOverflow) => Ending::Trapped {
            message: "call stack exhausted (stack overflow)".into(),
            refused,
        },
        Some(trap) => Ending::Trapped {
            message: trap
                .to_string()
                .trim_start_matches("wasm trap: ")
                .to_string(),
            refused,
        },
        None => Ending::Trapped {
            message: error.root_cause().to_string(),
            refused,
        },
    }
}
