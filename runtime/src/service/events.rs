//! The tenants' event buses (the EventBridge role): the EventBridge API's actions
//! (`aws events ...`, the AWS SDKs), the matching of each accepted event against its bus's
//! rules, and Step Functions' own status-change events on each tenant's default bus.
//!
//! An event is matched when it is accepted: its deliveries (one per target of every
//! enabled rule it matches) are written, durably, before `PutEvents` answers, and
//! `service::event_delivery` takes them to their targets. Compiled patterns are cached per
//! bus and checked against the bus's `rules_version`, so a rule changed by another process
//! is seen at the next event.

use crate::clock::Clock;
use crate::eventbridge::bus;
use crate::eventbridge::envelope::{self, Header};
use crate::model::Execution;
use crate::store::events::{
    Bus, Delivery, EventBuses as _, InputTransformer, RetryPolicy, Rule, Target, DEFAULT_BUS,
};
use crate::store::schedules::{Action, Missed, ScheduleDef, Schedules as _, RULES_GROUP};
use crate::store::{Store, TenantId, Tenants as _};
use crate::tenants::Tenant;
use sandstep_events::pattern::Pattern;
use sandstep_events::schedule::{Dialect, Expression};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Entries one `PutEvents` may carry.
const MAX_ENTRIES: usize = 10;
/// The most bytes of entries one `PutEvents` may carry (EventBridge: under 256 KB).
const MAX_ENTRIES_BYTES: usize = 256 * 1024;
/// Targets one rule may have (EventBridge).
const MAX_TARGETS: usize = 5;
/// Events kept per bus for the console's live tail.
const TAIL: usize = 100;

/// An EventBridge error: its code (the `__type`) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// `ResourceNotFoundException`, `ValidationException`, ...
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl Error {
    fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Error {
        Error::new("ValidationException", message)
    }

    /// The HTTP status it is answered with.
    pub fn status(&self) -> u16 {
        match self.code {
            "InternalException" => 500,
            _ => 400,
        }
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        tracing::error!(error = %e, "event bus store failed");
        Error::new("InternalException", "An internal error occurred.")
    }
}

type Result<T> = std::result::Result<T, Error>;

/// A bus's rules, compiled, at one `rules_version`.
#[derive(Debug)]
struct Compiled {
    version: u64,
    rules: bus::Compiled,
}

/// A tenant's bus.
type BusKey = (TenantId, String);

/// Something kept per bus, shared by the handles.
type PerBus<T> = Arc<Mutex<HashMap<BusKey, T>>>;

/// The tenants' event buses.
#[derive(Debug, Clone)]
pub struct Events {
    store: Store,
    region: String,
    clock: Arc<dyn Clock>,
    compiled: PerBus<Arc<Compiled>>,
    tails: PerBus<VecDeque<Value>>,
    accepted: Arc<Notify>,
}

impl Events {
    /// The buses in `store`, with ARNs in `region`.
    pub fn new(store: Store, region: &str, clock: Arc<dyn Clock>) -> Events {
        Events {
            store,
            region: region.to_string(),
            clock,
            compiled: Arc::default(),
            tails: Arc::default(),
            accepted: Arc::new(Notify::new()),
        }
    }

