//! Schedules of a tenant (the EventBridge Scheduler role, and the schedules of rules with
//! a `ScheduleExpression`), with an index of when each fires next.
//!
//! A schedule and its place in the index are written in one batch, so the firing loop finds
//! every enabled schedule at its next fire time, also after a crash.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Reader, Table};
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};

/// The group of schedules that name none.
pub const DEFAULT_GROUP: &str = "default";
/// The group holding rules' schedules (hidden from Scheduler's listings).
pub const RULES_GROUP: &str = "aws.events.rules";

/// What happens to a fire that was due while the server was down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Missed {
    /// It runs once on recovery (however many were missed), then the schedule goes on.
    #[default]
    FireOnce,
    /// Missed fires are skipped; the schedule goes on from now.
    Skip,
}

/// What a fire does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Action {
    /// Starts a state machine with this input (JSON text).
    #[serde(rename_all = "camelCase")]
    StartExecution {
        /// The state machine's ARN.
        arn: String,
        /// The input.
        input: String,
        /// The role given (kept, shown back).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role_arn: Option<String>,
    },
    /// Puts a `Scheduled Event` for a rule's targets.
    #[serde(rename_all = "camelCase")]
    Rule {
        /// The rule's bus.
        bus: String,
        /// The rule.
        rule: String,
    },
}

/// A schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDef {
    /// Its name, unique in its group.
    pub name: String,
    /// Its group.
    pub group: String,
    /// `rate(...)`, `cron(...)` or `at(...)`.
    pub expression: String,
    /// The IANA zone its cron and at times are in.
    pub timezone: String,
    /// Nothing fires before it; a rate counts from it (epoch ms).
    pub start: Millis,
    /// Nothing fires after it (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Millis>,
    /// Whether it fires.
    pub enabled: bool,
    /// What a fire does.
    pub action: Action,
    /// What happens to fires missed while the server was down.
    #[serde(default)]
    pub missed: Missed,
    /// A one-time schedule is deleted after it fired.
    #[serde(default)]
    pub delete_after: bool,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it fires next (epoch ms); none when it never will.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Millis>,
    /// When it last fired (the fire time, epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Millis>,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// When it was last changed (epoch ms).
    pub modified: Millis,
}

/// A schedule due to fire: who owns it and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its group.
    pub group: String,
    /// Its name.
    pub name: String,
    /// When it is due (epoch ms).
    pub at: Millis,
}

/// Schedules and when they fire.
///
/// # Contract
/// `schedule_put` replaces the record and its place in the due index in one batch.
pub trait Schedules: Send + Sync {
    /// Creates or replaces a schedule (and its place in the due index).
    ///
    /// # Errors
    /// When the store fails.
    fn schedule_put(&self, tenant: &TenantId, schedule: &ScheduleDef) -> Result<()>;
    /// A schedule.
    ///
    /// # Errors
    /// When the store fails.
    fn schedule_get(
        &self,
        tenant: &TenantId,
        group: &str,
        name: &str,
    ) -> Result<Option<ScheduleDef>>;
    /// The tenant's schedules of `group` (of every group when `None`), by group and name.
    ///
    /// # Errors
    /// When the store fails.
    fn schedule_list(&self, tenant: &TenantId, group: Option<&str>) -> Result<Vec<ScheduleDef>>;
    /// Deletes a schedule; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn schedule_delete(&self, tenant: &TenantId, group: &str, name: &str) -> Result<bool>;
    /// Schedules due at `now`, earliest first, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn schedules_due(&self, now: Millis, limit: usize) -> Result<Vec<Due>> {
        self.schedules_due_of(now, limit, &|_| true)
    }
    /// [`schedules_due`](Self::schedules_due) of the tenants `wanted` picks (a server
    /// sharing the store fires its own tenants' only): `limit` counts those alone, so a
    /// backlog of other tenants' never hides them.
    ///
    /// # Errors
    /// When the store fails.
    fn schedules_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Due>>;
    /// How many schedules are armed (have a next fire), of every tenant.
    ///
    /// # Errors
    /// When the store fails.
    fn schedules_armed(&self) -> Result<usize>;
}

fn schedule_key(tenant: &TenantId, group: &str, name: &str) -> Vec<u8> {
    Key::of(Table::Schedule, tenant)
        .text(group)
        .text(name)
        .into_bytes()
}

fn due_key(at: Millis, tenant: &TenantId, group: &str, name: &str) -> Vec<u8> {
    Key::table(Table::ScheduleDue)
        .time(at)
        .text(&tenant.0)
        .text(group)
        .text(name)
        .into_bytes()
}

