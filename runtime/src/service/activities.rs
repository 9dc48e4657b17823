//! Activities: CreateActivity, DescribeActivity, ListActivities, DeleteActivity, and
//! GetActivityTask, the long poll through which a worker takes the oldest task waiting
//! for an activity.
//!
//! A task is handed out only once its `ActivityStarted` is stored, and leaves its queue
//! only after that: a worker that disconnects while waiting loses nothing, and one that
//! disconnects in between at worst has the task handed out again (at least once, as on
//! AWS, where a task a worker lost times out on its heartbeat or timeout).

use super::tags::Tags;
use super::{arns, paging, Error, Page, Result};
use crate::arn;
use crate::scheduler::Scheduler;
use crate::store::activities::{Activity, QueuedTask};
use crate::store::{Activities as _, Store, TenantId};
use crate::tenants::Tenant;
use sandstep_engine::EventKind;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most activities a tenant may have (AWS's default quota).
pub const MAX_ACTIVITIES: usize = 10_000;
/// The most workers of one tenant that may wait in GetActivityTask at once.
pub const MAX_POLLERS: usize = 1_000;
/// How long GetActivityTask waits for a task, as on AWS.
pub const POLL: Duration = Duration::from_secs(60);
/// Queue rows read at a time while looking for one no other worker is taking.
const SCAN: usize = 64;

/// A task handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed {
    /// The token the worker answers with.
    pub token: String,
    /// The task's input, as JSON text.
    pub input: String,
}

/// The activities of every tenant, and the workers polling them.
#[derive(Debug, Clone)]
pub struct Activities {
    store: Store,
    scheduler: Scheduler,
    region: String,
    tags: Tags,
    poll: Duration,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Queue rows a worker is taking right now: no other worker gets them meanwhile.
    taking: Mutex<HashSet<Vec<u8>>>,
    /// Workers waiting per tenant.
    pollers: Mutex<HashMap<TenantId, usize>>,
    /// Set when the server shuts down: waiting workers get an empty answer at once.
    closing: tokio::sync::watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes a queue row from the rows being taken when the taking ends, however it ends.
struct Taking<'a>(&'a Shared, Vec<u8>);

impl Drop for Taking<'_> {
    fn drop(&mut self) {
        lock(&self.0.taking).remove(&self.1);
    }
}

/// Counts a waiting worker of a tenant while it waits.
struct Polling<'a>(&'a Shared, TenantId);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let mut pollers = lock(&self.0.pollers);
        if let Some(n) = pollers.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                pollers.remove(&self.1);
            }
        }
    }
}

impl Activities {
    /// The activities in `store`, in `region`, whose tasks `scheduler` runs.
    pub fn new(store: Store, scheduler: Scheduler, region: &str, tags: Tags) -> Activities {
        Activities {
            store,
            scheduler,
            region: region.to_string(),
            tags,
            poll: POLL,
            shared: Arc::new(Shared {
                taking: Mutex::new(HashSet::new()),
                pollers: Mutex::new(HashMap::new()),
                closing: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    /// The same, with GetActivityTask waiting `poll` instead of 60 s.
    pub fn with_poll(self, poll: Duration) -> Activities {
        Activities { poll, ..self }
    }

    /// The server is shutting down: workers waiting now, and any that come later, get
    /// an empty answer at once.
    pub fn close(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Creates an activity, or returns the one of that name (CreateActivity is
    /// idempotent by name).
    ///
    /// # Errors
    /// [`Error::InvalidName`], the tag errors, [`Error::ActivityLimitExceeded`], store
    /// failures.
    #[tracing::instrument(level = "debug", name = "service.create_activity", skip_all,
        fields(tenant = %tenant.id))]
    pub fn create(
        &self,
        tenant: &Tenant,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<Activity> {
        if !arn::valid_name(name) {
            return Err(Error::InvalidName(name.to_string()));
        }
        super::tags::check(tags)?;
        if let Some(existing) = self.store.activity_get(&tenant.id, name)? {
            return Ok(existing);
        }
        let count = self
            .store
            .activity_list(&tenant.id, None, MAX_ACTIVITIES)?
            .len();
        if count >= MAX_ACTIVITIES {
            return Err(Error::ActivityLimitExceeded(format!(
                "The maximum number of activities ({MAX_ACTIVITIES}) has been reached. \
                 Existing activities must be deleted before a new activity can be created."
            )));
        }
        let activity = Activity {
            name: name.to_string(),
            arn: arn::activity(&self.region, &tenant.account, name),
            created: self.scheduler.now(),
        };
        if !self.store.activity_create(&tenant.id, &activity)? {
            // Created meanwhile by another call: that one is the activity.
            return self
                .store
                .activity_get(&tenant.id, name)?
                .ok_or_else(|| Error::ActivityDoesNotExist(activity.arn.clone()));
        }
        if !tags.is_empty() {
            self.tags.change(tenant, &activity.arn, tags, &[])?;
        }
        Ok(activity)
    }

    /// The activity `arn` names.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::ActivityDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.describe_activity", skip_all,
        fields(tenant = %tenant.id))]
    pub fn describe(&self, tenant: &Tenant, arn: &str) -> Result<Activity> {
        let name = arns::activity_name(&self.region, tenant, arn)?;
        self.store
            .activity_get(&tenant.id, &name)?
            .ok_or_else(|| Error::ActivityDoesNotExist(arn.to_string()))
    }

    /// A page of the tenant's activities, in name order.
    ///
    /// # Errors
    /// [`Error::InvalidToken`], store failures.
    #[tracing::instrument(level = "debug", name = "service.list_activities", skip_all,
        fields(tenant = %tenant.id))]
    pub fn list(
        &self,
        tenant: &Tenant,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<Activity>> {
        let after = next_token.map(paging::decode_token).transpose()?;
        let mut items = self
            .store
            .activity_list(&tenant.id, after.as_deref(), limit + 1)?;
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|a| paging::encode_token(&a.name))
        } else {
            None
        };
        Ok(Page { items, next_token })
    }