    /// Notified when deliveries were written: the delivery loop wakes on it.
    pub fn accepted(&self) -> Arc<Notify> {
        Arc::clone(&self.accepted)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Runs an EventBridge action for `tenant`.
    ///
    /// # Errors
    /// EventBridge's error for the action.
    #[tracing::instrument(level = "debug", name = "service.events", skip_all, fields(tenant = %tenant.id, action = %action))]
    pub async fn call(&self, tenant: &Tenant, action: &str, request: Value) -> Result<Value> {
        let r = &request;
        let answer = self.act(tenant, action, r).await?;
        let reads = [
            "DescribeEventBus",
            "ListEventBuses",
            "DescribeRule",
            "ListRules",
            "ListTargetsByRule",
            "TestEventPattern",
            "PutEvents",
        ];
        if !reads.contains(&action) {
            // A change is answered once it survives a crash.
            self.store.durable_later()?.wait().await?;
        }
        Ok(answer)
    }

    async fn act(&self, tenant: &Tenant, action: &str, r: &Value) -> Result<Value> {
        match action {
            "PutEvents" => self.put_events(tenant, r).await,
            "CreateEventBus" => self.create_bus(tenant, r),
            "DescribeEventBus" => self.describe_bus(tenant, r),
            "ListEventBuses" => self.list_buses(tenant, r),
            "DeleteEventBus" => self.delete_bus(tenant, r),
            "PutRule" => self.put_rule(tenant, r),
            "DescribeRule" => self.describe_rule(tenant, r),
            "ListRules" => self.list_rules(tenant, r),
            "DeleteRule" => self.delete_rule(tenant, r),
            "EnableRule" => self.set_enabled(tenant, r, true),
            "DisableRule" => self.set_enabled(tenant, r, false),
            "PutTargets" => self.put_targets(tenant, r),
            "RemoveTargets" => self.remove_targets(tenant, r),
            "ListTargetsByRule" => self.list_targets(tenant, r),
            "TestEventPattern" => test_event_pattern(r),
            "ListRuleNamesByTarget" | "PutPermission" | "RemovePermission" | "CreateArchive" | "StartReplay"
            | "CreateApiDestination" | "CreateConnection" | "CreateEndpoint" | "TagResource" | "UntagResource"
            | "ListTagsForResource" => Err(Error::new(
                "UnsupportedOperation",
                format!("{action} is not supported by Sandstep yet (see the README's list of unsupported features)"),
            )),
            other => Err(Error::new("UnknownOperationException", format!("Unknown operation: {other}"))),
        }
    }

    fn bus_arn(&self, tenant: &Tenant, bus: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:event-bus/{bus}",
            self.region, tenant.account
        )
    }

    /// A rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` elsewhere.
    pub fn rule_arn(region: &str, account: &str, bus: &str, rule: &str) -> String {
        match bus {
            DEFAULT_BUS => format!("arn:aws:events:{region}:{account}:rule/{rule}"),
            _ => format!("arn:aws:events:{region}:{account}:rule/{bus}/{rule}"),
        }
    }

    /// The bus a request names (`EventBusName`, a name or an ARN; the default bus when
    /// absent), which must exist.
    fn bus_of(&self, tenant: &Tenant, r: &Value, field: &str) -> Result<String> {
        let name = bus::bus_name(r.get(field).and_then(Value::as_str));
        if name != DEFAULT_BUS && self.store.bus_get(&tenant.id, &name)?.is_none() {
            return Err(Error::new(
                "ResourceNotFoundException",
                format!("Event bus {name} does not exist."),
            ));
        }
        Ok(name)
    }

