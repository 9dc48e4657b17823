//! EventBridge's shapes over the store's `EventBuses`: the events Sandstep puts on a bus
//! ([`envelope`]: a `PutEvents` entry, and Step Functions' own status-change events) and
//! the input a rule's target receives ([`transform`]: `Input`, `InputPath`,
//! `InputTransformer`). The use cases are `service::events`; matching is
//! `sandstep_events::pattern`.

pub mod bus;
pub mod envelope;
pub mod transform;
