//! Event buses of a tenant (the EventBridge role): buses, their rules with their targets,
//! the deliveries an accepted event leaves for each target its rules matched, and the
//! dead letters of deliveries given up.
//!
//! A `PutEvents` is answered only once its deliveries are written (durably), so an accepted
//! event survives a crash and is delivered after the restart; a delivery stays until its
//! target took it (at least once), re-timed after each failed attempt.

use super::backend::{Guard, Write};
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::tables::EffectOf;
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The bus every tenant has.
pub const DEFAULT_BUS: &str = "default";

/// A bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bus {
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// Bumped by every change to its rules: a process that caches compiled rules reads it
    /// to know its cache is current.
    #[serde(default)]
    pub rules_version: u64,
}

/// How a target receives the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputTransformer {
    /// Names for JSONPaths into the event.
    #[serde(default)]
    pub input_paths_map: BTreeMap<String, String>,
    /// The template the names fill.
    pub input_template: String,
}

/// How long a target's delivery is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts after the first (EventBridge: 185 by default, 0 to 185).
    pub maximum_retry_attempts: u32,
    /// The oldest an event may be and still be tried, in seconds (EventBridge: 24 hours by
    /// default, 60 to 86,400).
    pub maximum_event_age_in_seconds: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            maximum_retry_attempts: 185,
            maximum_event_age_in_seconds: 86_400,
        }
    }
}

/// A rule's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Its id, unique in the rule.
    pub id: String,
    /// What it starts (a state machine's ARN).
    pub arn: String,
    /// A fixed input (JSON text) instead of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The part of the event to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    /// A template filled from the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    /// The role given (kept, shown back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// How long a delivery is tried.
    #[serde(default)]
    pub retry_policy: RetryPolicy,
}

/// A rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Its name, unique on its bus.
    pub name: String,
    /// Its bus.
    pub bus: String,
    /// The events it takes (an event pattern, JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    /// When it fires on its own (`rate(...)`, `cron(...)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    /// Whether it takes events.
    pub enabled: bool,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The role given (kept, shown back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Its targets.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// When it was created (epoch ms).
    pub created: Millis,
}

/// An event on its way to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Its id: the event's and the target's, so a repeated delivery is recognised.
    pub id: String,
    /// The tenant.
    pub tenant: TenantId,
    /// The bus.
    pub bus: String,
    /// The rule that matched.
    pub rule: String,
    /// The target, as it was when the event was accepted.
    pub target: Target,
    /// The event (JSON text).
    pub event: String,
    /// When the event was accepted (epoch ms).
    pub accepted: Millis,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (epoch ms).
    pub due: Millis,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A delivery and the key it is stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its key.
    pub key: Vec<u8>,
    /// The delivery.
    pub delivery: Delivery,
}

/// A delivery given up, kept for the API, the CLI and the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The delivery.
    pub delivery: Delivery,
    /// When it was given up (epoch ms).
    pub failed: Millis,
}

