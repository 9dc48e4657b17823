//! Activities and their queues of tasks waiting for a worker. A queued task's row is
//! written with the step that schedules it (in the same atomic batch), so a task queued
//! before a crash is still there after the restart; a worker takes the oldest first.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use crate::model::ExecutionKey;
use sandstep_engine::{Millis, TaskId, TaskRequest};
use serde::{Deserialize, Serialize};

/// An activity: a name workers poll for tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Its name, unique in the tenant.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// When it was created (epoch ms).
    pub created: Millis,
}

/// A task waiting in an activity's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTask {
    /// Where it is in the queue (opaque; for [`Activities::activity_task_taken`]).
    pub position: Vec<u8>,
    /// Its execution.
    pub execution: ExecutionKey,
    /// The task.
    pub task: TaskId,
    /// The token a worker answers it with.
    pub token: String,
    /// Its input, as JSON text.
    pub input: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Row {
    execution: ExecutionKey,
    task: TaskId,
    token: String,
    input: String,
}

/// The activities table and their task queues.
///
/// # Contract
/// A queued task's row exists from the commit of the step that scheduled it until a
/// worker took it or the activity was deleted; whether the task still waits is its
/// execution's to say.
pub trait Activities: Send + Sync {
    /// Creates an activity unless one has its name; returns whether it did.
    ///
    /// # Errors
    /// When the store fails.
    fn activity_create(&self, tenant: &TenantId, activity: &Activity) -> Result<bool>;

    /// An activity.
    ///
    /// # Errors
    /// When the store fails.
    fn activity_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Activity>>;

    /// Activities in name order, after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn activity_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Activity>>;

    /// Deletes an activity and the tasks in its queue.
    ///
    /// # Errors
    /// When the store fails; then nothing changed.
    fn activity_delete(&self, tenant: &TenantId, name: &str) -> Result<()>;

    /// Tasks in an activity's queue, oldest first, after `after` (a position), at most
    /// `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn activity_tasks(
        &self,
        tenant: &TenantId,
        name: &str,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<QueuedTask>>;

    /// Removes a task from its queue: a worker took it, or it no longer waits.
    ///
    /// # Errors
    /// When the store fails.
    fn activity_task_taken(&self, task: &QueuedTask) -> Result<()>;
}

fn activity_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::Activity, tenant).text(name).into_bytes()
}

fn queue(tenant: &TenantId, name: &str) -> Key {
    Key::of(Table::ActivityTask, tenant).text(name)
}

impl Activities for Store {
    fn activity_create(&self, tenant: &TenantId, activity: &Activity) -> Result<bool> {
        let key = activity_key(tenant, &activity.name);
        let created = self
            .backend
            .compare_and_swap(&key, None, Some(encode(activity)?))?;
        self.backend.durable()?;
        Ok(created)
    }

