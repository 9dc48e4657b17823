//! SNS on the tenant's topics. So far: subscription filter policies (the pure
//! `sandstep-sns` crate, re-exported); topics, subscriptions and the `sns:` integrations
//! build on it.

pub use sandstep_sns::filter;