/// Buses, rules, deliveries and dead letters.
///
/// # Contract
/// `deliveries_accept` writes all of an event batch's deliveries in one atomic batch; a
/// delivery is gone only once `delivery_done` or `delivery_dead` removed it.
pub trait EventBuses: Send + Sync {
    /// Creates a bus; `false` when one of that name exists.
    ///
    /// # Errors
    /// When the store fails.
    fn bus_create(&self, tenant: &TenantId, bus: &Bus) -> Result<bool>;
    /// A bus (the default bus has a record once a rule was put on it).
    ///
    /// # Errors
    /// When the store fails.
    fn bus_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Bus>>;
    /// The tenant's buses with a record, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn bus_list(&self, tenant: &TenantId) -> Result<Vec<Bus>>;
    /// Deletes a bus, its rules and its dead letters; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn bus_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
    /// Creates or replaces a rule, bumping its bus's `rules_version` in the same batch (a
    /// bus without a record, the default one, gets one).
    ///
    /// # Errors
    /// When the store fails.
    fn rule_put(&self, tenant: &TenantId, rule: &Rule, now: Millis) -> Result<()>;
    /// A rule.
    ///
    /// # Errors
    /// When the store fails.
    fn rule_get(&self, tenant: &TenantId, bus: &str, name: &str) -> Result<Option<Rule>>;
    /// The rules of a bus, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn rule_list(&self, tenant: &TenantId, bus: &str) -> Result<Vec<Rule>>;
    /// Deletes a rule; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn rule_delete(&self, tenant: &TenantId, bus: &str, name: &str, now: Millis) -> Result<bool>;
    /// Writes deliveries, in one batch with the answer of the workflow task that put the
    /// events, if one did (so that a task run again after a crash finds its answer).
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_accept(
        &self,
        deliveries: &[Delivery],
        effect: Option<(&EffectOf, String)>,
    ) -> Result<()>;
    /// Deliveries due at `now`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_due(&self, now: Millis, limit: usize) -> Result<Vec<Pending>> {
        self.deliveries_due_of(now, limit, &|_| true)
    }
    /// [`deliveries_due`](Self::deliveries_due) of the tenants `wanted` picks (a server
    /// sharing the store delivers its own tenants' only): `limit` counts those alone, so
    /// a backlog of other tenants' never hides them.
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Pending>>;
    /// Every delivery not yet made, of every tenant (for the console and the tests).
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_waiting(&self, tenant: &TenantId, bus: &str) -> Result<Vec<Delivery>>;
    /// Removes a delivery that arrived.
    ///
    /// # Errors
    /// When the store fails.
    fn delivery_done(&self, key: &[u8], tenant: &TenantId) -> Result<()>;
    /// Re-times a delivery after a failed attempt.
    ///
    /// # Errors
    /// When the store fails.
    fn delivery_retry(&self, key: &[u8], next: &Delivery) -> Result<()>;
    /// Moves a delivery to its bus's dead letters, in one batch.
    ///
    /// # Errors
    /// When the store fails.
    fn delivery_dead(&self, key: &[u8], dead: &DeadLetter) -> Result<()>;
    /// A bus's dead letters, oldest first, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn dead_letters(&self, tenant: &TenantId, bus: &str, limit: usize) -> Result<Vec<DeadLetter>>;
}

/// How many rows a reading of due deliveries takes at a time.
const PAGE: usize = 256;

fn bus_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::EventBus, tenant).text(name).into_bytes()
}

fn rule_key(tenant: &TenantId, bus: &str, name: &str) -> Vec<u8> {
    Key::of(Table::EventRule, tenant)
        .text(bus)
        .text(name)
        .into_bytes()
}

fn delivery_key(d: &Delivery) -> Vec<u8> {
    Key::table(Table::EventDelivery)
        .time(d.due)
        .text(&d.id)
        .into_bytes()
}

fn dead_key(tenant: &TenantId, bus: &str, failed: Millis, id: &str) -> Vec<u8> {
    Key::of(Table::EventDeadLetter, tenant)
        .text(bus)
        .time(failed)
        .text(id)
        .into_bytes()
}

impl Store {
    /// The writes that bump `bus`'s rules version (creating the default bus's record).
    fn bus_bumped(&self, tenant: &TenantId, bus: &str, now: Millis) -> Result<Write> {
        let mut record = self.bus_get(tenant, bus)?.unwrap_or(Bus {
            name: bus.to_string(),
            description: None,
            created: now,
            rules_version: 0,
        });
        record.rules_version += 1;
        Ok(Write::Put(bus_key(tenant, bus), encode(&record)?))
    }
}

impl EventBuses for Store {
    fn bus_create(&self, tenant: &TenantId, bus: &Bus) -> Result<bool> {
        let key = bus_key(tenant, &bus.name);
        if self.backend().get(&key)?.is_some() {
            return Ok(false);
        }
        self.backend().apply(vec![Write::Put(key, encode(bus)?)])?;
        Ok(true)
    }