impl Schedules for Store {
    fn schedule_put(&self, tenant: &TenantId, schedule: &ScheduleDef) -> Result<()> {
        let key = schedule_key(tenant, &schedule.group, &schedule.name);
        let mut writes = Vec::with_capacity(3);
        if let Some(old) = self.backend().get(&key)? {
            let old: ScheduleDef = decode(&old)?;
            if let Some(at) = old.next {
                writes.push(Write::Delete(due_key(at, tenant, &old.group, &old.name)));
            }
        }
        if let (Some(at), true) = (schedule.next, schedule.enabled) {
            writes.push(Write::Put(
                due_key(at, tenant, &schedule.group, &schedule.name),
                Vec::new(),
            ));
        }
        writes.push(Write::Put(key, encode(schedule)?));
        self.backend().apply(writes)
    }

    fn schedule_get(
        &self,
        tenant: &TenantId,
        group: &str,
        name: &str,
    ) -> Result<Option<ScheduleDef>> {
        self.backend()
            .get(&schedule_key(tenant, group, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn schedule_list(&self, tenant: &TenantId, group: Option<&str>) -> Result<Vec<ScheduleDef>> {
        let prefix = match group {
            Some(g) => Key::of(Table::Schedule, tenant).text(g).into_bytes(),
            None => Key::of(Table::Schedule, tenant).into_bytes(),
        };
        self.records(&prefix, None, usize::MAX)
    }

    fn schedule_delete(&self, tenant: &TenantId, group: &str, name: &str) -> Result<bool> {
        let key = schedule_key(tenant, group, name);
        let Some(old) = self.backend().get(&key)? else {
            return Ok(false);
        };
        let old: ScheduleDef = decode(&old)?;
        let mut writes = vec![Write::Delete(key)];
        if let Some(at) = old.next {
            writes.push(Write::Delete(due_key(at, tenant, group, name)));
        }
        self.backend().apply(writes)?;
        Ok(true)
    }

    fn schedules_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Due>> {
        let prefix = Key::table(Table::ScheduleDue).into_bytes();
        let mut due = Vec::new();
        // In due order: the first not yet due ends the reading.
        self.backend().scan_while(&prefix, 256, &mut |key, _| {
            let mut r = Reader::new(&key);
            let at = r.time().ok_or_else(corrupt)?;
            if at > now || due.len() >= limit {
                return Ok(false);
            }
            let (Some(tenant), Some(group), Some(name)) = (r.text(), r.text(), r.text()) else {
                return Err(corrupt());
            };
            let tenant = TenantId(tenant);
            if wanted(&tenant) {
                due.push(Due {
                    tenant,
                    group,
                    name,
                    at,
                });
            }
            Ok(true)
        })?;
        Ok(due)
    }

    fn schedules_armed(&self) -> Result<usize> {
        let prefix = Key::table(Table::ScheduleDue).into_bytes();
        Ok(self.backend().scan(&prefix, None, usize::MAX)?.len())
    }
}

fn corrupt() -> super::Error {
    super::Error::Corrupt("a schedule's due key does not read back".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(name: &str, next: Option<Millis>) -> ScheduleDef {
        ScheduleDef {
            name: name.into(),
            group: DEFAULT_GROUP.into(),
            expression: "rate(1 minute)".into(),
            timezone: "UTC".into(),
            start: 0,
            end: None,
            enabled: true,
            action: Action::StartExecution {
                arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
                input: "{}".into(),
                role_arn: None,
            },
            missed: Missed::FireOnce,
            delete_after: false,
            description: None,
            next,
            last: None,
            created: 0,
            modified: 0,
        }
    }

    #[test]
    fn the_due_index_follows_each_schedule() {
        for s in crate::store::testing::stores() {
            let t = TenantId("t".into());
            s.schedule_put(&t, &schedule("b", Some(200))).unwrap();
            s.schedule_put(&t, &schedule("a", Some(100))).unwrap();
            s.schedule_put(&t, &schedule("never", None)).unwrap();
            let due: Vec<(String, Millis)> = s
                .schedules_due(150, 10)
                .unwrap()
                .into_iter()
                .map(|d| (d.name, d.at))
                .collect();
            assert_eq!(due, [("a".to_string(), 100)]);
            // Moving a schedule moves its index entry; disabling takes it out.
            s.schedule_put(&t, &schedule("a", Some(300))).unwrap();
            let names: Vec<String> = s
                .schedules_due(1000, 10)
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .collect();
            assert_eq!(names, ["b", "a"]);
            s.schedule_put(
                &t,
                &ScheduleDef {
                    enabled: false,
                    ..schedule("b", Some(200))
                },
            )
            .unwrap();
            assert_eq!(s.schedules_armed().unwrap(), 1);
            assert!(s.schedule_delete(&t, DEFAULT_GROUP, "a").unwrap());
            assert!(s.schedules_due(1000, 10).unwrap().is_empty());
            assert_eq!(s.schedule_list(&t, None).unwrap().len(), 2);
            assert!(s
                .schedule_list(&TenantId("other".into()), None)
                .unwrap()
                .is_empty());
        }
    }
}