    fn create_bus(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let name = required(r, "Name")?;
        if !valid_bus_name(name) {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+"
            )));
        }
        if name == DEFAULT_BUS || name.starts_with("aws.") {
            return Err(Error::validation(format!(
                "Event bus name {name} is reserved."
            )));
        }
        let bus = Bus {
            name: name.to_string(),
            description: r
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_string),
            created: self.clock.now(),
            rules_version: 0,
        };
        if !self.store.bus_create(&tenant.id, &bus)? {
            return Err(Error::new(
                "ResourceAlreadyExistsException",
                format!("Event bus {name} already exists."),
            ));
        }
        Ok(json!({"EventBusArn": self.bus_arn(tenant, name)}))
    }

    fn render_bus(&self, tenant: &Tenant, name: &str, bus: Option<&Bus>) -> Value {
        let mut out = json!({"Name": name, "Arn": self.bus_arn(tenant, name)});
        if let (Some(fields), Some(bus)) = (out.as_object_mut(), bus) {
            if let Some(d) = &bus.description {
                fields.insert("Description".into(), json!(d));
            }
            fields.insert("CreationTime".into(), json!(bus.created as f64 / 1000.0));
        }
        out
    }

    fn describe_bus(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let name = self.bus_of(tenant, r, "Name")?;
        let bus = self.store.bus_get(&tenant.id, &name)?;
        Ok(self.render_bus(tenant, &name, bus.as_ref()))
    }

    fn list_buses(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let prefix = r.get("NamePrefix").and_then(Value::as_str).unwrap_or("");
        let stored = self.store.bus_list(&tenant.id)?;
        let mut buses = Vec::new();
        if DEFAULT_BUS.starts_with(prefix) {
            let default = stored.iter().find(|b| b.name == DEFAULT_BUS);
            buses.push(self.render_bus(tenant, DEFAULT_BUS, default));
        }
        for bus in stored
            .iter()
            .filter(|b| b.name != DEFAULT_BUS && b.name.starts_with(prefix))
        {
            buses.push(self.render_bus(tenant, &bus.name, Some(bus)));
        }
        Ok(json!({"EventBuses": buses}))
    }

    fn delete_bus(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let name = required(r, "Name")?;
        if name == DEFAULT_BUS {
            return Err(Error::validation("Cannot delete event bus default."));
        }
        // Deleting a bus that does not exist succeeds, as on AWS.
        self.store.bus_delete(&tenant.id, name)?;
        self.forget(&tenant.id, name);
        Ok(json!({}))
    }

    fn put_rule(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let name = required(r, "Name")?;
        check_rule_name(name)?;
        let bus = self.bus_of(tenant, r, "EventBusName")?;
        let pattern = r
            .get("EventPattern")
            .and_then(Value::as_str)
            .map(str::to_string);
        let schedule = r
            .get("ScheduleExpression")
            .and_then(Value::as_str)
            .map(str::to_string);
        if pattern.is_none() && schedule.is_none() {
            return Err(Error::validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
            ));
        }
        if let Some(p) = &pattern {
            Pattern::parse(p).map_err(|e| {
                Error::new(
                    "InvalidEventPatternException",
                    format!("Event pattern is not valid. Reason: {e}"),
                )
            })?;
        }
        if let Some(expression) = &schedule {
            if bus != DEFAULT_BUS {
                return Err(Error::validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            Expression::parse(expression, Dialect::Rule).map_err(|e| Error::validation(e.0))?;
        }
        let enabled = match r.get("State").and_then(Value::as_str).unwrap_or("ENABLED") {
            "ENABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => true,
            "DISABLED" => false,
            other => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
                )))
            }
        };
        let now = self.clock.now();
        let existing = self.store.rule_get(&tenant.id, &bus, name)?;
        let rule = Rule {
            name: name.to_string(),
            bus: bus.clone(),
            event_pattern: pattern,
            schedule_expression: schedule,
            enabled,
            description: r
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_string),
            role_arn: r.get("RoleArn").and_then(Value::as_str).map(str::to_string),
            targets: existing
                .as_ref()
                .map(|e| e.targets.clone())
                .unwrap_or_default(),
            created: existing.as_ref().map_or(now, |e| e.created),
        };
        self.store.rule_put(&tenant.id, &rule, now)?;
        self.arm_rule(&tenant.id, &rule)?;
        Ok(json!({"RuleArn": Events::rule_arn(&self.region, &tenant.account, &bus, name)}))
    }

    fn rule_of(&self, tenant: &Tenant, r: &Value, field: &str) -> Result<Rule> {
        let name = required(r, field)?;
        let bus = self.bus_of(tenant, r, "EventBusName")?;
        self.store.rule_get(&tenant.id, &bus, name)?.ok_or_else(|| {
            Error::new(
                "ResourceNotFoundException",
                format!("Rule {name} does not exist on EventBus {bus}."),
            )
        })
    }

    fn render_rule(&self, tenant: &Tenant, rule: &Rule) -> Value {
        let mut out = json!({
            "Name": rule.name,
            "Arn": Events::rule_arn(&self.region, &tenant.account, &rule.bus, &rule.name),
            "State": if rule.enabled { "ENABLED" } else { "DISABLED" },
            "EventBusName": rule.bus,
            "CreatedBy": tenant.account,
        });
        if let Some(fields) = out.as_object_mut() {
            for (key, value) in [
                ("EventPattern", &rule.event_pattern),
                ("ScheduleExpression", &rule.schedule_expression),
                ("Description", &rule.description),
                ("RoleArn", &rule.role_arn),
            ] {
                if let Some(v) = value {
                    fields.insert(key.into(), json!(v));
                }
            }
        }
        out
    }

    fn describe_rule(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let rule = self.rule_of(tenant, r, "Name")?;
        Ok(self.render_rule(tenant, &rule))
    }

    fn list_rules(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let bus = self.bus_of(tenant, r, "EventBusName")?;
        let prefix = r.get("NamePrefix").and_then(Value::as_str).unwrap_or("");
        let rules: Vec<Value> = self
            .store
            .rule_list(&tenant.id, &bus)?
            .iter()
            .filter(|rule| rule.name.starts_with(prefix))
            .map(|rule| self.render_rule(tenant, rule))
            .collect();
        Ok(json!({"Rules": rules}))
    }

    fn delete_rule(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let name = required(r, "Name")?;
        let bus = self.bus_of(tenant, r, "EventBusName")?;
        if let Some(rule) = self.store.rule_get(&tenant.id, &bus, name)? {
            let force = r.get("Force").and_then(Value::as_bool).unwrap_or(false);
            if !rule.targets.is_empty() && !force {
                return Err(Error::validation(
                    "Rule can't be deleted since it has targets.",
                ));
            }
            self.store
                .rule_delete(&tenant.id, &bus, name, self.clock.now())?;
            self.store.schedule_delete(&tenant.id, RULES_GROUP, name)?;
        }
        Ok(json!({}))
    }

    fn set_enabled(&self, tenant: &Tenant, r: &Value, enabled: bool) -> Result<Value> {
        let rule = Rule {
            enabled,
            ..self.rule_of(tenant, r, "Name")?
        };
        self.store.rule_put(&tenant.id, &rule, self.clock.now())?;
        self.arm_rule(&tenant.id, &rule)?;
        Ok(json!({}))
    }

    fn put_targets(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let mut rule = self.rule_of(tenant, r, "Rule")?;
        let Some(given) = r
            .get("Targets")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
        else {
            return Err(Error::validation(
                "Parameter Targets must have at least one target.",
            ));
        };
        let mut failed = Vec::new();
        for t in given {
            let target = match target_of(t, &self.region, &tenant.account) {
                Ok(target) => target,
                Err((id, code, message)) => {
                    failed
                        .push(json!({"TargetId": id, "ErrorCode": code, "ErrorMessage": message}));
                    continue;
                }
            };
            rule.targets.retain(|existing| existing.id != target.id);
            rule.targets.push(target);
        }
        if rule.targets.len() > MAX_TARGETS {
            return Err(Error::new(
                "LimitExceededException",
                "The requested resource exceeds the maximum number allowed.",
            ));
        }
        self.store.rule_put(&tenant.id, &rule, self.clock.now())?;
        Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
    }

    fn remove_targets(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let mut rule = self.rule_of(tenant, r, "Rule")?;
        let ids: Vec<&str> = r
            .get("Ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(Error::validation(
                "Parameter Ids must have at least one id.",
            ));
        }
        rule.targets.retain(|t| !ids.contains(&t.id.as_str()));
        self.store.rule_put(&tenant.id, &rule, self.clock.now())?;
        Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
    }

    fn list_targets(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let rule = self.rule_of(tenant, r, "Rule")?;
        let targets: Vec<Value> = rule.targets.iter().map(render_target).collect();
        Ok(json!({"Targets": targets}))
    }

    async fn put_events(&self, tenant: &Tenant, r: &Value) -> Result<Value> {
        let Some(entries) = r
            .get("Entries")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        else {
            return Err(Error::validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null"));
        };
        if entries.len() > MAX_ENTRIES {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to {MAX_ENTRIES}"
            )));
        }
        if entries.iter().map(entry_size).sum::<usize>() >= MAX_ENTRIES_BYTES {
            return Err(Error::validation(
                "Total size of the entries in the request is over the limit.",
            ));
        }
        let now = self.clock.now();
        let mut results = Vec::with_capacity(entries.len());
        let mut deliveries = Vec::new();
        let mut failed = 0;
        for entry in entries {
            match self.accept_entry(tenant, entry, now) {
                Ok((id, mut matched)) => {
                    results.push(json!({"EventId": id}));
                    deliveries.append(&mut matched);
                }
                Err(e) => {
                    failed += 1;
                    results.push(json!({"ErrorCode": e.code, "ErrorMessage": e.message}));
                }
            }
        }
        self.deliver(deliveries).await?;
        Ok(json!({"FailedEntryCount": failed, "Entries": results}))
    }

    /// One entry as an event: its id and the deliveries its bus's rules owe it.
    fn accept_entry(
        &self,
        tenant: &Tenant,
        entry: &Value,
        now: i64,
    ) -> Result<(String, Vec<Delivery>)> {
        let id = sandstep_engine::rng::Rng::new(self.clock.entropy()).uuid();
        let (bus, event) = bus::event_of(entry, &tenant.account, &self.region, now, &id)
            .map_err(|r| Error::new(r.code, r.message))?;
        if bus != DEFAULT_BUS && self.store.bus_get(&tenant.id, &bus)?.is_none() {
            return Err(Error::new(
                "ResourceNotFoundException",
                format!("Event bus {bus} does not exist."),
            ));
        }
        let deliveries = self.matched(&tenant.id, &bus, &event, now)?;
        Ok((id, deliveries))
    }

    /// The deliveries `event` is owed on `bus`: one per target of each enabled rule whose
    /// pattern it matches.
    fn matched(
        &self,
        tenant: &TenantId,
        bus: &str,
        event: &Value,
        now: i64,
    ) -> Result<Vec<Delivery>> {
        self.record_tail(tenant, bus, event);
        let compiled = self.compiled(tenant, bus)?;
        Ok(bus::deliveries(tenant, bus, event, &compiled.rules, now))
    }

    /// Keeps a rule's schedule (in the rules' group, named as the rule) in step with the
    /// rule: armed while it is enabled and has a schedule expression, gone when it has none.
    fn arm_rule(&self, tenant: &TenantId, rule: &Rule) -> Result<()> {
        let Some(expression) = &rule.schedule_expression else {
            self.store
                .schedule_delete(tenant, RULES_GROUP, &rule.name)?;
            return Ok(());
        };
        let now = self.clock.now();
        let existing = self.store.schedule_get(tenant, RULES_GROUP, &rule.name)?;
        let unchanged = existing
            .as_ref()
            .is_some_and(|e| e.expression == *expression);
        let def = ScheduleDef {
            name: rule.name.clone(),
            group: RULES_GROUP.to_string(),
            expression: expression.clone(),
            timezone: "UTC".to_string(),
            // A rate counts from the rule's creation; changing the expression restarts it.
            start: existing
                .as_ref()
                .filter(|_| unchanged)
                .map_or(now, |e| e.start),
            end: None,
            enabled: rule.enabled,
            action: Action::Rule {
                bus: rule.bus.clone(),
                rule: rule.name.clone(),
            },
            missed: Missed::FireOnce,
            delete_after: false,
            description: None,
            next: None,
            last: existing.as_ref().and_then(|e| e.last),
            created: existing.as_ref().map_or(now, |e| e.created),
            modified: now,
        };
        let def = crate::service::schedules::armed(def, Dialect::Rule, now)
            .map_err(|e| Error::validation(e.to_string()))?;
        self.store.schedule_put(tenant, &def)?;
        Ok(())
    }

    /// A scheduled rule's fire: a `Scheduled Event` for its targets, its id derived from
    /// the rule and the fire time so that a fire repeated after a crash delivers (and
    /// names its executions) as the first did.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn fire_rule(
        &self,
        tenant: &TenantId,
        account: &str,
        bus: &str,
        name: &str,
        at: i64,
    ) -> Result<()> {
        let Some(rule) = self
            .store
            .rule_get(tenant, bus, name)?
            .filter(|r| r.enabled)
        else {
            return Ok(());
        };
        let digest = Sha256::digest(format!("{tenant}/{bus}/{name}/{at}").as_bytes());
        let hex = crate::store::data::hex(&digest);
        let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default().to_string();
        let id = format!(
            "{}-{}-{}-{}-{}",
            part(0, 8),
            part(8, 12),
            part(12, 16),
            part(16, 20),
            part(20, 32)
        );
        let rule_arn = Events::rule_arn(&self.region, account, bus, name);
        let event = envelope::event(
            &Header {
                id: &id,
                detail_type: "Scheduled Event",
                source: "aws.events",
                account,
                time: at,
                region: &self.region,
                resources: std::slice::from_ref(&rule_arn),
            },
            json!({}),
        );
        self.record_tail(tenant, bus, &event);
        let deliveries = bus::owed(
            tenant,
            bus,
            &rule,
            &id,
            &event.to_string(),
            self.clock.now(),
        );
        self.deliver(deliveries).await
    }

    /// Writes deliveries durably, then wakes the delivery loop.
    async fn deliver(&self, deliveries: Vec<Delivery>) -> Result<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let store = self.store.clone();
        let durable = tokio::task::spawn_blocking(move || -> crate::store::Result<_> {
            store.deliveries_accept(&deliveries, None)?;
            store.durable_later()
        })
        .await
        .map_err(|e| Error::new("InternalException", e.to_string()))??;
        durable.wait().await.map_err(Error::from)?;
        self.accepted.notify_one();
        Ok(())
    }

    /// The compiled rules of a bus, compiled again when its `rules_version` moved.
    fn compiled(&self, tenant: &TenantId, bus: &str) -> Result<Arc<Compiled>> {
        let version = self
            .store
            .bus_get(tenant, bus)?
            .map_or(0, |b| b.rules_version);
        let key = (tenant.clone(), bus.to_string());
        if let Some(c) = lock(&self.compiled)
            .get(&key)
            .filter(|c| c.version == version)
        {
            return Ok(Arc::clone(c));
        }
        let rules = bus::compile(self.store.rule_list(tenant, bus)?);
        let fresh = Arc::new(Compiled { version, rules });
        lock(&self.compiled).insert(key, Arc::clone(&fresh));
        Ok(fresh)
    }

    fn forget(&self, tenant: &TenantId, bus: &str) {
        let key = (tenant.clone(), bus.to_string());
        lock(&self.compiled).remove(&key);
        lock(&self.tails).remove(&key);
    }

    fn record_tail(&self, tenant: &TenantId, bus: &str, event: &Value) {
        let mut tails = lock(&self.tails);
        let tail = tails.entry((tenant.clone(), bus.to_string())).or_default();
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(event.clone());
    }

    /// The latest events on a bus, newest last (the console's live tail; kept in memory).
    pub fn tail(&self, tenant: &TenantId, bus: &str) -> Vec<Value> {
        lock(&self.tails)
            .get(&(tenant.clone(), bus.to_string()))
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A bus's dead letters, oldest first.
    ///
    /// # Errors
    /// When the store fails.
    pub fn dead_letters(
        &self,
        tenant: &Tenant,
        bus: &str,
        limit: usize,
    ) -> Result<Vec<crate::store::events::DeadLetter>> {
        Ok(self.store.dead_letters(&tenant.id, bus, limit)?)
    }

    /// Puts Step Functions' status-change event of a Standard execution on its tenant's
    /// default bus, if a rule there takes it. Best effort, as on AWS: called after the
    /// change is committed, so a crash between the two loses the event.
    pub async fn execution_status(&self, tenant: &TenantId, execution: &Execution) {
        let machine_arn = |account: &str| {
            format!(
                "arn:aws:states:{}:{account}:stateMachine:{}",
                self.region, execution.machine
            )
        };
        let at = execution.stopped.unwrap_or(execution.started);
        self.service_event(
            tenant,
            ServiceEvent {
                source: envelope::STATES_SOURCE,
                detail_type: envelope::STATUS_CHANGE,
                resources: vec![execution.arn.clone()],
                time: at,
            },
            |account| envelope::status_detail(execution, &machine_arn(account)),
        )
        .await;
    }

    /// Puts an AWS service's event (`aws.states`, `aws.s3`, ...) on the tenant's default
    /// bus, if a rule there takes it; `detail` is made for the tenant's account. Best
    /// effort, as on AWS: a failure is logged, never the caller's.
    pub async fn service_event(
        &self,
        tenant: &TenantId,
        what: ServiceEvent<'_>,
        detail: impl FnOnce(&str) -> Value,
    ) {
        let compiled = match self.compiled(tenant, DEFAULT_BUS) {
            Ok(c) => c,
            Err(e) => return tracing::warn!(error = %e, source = what.source, "event not sent"),
        };
        if compiled
            .rules
            .iter()
            .all(|(rule, _)| rule.targets.is_empty())
        {
            return;
        }
        let account = match self.store.tenant_get(tenant) {
            Ok(Some(t)) => t.account,
            _ => crate::tenants::default_tenant().account,
        };
        let id = sandstep_engine::rng::Rng::new(self.clock.entropy()).uuid();
        let event = envelope::event(
            &Header {
                id: &id,
                detail_type: what.detail_type,
                source: what.source,
                account: &account,
                time: what.time,
                region: &self.region,
                resources: &what.resources,
            },
            detail(&account),
        );
        let deliveries = match self.matched(tenant, DEFAULT_BUS, &event, self.clock.now()) {
            Ok(d) => d,
            Err(e) => return tracing::warn!(error = %e, source = what.source, "event not sent"),
        };
        if let Err(e) = self.deliver(deliveries).await {
            tracing::warn!(error = %e, source = what.source, "event not sent");
        }
    }

    /// The time on this server's clock (epoch ms).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// An AWS service's event, before its detail: see [`Events::service_event`].
#[derive(Debug, Clone)]
pub struct ServiceEvent<'a> {
    /// `aws.s3`, ...
    pub source: &'a str,
    /// `Object Created`, ...
    pub detail_type: &'a str,
    /// The ARNs it is about.
    pub resources: Vec<String>,
    /// When it happened (epoch ms).
    pub time: i64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn required<'a>(r: &'a Value, field: &str) -> Result<&'a str> {
    r.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(field)
        ))
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn valid_bus_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/.-_".contains(c))
}