    fn activity_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Activity>> {
        self.backend
            .get(&activity_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn activity_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let prefix = Key::of(Table::Activity, tenant).into_bytes();
        let after = after.map(|a| activity_key(tenant, a));
        self.backend
            .scan(&prefix, after.as_deref(), limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn activity_delete(&self, tenant: &TenantId, name: &str) -> Result<()> {
        let mut writes = vec![Write::Delete(activity_key(tenant, name))];
        let prefix = queue(tenant, name).into_bytes();
        for (k, _) in self.backend.scan(&prefix, None, usize::MAX)? {
            writes.push(Write::Delete(k));
        }
        self.backend.apply(writes)?;
        self.backend.durable()
    }

    fn activity_tasks(
        &self,
        tenant: &TenantId,
        name: &str,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<QueuedTask>> {
        let prefix = queue(tenant, name).into_bytes();
        self.backend
            .scan(&prefix, after, limit)?
            .into_iter()
            .map(|(position, v)| {
                let row: Row = decode(&v)?;
                Ok(QueuedTask {
                    position,
                    execution: row.execution,
                    task: row.task,
                    token: row.token,
                    input: row.input,
                })
            })
            .collect()
    }

    fn activity_task_taken(&self, task: &QueuedTask) -> Result<()> {
        self.backend
            .apply(vec![Write::Delete(task.position.clone())])?;
        self.backend.durable()
    }
}

/// The queue row of an activity task scheduled at `at`, written with the step that
/// schedules it; none for a task that is not an activity's.
pub(super) fn queue_writes(
    execution: &ExecutionKey,
    task: &TaskRequest,
    at: Millis,
) -> Result<Vec<Write>> {
    let (Some(activity), Some(token)) = (task.activity(), &task.task_token) else {
        return Ok(Vec::new());
    };
    let row = Row {
        execution: execution.clone(),
        task: task.id,
        token: token.clone(),
        input: task.input.to_string(),
    };
    let key = queue(&execution.tenant, activity.name)
        .time(at)
        .text(&execution.machine)
        .text(&execution.name)
        .number(task.id.0)
        .into_bytes();
    Ok(vec![Write::Put(key, encode(&row)?)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(id: u64, activity: &str) -> TaskRequest {
        TaskRequest {
            id: TaskId(id),
            resource: format!("arn:aws:states:us-east-1:000000000000:activity:{activity}"),
            input: json!({"n": id}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "Work".into(),
            task_token: Some(format!("{id:032x}")),
        }
    }

    #[test]
    fn queues_are_per_tenant_and_activity_and_oldest_first() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let exec = |t: &TenantId, name: &str| ExecutionKey {
                tenant: t.clone(),
                machine: "m".into(),
                name: name.into(),
            };
            let mut writes = queue_writes(&exec(&a, "late"), &task(1, "work"), 2_000).unwrap();
            writes.extend(queue_writes(&exec(&a, "early"), &task(2, "work"), 1_000).unwrap());
            writes.extend(queue_writes(&exec(&a, "other"), &task(3, "other"), 500).unwrap());
            writes.extend(queue_writes(&exec(&b, "theirs"), &task(4, "work"), 100).unwrap());
            s.backend.apply(writes).unwrap();

            let queued = s.activity_tasks(&a, "work", None, 10).unwrap();
            let names: Vec<&str> = queued.iter().map(|q| q.execution.name.as_str()).collect();
            assert_eq!(names, ["early", "late"]);
            assert_eq!(queued[0].input, r#"{"n":2}"#);
            assert_eq!(queued[0].token, format!("{:032x}", 2));
            let next = s
                .activity_tasks(&a, "work", Some(&queued[0].position), 10)
                .unwrap();
            assert_eq!(next.len(), 1);

            s.activity_task_taken(&queued[0]).unwrap();
            assert_eq!(s.activity_tasks(&a, "work", None, 10).unwrap().len(), 1);
            s.activity_delete(&a, "work").unwrap();
            assert!(s.activity_tasks(&a, "work", None, 10).unwrap().is_empty());
            assert_eq!(s.activity_tasks(&a, "other", None, 10).unwrap().len(), 1);
            assert_eq!(s.activity_tasks(&b, "work", None, 10).unwrap().len(), 1);
        }
    }

    #[test]
    fn names_are_unique_per_tenant() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let act = Activity {
                name: "work".into(),
                arn: "arn:aws:states:us-east-1:000000000000:activity:work".into(),
                created: 1,
            };
            assert!(s.activity_create(&a, &act).unwrap());
            assert!(!s.activity_create(&a, &act).unwrap());
            assert!(s.activity_create(&b, &act).unwrap());
            assert_eq!(s.activity_get(&a, "work").unwrap(), Some(act.clone()));
            assert_eq!(s.activity_list(&a, None, 10).unwrap(), [act]);
            assert!(s.activity_list(&a, Some("work"), 10).unwrap().is_empty());
        }
    }
}