    fn bus_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Bus>> {
        self.backend()
            .get(&bus_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn bus_list(&self, tenant: &TenantId) -> Result<Vec<Bus>> {
        let prefix = Key::of(Table::EventBus, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn bus_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = bus_key(tenant, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        let mut writes = Vec::new();
        for prefix in [
            Key::of(Table::EventRule, tenant).text(name).into_bytes(),
            Key::of(Table::EventDeadLetter, tenant)
                .text(name)
                .into_bytes(),
        ] {
            for (k, _) in self.backend().scan(&prefix, None, usize::MAX)? {
                writes.push(Write::Delete(k));
            }
        }
        writes.push(Write::Delete(key));
        self.backend().apply(writes)?;
        Ok(true)
    }

    fn rule_put(&self, tenant: &TenantId, rule: &Rule, now: Millis) -> Result<()> {
        let bumped = self.bus_bumped(tenant, &rule.bus, now)?;
        self.backend().apply(vec![
            Write::Put(rule_key(tenant, &rule.bus, &rule.name), encode(rule)?),
            bumped,
        ])
    }

    fn rule_get(&self, tenant: &TenantId, bus: &str, name: &str) -> Result<Option<Rule>> {
        self.backend()
            .get(&rule_key(tenant, bus, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn rule_list(&self, tenant: &TenantId, bus: &str) -> Result<Vec<Rule>> {
        let prefix = Key::of(Table::EventRule, tenant).text(bus).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn rule_delete(&self, tenant: &TenantId, bus: &str, name: &str, now: Millis) -> Result<bool> {
        let key = rule_key(tenant, bus, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        let bumped = self.bus_bumped(tenant, bus, now)?;
        self.backend().apply(vec![Write::Delete(key), bumped])?;
        Ok(true)
    }

    fn deliveries_accept(
        &self,
        deliveries: &[Delivery],
        effect: Option<(&EffectOf, String)>,
    ) -> Result<()> {
        let mut writes = deliveries
            .iter()
            .map(|d| Ok(Write::Put(delivery_key(d), encode(d)?)))
            .collect::<Result<Vec<_>>>()?;
        if let Some((of, answer)) = effect {
            writes.push(Write::Put(
                super::tables::effect_key(of),
                answer.into_bytes(),
            ));
        }
        if writes.is_empty() {
            return Ok(());
        }
        self.backend().apply(writes)
    }

    fn deliveries_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Pending>> {
        let prefix = Key::table(Table::EventDelivery).into_bytes();
        let mut due = Vec::new();
        // In due order: the first not yet due ends the reading.
        self.backend()
            .scan_while(&prefix, PAGE, &mut |key, bytes| {
                let delivery: Delivery = decode(&bytes)?;
                if delivery.due > now || due.len() >= limit {
                    return Ok(false);
                }
                if wanted(&delivery.tenant) {
                    due.push(Pending { key, delivery });
                }
                Ok(true)
            })?;
        Ok(due)
    }

    fn deliveries_waiting(&self, tenant: &TenantId, bus: &str) -> Result<Vec<Delivery>> {
        let prefix = Key::table(Table::EventDelivery).into_bytes();
        let all: Vec<Delivery> = self.records(&prefix, None, usize::MAX)?;
        Ok(all
            .into_iter()
            .filter(|d| d.tenant == *tenant && d.bus == bus)
            .collect())
    }

    fn delivery_done(&self, key: &[u8], tenant: &TenantId) -> Result<()> {
        // Deliveries are keyed by time, not tenant: fenced by the tenant's partition.
        let fence = super::keys::fence_of(tenant);
        self.backend()
            .apply_guarded(&[Guard::Absent(&fence)], vec![Write::Delete(key.to_vec())])
            .map(|_| ())
    }

    fn delivery_retry(&self, key: &[u8], next: &Delivery) -> Result<()> {
        let fence = super::keys::fence_of(&next.tenant);
        let writes = vec![
            Write::Delete(key.to_vec()),
            Write::Put(delivery_key(next), encode(next)?),
        ];
        self.backend()
            .apply_guarded(&[Guard::Absent(&fence)], writes)
            .map(|_| ())
    }

    fn delivery_dead(&self, key: &[u8], dead: &DeadLetter) -> Result<()> {
        let d = &dead.delivery;
        self.backend().apply(vec![
            Write::Delete(key.to_vec()),
            Write::Put(
                dead_key(&d.tenant, &d.bus, dead.failed, &d.id),
                encode(dead)?,
            ),
        ])
    }

    fn dead_letters(&self, tenant: &TenantId, bus: &str, limit: usize) -> Result<Vec<DeadLetter>> {
        let prefix = Key::of(Table::EventDeadLetter, tenant)
            .text(bus)
            .into_bytes();
        self.records(&prefix, None, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> Rule {
        Rule {
            name: name.into(),
            bus: DEFAULT_BUS.into(),
            event_pattern: Some(r#"{"source": ["a"]}"#.into()),
            schedule_expression: None,
            enabled: true,
            description: None,
            role_arn: None,
            targets: vec![Target {
                id: "t".into(),
                arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
                input: None,
                input_path: None,
                input_transformer: None,
                role_arn: None,
                retry_policy: RetryPolicy::default(),
            }],
            created: 1,
        }
    }

    fn delivery(id: &str, due: Millis) -> Delivery {
        Delivery {
            id: id.into(),
            tenant: TenantId("a".into()),
            bus: DEFAULT_BUS.into(),
            rule: "r".into(),
            target: rule("r").targets.remove(0),
            event: "{}".into(),
            accepted: 0,
            attempts: 0,
            due,
            last_error: None,
        }
    }

    /// A server reads its own tenants' due deliveries past any number of others'.
    #[test]
    fn due_deliveries_of_some_tenants_are_found_behind_a_backlog_of_others() {
        for s in crate::store::testing::stores() {
            let theirs: Vec<Delivery> =
                (0..600).map(|i| delivery(&format!("x{i:03}"), 1)).collect();
            let mut mine = delivery("mine", 2);
            mine.tenant = TenantId("b".into());
            let mut later = delivery("later", 50);
            later.tenant = TenantId("b".into());
            s.deliveries_accept(&theirs, None).unwrap();
            s.deliveries_accept(&[mine, later], None).unwrap();
            let ours = |t: &TenantId| t.0 == "b";
            let due = s.deliveries_due_of(10, 5, &ours).unwrap();
            let ids: Vec<&str> = due.iter().map(|p| p.delivery.id.as_str()).collect();
            assert_eq!(ids, ["mine"], "not yet due: later");
            assert_eq!(s.deliveries_due(10, 5).unwrap().len(), 5, "the limit");
        }
    }

    #[test]
    fn rules_bump_their_bus_and_stay_in_their_tenant() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            s.rule_put(&a, &rule("r1"), 5).unwrap();
            s.rule_put(&a, &rule("r2"), 6).unwrap();
            assert_eq!(
                s.bus_get(&a, DEFAULT_BUS).unwrap().unwrap().rules_version,
                2
            );
            assert_eq!(s.rule_list(&a, DEFAULT_BUS).unwrap().len(), 2);
            assert!(s.rule_list(&b, DEFAULT_BUS).unwrap().is_empty());
            assert!(s.rule_delete(&a, DEFAULT_BUS, "r1", 7).unwrap());
            assert!(!s.rule_delete(&a, DEFAULT_BUS, "r1", 7).unwrap());
            assert_eq!(
                s.bus_get(&a, DEFAULT_BUS).unwrap().unwrap().rules_version,
                3
            );
            assert!(s.bus_delete(&a, DEFAULT_BUS).unwrap());
            assert!(s.rule_list(&a, DEFAULT_BUS).unwrap().is_empty());
        }
    }

    #[test]
    fn deliveries_come_due_in_order_and_end_done_or_dead() {
        for s in crate::store::testing::stores() {
            s.deliveries_accept(
                &[delivery("x", 20), delivery("y", 10), delivery("z", 30)],
                None,
            )
            .unwrap();
            let due: Vec<String> = s
                .deliveries_due(25, 10)
                .unwrap()
                .into_iter()
                .map(|p| p.delivery.id)
                .collect();
            assert_eq!(due, ["y", "x"]);
            let first = s.deliveries_due(25, 10).unwrap().remove(0);
            s.delivery_retry(
                &first.key,
                &Delivery {
                    due: 40,
                    attempts: 1,
                    ..first.delivery.clone()
                },
            )
            .unwrap();
            let due: Vec<String> = s
                .deliveries_due(35, 10)
                .unwrap()
                .into_iter()
                .map(|p| p.delivery.id)
                .collect();
            assert_eq!(due, ["x", "z"]);
            let x = s.deliveries_due(35, 1).unwrap().remove(0);
            s.delivery_done(&x.key, &x.delivery.tenant).unwrap();
            let z = s.deliveries_due(35, 1).unwrap().remove(0);
            s.delivery_dead(
                &z.key,
                &DeadLetter {
                    delivery: z.delivery.clone(),
                    failed: 36,
                },
            )
            .unwrap();
            assert_eq!(
                s.dead_letters(&TenantId("a".into()), DEFAULT_BUS, 10)
                    .unwrap()
                    .len(),
                1
            );
            let left: Vec<String> = s
                .deliveries_due(100, 10)
                .unwrap()
                .into_iter()
                .map(|p| p.delivery.id)
                .collect();
            assert_eq!(left, ["y"]);
        }
    }
}
