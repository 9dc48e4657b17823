//! The use cases, between the front ends (the HTTP API, the console, the CLI) and the
//! scheduler and store: what a request may do, checked against the domain's rules, and
//! what it returns, as typed results or a [`service::Error`](Error).
//!
//! Front ends decode their own wire formats and render the results; nothing here knows
//! about HTTP, JSON request bodies or AWS's error shapes. One file per family of use
//! cases: [`executions`] (and their [`history`]), [`machines`], [`tags`], [`modules`],
//! [`tenants`], [`data`], [`callbacks`], [`activities`], [`jobs`], [`dynamodb`], [`sqs`], [`sns`] (and its [`sns_delivery`] loop), [`s3`], [`roles`], [`bindings`] (resources played by modules), [`connections`] (HTTP Tasks' endpoints and credentials), [`routes`] (HTTP routes), [`events`] (event buses, and its [`event_delivery`] loop), [`schedules`], [`browse`] (the data from Sandstep's own API), [`samples`] (sample projects installed into a tenant). Every use case runs in a
//! `service.<name>` span with the tenant.

pub mod activities;
pub mod arns;
pub mod bindings;
pub mod browse;
pub mod callbacks;
pub mod connections;
pub mod data;
pub mod delivery_loop;
pub mod dynamodb;
pub mod error;
pub mod event_delivery;
pub mod events;
pub mod executions;
pub mod history;
pub mod jobs;
pub mod machines;
pub mod map_runs;
pub mod modules;
pub mod nested;
pub mod paging;
mod redrive;
pub mod roles;
pub mod routes;
pub mod s3;
pub mod samples;
pub mod schedules;
pub mod sns;
pub mod sns_delivery;
pub mod sqs;
pub mod tags;
pub mod tenants;
pub mod test_state;
pub mod versions;

pub use activities::Activities;
pub use bindings::Bindings;
pub use browse::Browse;
pub use callbacks::Callbacks;
pub use connections::Connections;
pub use data::Data;
pub use dynamodb::DynamoDb;
pub use error::{Error, Result};
pub use events::Events;
pub use executions::Executions;
pub use jobs::Jobs;
pub use machines::Machines;
pub use modules::{ModuleHost, Modules};
pub use paging::Page;
pub use roles::Roles;
pub use routes::Routes;
pub use s3::S3;
pub use samples::Samples;
pub use schedules::Schedules;
pub use sns::Sns;
pub use sqs::Sqs;
pub use tags::Tags;
pub use tenants::Tenants;

use crate::scheduler::Scheduler;
use crate::store::Store;
use std::sync::Arc;

/// Every family of use cases, over one store and scheduler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Services {
    /// Starting, stopping, describing and listing executions, and reading their history.
    pub executions: Executions,
    /// State machines.
    pub machines: Machines,
    /// The tags of state machines.
    pub tags: Tags,
    /// Uploaded modules.
    pub modules: Modules,
    /// Tenants and their credentials.
    pub tenants: Tenants,
    /// The tenant's key-value items, seeded and inspected from outside.
    pub data: Data,
    /// Answers to tasks that wait for their token.
    pub callbacks: Callbacks,
    /// Activities and the workers that poll them.
    pub activities: Activities,
    /// Batch job queues and jobs.
    pub jobs: Jobs,
    /// The tenants' DynamoDB tables.
    pub dynamodb: DynamoDb,
    /// The tenants' SQS queues.
    pub sqs: Sqs,
    /// The tenants' SNS topics.
    pub sns: Sns,
    /// The tenants' S3 buckets.
    pub s3: S3,
    /// The tenants' roles.
    pub roles: Roles,
    /// The tenants' resource bindings.
    pub bindings: Bindings,
    /// The tenants' connections (HTTP Tasks' endpoints and credentials).
    pub connections: Connections,
    /// The tenants' HTTP routes.
    pub routes: Routes,
    /// The tenants' event buses.
    pub events: Events,
    /// The tenants' schedules.
    pub schedules: Schedules,
    /// The tenants' data, for Sandstep's own API and console.
    pub browse: Browse,
    /// The sample projects, installed into a tenant.
    pub samples: Samples,
}

impl Services {
    /// The use cases of a server in `region`, with `host` registering uploaded modules.
    pub fn new(
        store: Store,
        scheduler: Scheduler,
        region: &str,
        host: Arc<dyn ModuleHost>,
        max_object_bytes: u64,
    ) -> Services {
        let tags = Tags::new(store.clone(), region);
        let bindings = Bindings::new(store.clone(), scheduler.clock());
        let machines = Machines::new(store.clone(), region, tags.clone(), scheduler.clock());
        let executions =
            Executions::new(store.clone(), scheduler.clone(), region, machines.clone());
        // Nested executions start through the same checks as StartExecution.
        scheduler.bind_children(Arc::new(executions.clone()));
        let dynamodb = DynamoDb::new(store.clone(), region, scheduler.clock());
        let sqs = Sqs::new(store.clone(), region, scheduler.clock());
        let sns = Sns::new(store.clone(), region, scheduler.clock());
        let events = Events::new(store.clone(), region, scheduler.clock());
        let s3 =
            S3::new(store.clone(), scheduler.clock(), max_object_bytes).notifying(events.clone());
        let browse = Browse::new(
            store.clone(),
            dynamodb.clone(),
            sqs.clone(),
            sns.clone(),
            s3.clone(),
        );
        let routes = Routes::new(store.clone(), executions.clone(), region);
        // Standard executions' status changes become events on their tenant's default bus.
        scheduler.bind_status(Arc::new(events.clone()));
        let schedules = Schedules::new(store.clone(), executions.clone(), events.clone(), region);
        let modules = Modules::new(store.clone(), region, host);
        let data = Data::new(store.clone());
        let samples = Samples::new(
            region,
            samples::Uses {
                machines: machines.clone(),
                modules: modules.clone(),
                dynamodb: dynamodb.clone(),
                sqs: sqs.clone(),
                sns: sns.clone(),
                events: events.clone(),
                s3: s3.clone(),
                data: data.clone(),
                schedules: schedules.clone(),
                routes: routes.clone(),
            },
        );
        Services {
            samples,
            routes,
            events,
            schedules,
            browse,
            callbacks: Callbacks::new(store.clone(), scheduler.clone()),
            jobs: Jobs::new(store.clone(), scheduler.clone()),
            activities: Activities::new(store.clone(), scheduler.clone(), region, tags.clone()),
            executions,
            machines,
            tags,
            modules,
            tenants: Tenants::new(store.clone()),
            dynamodb,
            sqs,
            sns,
            s3,
            roles: Roles::new(store.clone(), scheduler.clock()),
            bindings,
            connections: Connections::new(
                store.clone(),
                scheduler.clock(),
                scheduler.http_tasks().key().cloned(),
                region,
            ),
            data,
        }
    }
}