    /// Deletes an activity, its queue and its tags; deleting one that does not exist
    /// succeeds. Tasks already scheduled for it wait until their timeout.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_activity", skip_all,
        fields(tenant = %tenant.id))]
    pub fn delete(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        let name = match arns::activity_name(&self.region, tenant, arn) {
            Ok(name) => name,
            Err(Error::ActivityDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(activity) = self.store.activity_get(&tenant.id, &name)? {
            self.store.activity_delete(&tenant.id, &name)?;
            self.tags.forget(tenant, &activity.arn)?;
        }
        Ok(())
    }

    /// Waits up to the poll time for a task of the activity `arn` names and hands the
    /// oldest to the worker; `None` when none came in time.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::ActivityDoesNotExist`],
    /// [`Error::ActivityWorkerLimitExceeded`], store failures.
    #[tracing::instrument(level = "debug", name = "service.get_activity_task", skip_all,
        fields(tenant = %tenant.id))]
    pub async fn next_task(
        &self,
        tenant: &Tenant,
        arn: &str,
        worker: Option<&str>,
    ) -> Result<Option<Handed>> {
        let activity = self.describe(tenant, arn)?;
        let _polling = self.polling(&tenant.id)?;
        let deadline = tokio::time::Instant::now() + self.poll;
        let bell = self.scheduler.doorbells().bell(&tenant.id, &activity.name);
        let mut closing = self.shared.closing.subscribe();
        loop {
            let rung = bell.notify().notified();
            tokio::pin!(rung);
            rung.as_mut().enable();
            // Its tenant was given to another server: the worker's next poll goes there.
            if !self.scheduler.runs(&tenant.id) {
                return Ok(None);
            }
            if let Some(handed) = self.take(&tenant.id, &activity.name, worker).await? {
                return Ok(Some(handed));
            }
            if *closing.borrow_and_update() {
                return Ok(None);
            }
            tokio::select! {
                () = &mut rung => {}
                () = tokio::time::sleep_until(deadline) => return Ok(None),
                _ = closing.changed() => return Ok(None),
            }
        }
    }

    fn polling(&self, tenant: &TenantId) -> Result<Polling<'_>> {
        let mut pollers = lock(&self.shared.pollers);
        let n = pollers.entry(tenant.clone()).or_default();
        if *n >= MAX_POLLERS {
            return Err(Error::ActivityWorkerLimitExceeded(format!(
                "The maximum number of workers concurrently polling for activity tasks \
                 ({MAX_POLLERS}) has been reached."
            )));
        }
        *n += 1;
        Ok(Polling(&self.shared, tenant.clone()))
    }

    /// Takes the oldest task of the queue that still waits: its `ActivityStarted` is
    /// stored first, then it leaves the queue. Tasks that no longer wait (timed out,
    /// their execution stopped) leave the queue on the way.
    async fn take(
        &self,
        tenant: &TenantId,
        activity: &str,
        worker: Option<&str>,
    ) -> Result<Option<Handed>> {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .store
                .activity_tasks(tenant, activity, after.as_deref(), SCAN)?;
            let Some(last) = rows.last() else {
                return Ok(None);
            };
            after = Some(last.position.clone());
            for row in rows {
                let Some(_taking) = self.claim(&row) else {
                    continue; // another worker is taking it
                };
                let started = EventKind::TaskStarted {
                    task: row.task,
                    worker: worker.map(str::to_string),
                };
                let waits = self.scheduler.answer(&row.execution, started).await?;
                self.store.activity_task_taken(&row)?;
                if waits {
                    return Ok(Some(Handed {
                        token: row.token,
                        input: row.input,
                    }));
                }
            }
        }
    }

    fn claim(&self, row: &QueuedTask) -> Option<Taking<'_>> {
        let fresh = lock(&self.shared.taking).insert(row.position.clone());
        fresh.then(|| Taking(&self.shared, row.position.clone()))
    }
}