fn check_rule_name(name: &str) -> Result<()> {
    match (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) {
        true => Ok(()),
        false => Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        ))),
    }
}

/// A `PutEvents` entry's size, as EventBridge counts it.
fn entry_size(entry: &Value) -> usize {
    let text = |f: &str| entry.get(f).and_then(Value::as_str).map_or(0, str::len);
    let resources: usize = entry
        .get("Resources")
        .and_then(Value::as_array)
        .map_or(0, |a| {
            a.iter().filter_map(Value::as_str).map(str::len).sum()
        });
    let time = if entry.get("Time").is_some() { 14 } else { 0 };
    time + text("Source") + text("DetailType") + text("Detail") + resources
}

/// A target of `PutTargets`, checked; a failed entry's id, code and message when it is
/// not one Sandstep delivers to.
fn target_of(
    t: &Value,
    region: &str,
    account: &str,
) -> std::result::Result<Target, (String, &'static str, String)> {
    let id = t
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let fail = |m: String| (id.clone(), "ValidationException", m);
    if !(1..=64).contains(&id.len())
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    {
        return Err(fail(format!(
            "Target id '{id}' must be 1 to 64 letters, digits, '.', '-' or '_'."
        )));
    }
    let arn = t.get("Arn").and_then(Value::as_str).unwrap_or("");
    let machine = arn.strip_prefix(&format!("arn:aws:states:{region}:{account}:stateMachine:"));
    if machine.is_none_or(str::is_empty) {
        return Err(fail(format!(
            "Sandstep delivers events to state machines of this account only (arn:aws:states:{region}:{account}:stateMachine:NAME), not to {arn}"
        )));
    }
    let text = |f: &str| t.get(f).and_then(Value::as_str).map(str::to_string);
    let transformer = t.get("InputTransformer").map(|x| InputTransformer {
        input_paths_map: x
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        input_template: x
            .get("InputTemplate")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    });
    let defaults = RetryPolicy::default();
    let retry = t.get("RetryPolicy");
    let number = |f: &str, default: u32| {
        retry
            .and_then(|r| r.get(f))
            .and_then(Value::as_u64)
            .map_or(default, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let retry_policy = RetryPolicy {
        maximum_retry_attempts: number("MaximumRetryAttempts", defaults.maximum_retry_attempts),
        maximum_event_age_in_seconds: number(
            "MaximumEventAgeInSeconds",
            defaults.maximum_event_age_in_seconds,
        ),
    };
    if retry_policy.maximum_retry_attempts > 185
        || !(60..=86_400).contains(&retry_policy.maximum_event_age_in_seconds)
    {
        return Err(fail("RetryPolicy takes MaximumRetryAttempts 0 to 185 and MaximumEventAgeInSeconds 60 to 86400.".into()));
    }
    let target = Target {
        id: id.clone(),
        arn: arn.to_string(),
        input: text("Input"),
        input_path: text("InputPath"),
        input_transformer: transformer,
        role_arn: text("RoleArn"),
        retry_policy,
    };
    crate::eventbridge::transform::check(&target).map_err(fail)?;
    Ok(target)
}

fn render_target(t: &Target) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(t.id));
    out.insert("Arn".into(), json!(t.arn));
    if let Some(i) = &t.input {
        out.insert("Input".into(), json!(i));
    }
    if let Some(p) = &t.input_path {
        out.insert("InputPath".into(), json!(p));
    }
    if let Some(x) = &t.input_transformer {
        out.insert(
            "InputTransformer".into(),
            json!({"InputPathsMap": x.input_paths_map, "InputTemplate": x.input_template}),
        );
    }
    if let Some(r) = &t.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    out.insert(
        "RetryPolicy".into(),
        json!({"MaximumRetryAttempts": t.retry_policy.maximum_retry_attempts, "MaximumEventAgeInSeconds": t.retry_policy.maximum_event_age_in_seconds}),
    );
    Value::Object(out)
}

/// `TestEventPattern`: whether an event (with EventBridge's envelope fields) matches.
fn test_event_pattern(r: &Value) -> Result<Value> {
    let pattern = required(r, "EventPattern")?;
    let event = required(r, "Event")?;
    let pattern = Pattern::parse(pattern).map_err(|e| {
        Error::new(
            "InvalidEventPatternException",
            format!("Event pattern is not valid. Reason: {e}"),
        )
    })?;
    let event: Value = serde_json::from_str(event)
        .ok()
        .filter(|e: &Value| {
            ["id", "account", "source", "time", "region", "detail-type"]
                .iter()
                .all(|f| e.get(f).is_some())
        })
        .ok_or_else(|| Error::validation("Parameter Event is not valid."))?;
    Ok(json!({"Result": pattern.matches(&event)}))
}

impl crate::scheduler::status::StatusSink for Events {
    fn changed(&self, tenant: &TenantId, execution: &Execution) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (me, tenant, execution) = (self.clone(), tenant.clone(), execution.clone());
        runtime.spawn(async move { me.execution_status(&tenant, &execution).await });
    }
}
