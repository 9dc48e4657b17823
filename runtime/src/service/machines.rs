//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition: state machines and the definition
//! revisions executions pin.

use super::{arns, paging, Error, Page, Result, Tags};
use crate::arn;
use crate::clock::Clock;
use crate::model::{MachineType, Revision, StateMachine};
use crate::store::data::hex;
use crate::store::{StateMachines as _, Store, TenantId};
use crate::tenants::Tenant;
use sandstep_engine::validate::{self, Diagnostic};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A state machine to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMachine {
    /// Its name (AWS's naming rules apply).
    pub name: String,
    /// The ASL definition.
    pub definition: String,
    /// The IAM role ARN it is said to run as (kept and shown, not assumed).
    pub role_arn: String,
    /// STANDARD or EXPRESS.
    pub machine_type: MachineType,
    /// Whether to publish a version (not supported: refused).
    pub publish: bool,
    /// The version description.
    pub description: Option<String>,
    /// The logging configuration, kept as given.
    pub logging: Option<Value>,
    /// The tracing configuration, kept as given.
    pub tracing: Option<Value>,
    /// Tags to set, if any.
    pub tags: Option<Vec<(String, String)>>,
}

/// What an update changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// A new definition: a new revision.
    pub definition: Option<String>,
    /// A new role ARN.
    pub role_arn: Option<String>,
    /// A new logging configuration.
    pub logging: Option<Value>,
    /// A new tracing configuration.
    pub tracing: Option<Value>,
    /// Whether to publish a version (not supported: refused).
    pub publish: bool,
}

/// The validator's diagnostics for a definition: the one check behind
/// ValidateStateMachineDefinition, the console's editor and `sandstep validate`.
pub fn diagnostics(definition: &str, machine_type: MachineType) -> Vec<Diagnostic> {
    validate::validate(definition, machine_type)
}

/// Checks a definition as CreateStateMachine does: validation diagnostics, then whether
/// the engine can run it.
fn check_definition(text: &str, t: MachineType) -> Result<()> {
    let found = diagnostics(text, t);
    if !found.is_empty() {
        let listed: Vec<String> = found
            .iter()
            .map(|d| format!("{}: {} at {}", d.code, d.message, d.location))
            .collect();
        return Err(Error::InvalidDefinition(listed.join(", ")));
    }
    sandstep_engine::Definition::parse(text)
        .map(|_| ())
        .map_err(|e| match e {
            sandstep_engine::Error::Unsupported(m) => {
                Error::InvalidDefinition(format!("UNSUPPORTED_FEATURE: {m}"))
            }
            other => Error::InvalidDefinition(format!("SCHEMA_VALIDATION_FAILED: {other}")),
        })
}

/// A role ARN has at least AWS's six parts.
fn check_role(role: &str) -> Result<()> {
    if role.starts_with("arn:") && role.split(':').count() >= 6 {
        Ok(())
    } else {
        Err(arn::Error(role.to_string()).into())
    }
}

fn refuse_publish(publish: bool) -> Result<()> {
    if publish {
        Err(Error::PublishNotSupported)
    } else {
        Ok(())
    }
}

fn new_revision(definition: &str, now: i64, entropy: u64) -> Revision {
    let sha256 = hex(&Sha256::digest(definition.as_bytes()));
    let id = sandstep_engine::rng::Rng::new(entropy).uuid();
    Revision {
        id,
        definition: definition.to_string(),
        sha256,
        created: now,
    }
}

/// The tenant's state machines.
#[derive(Debug, Clone)]
pub struct Machines {
    store: Store,
    region: String,
    tags: Tags,
    clock: Arc<dyn Clock>,
}

impl Machines {
    /// The state machines in `store`, with ARNs in `region`; their tags are in `tags`.
    pub fn new(store: Store, region: &str, tags: Tags, clock: Arc<dyn Clock>) -> Machines {
        Machines {
            store,
            region: region.to_string(),
            tags,
            clock,
        }
    }

    /// Creates a state machine. Creating one that exists with the same definition, type
    /// and role answers the existing one, as AWS does; tags are checked before anything
    /// is created.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidArn`] (role), [`Error::PublishNotSupported`],
    /// [`Error::InvalidDefinition`], the tag errors, [`Error::StateMachineAlreadyExists`].
    #[tracing::instrument(level = "debug", name = "service.create_state_machine", skip_all, fields(tenant = %tenant.id, machine = %new.name))]
    pub fn create(&self, tenant: &Tenant, new: NewMachine) -> Result<StateMachine> {
        if !arn::valid_name(&new.name) {
            return Err(Error::InvalidName(new.name));
        }
        check_role(&new.role_arn)?;
        refuse_publish(new.publish)?;
        check_definition(&new.definition, new.machine_type)?;
        if let Some(tags) = &new.tags {
            super::tags::check(tags)?;
        }
        let now = self.clock.now();
        let machine_arn = arn::state_machine(&self.region, &tenant.account, &new.name);
        let revision = new_revision(&new.definition, now, self.clock.entropy());
        let machine = StateMachine {
            name: new.name.clone(),
            arn: machine_arn.clone(),
            machine_type: new.machine_type,
            role_arn: new.role_arn,
            revision_id: revision.id.clone(),
            created: now,
            updated: now,
            description: new.description,
            logging: new.logging,
            tracing: new.tracing,
        };
        if !self.store.machine_create(&tenant.id, &machine, &revision)? {
            return match self.store.machine_get(&tenant.id, &new.name)? {
                Some(existing) if self.same(tenant, &existing, &machine, &new.definition)? => {
                    Ok(existing)
                }
                _ => Err(Error::StateMachineAlreadyExists(machine_arn)),
            };
        }
        if let Some(tags) = &new.tags {
            self.tags.change(tenant, &machine_arn, tags, &[])?;
        }
        Ok(machine)
    }

    /// Whether `existing` is what creating `wanted` with `definition` would make.
    fn same(
        &self,
        tenant: &Tenant,
        existing: &StateMachine,
        wanted: &StateMachine,
        definition: &str,
    ) -> Result<bool> {
        let current = self
            .store
            .revision_get(&tenant.id, &existing.name, &existing.revision_id)?;
        Ok(existing.machine_type == wanted.machine_type
            && existing.role_arn == wanted.role_arn
            && current.is_some_and(|r| r.definition == definition))
    }

    /// A state machine and its current revision.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::StateMachineDoesNotExist`], store failures.
    pub(crate) fn load(&self, tenant: &Tenant, arn: &str) -> Result<(StateMachine, Revision)> {
        self.load_for(&tenant.id, &tenant.account, arn)
    }

    /// [`load`](Self::load) for the tenant `id` with `account`.
    pub(crate) fn load_for(
        &self,
        id: &TenantId,
        account: &str,
        arn: &str,
    ) -> Result<(StateMachine, Revision)> {
        let name = arns::machine_name_in(&self.region, account, arn)?;
        let missing = || Error::StateMachineDoesNotExist(arn.to_string());
        let machine = self.store.machine_get(id, &name)?.ok_or_else(missing)?;
        let revision = self
            .store
            .revision_get(id, &name, &machine.revision_id)?
            .ok_or_else(missing)?;
        Ok((machine, revision))
    }

    /// A state machine and its current revision.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::StateMachineDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.describe_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn describe(&self, tenant: &Tenant, arn: &str) -> Result<(StateMachine, Revision)> {
        self.load(tenant, arn)
    }

    /// Changes a state machine; a new definition is a new revision, which later starts
    /// run (running executions keep theirs). Answers the machine as stored.
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`], [`Error::InvalidArn`] (role),
    /// [`Error::NothingToUpdate`], [`Error::PublishNotSupported`],
    /// [`Error::InvalidDefinition`], store failures.
    #[tracing::instrument(level = "debug", name = "service.update_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn update(&self, tenant: &Tenant, arn: &str, changes: Changes) -> Result<StateMachine> {
        let (mut m, _) = self.load(tenant, arn)?;
        if let Some(role) = &changes.role_arn {
            check_role(role)?;
        }
        if changes.definition.is_none()
            && changes.role_arn.is_none()
            && changes.logging.is_none()
            && changes.tracing.is_none()
        {
            return Err(Error::NothingToUpdate);
        }
        refuse_publish(changes.publish)?;
        let now = self.clock.now();
        let revision = match &changes.definition {
            Some(d) => {
                check_definition(d, m.machine_type)?;
                let r = new_revision(d, now, self.clock.entropy());
                m.revision_id = r.id.clone();
                Some(r)
            }
            None => None,
        };
        if let Some(r) = changes.role_arn {
            m.role_arn = r;
        }
        if changes.logging.is_some() {
            m.logging = changes.logging;
        }
        if changes.tracing.is_some() {
            m.tracing = changes.tracing;
        }
        m.updated = now;
        self.store.machine_put(&tenant.id, &m, revision.as_ref())?;
        Ok(m)
    }

    /// Deletes a state machine and its tags; one already gone is a success, as on AWS.
    /// Its running executions keep the revision they pinned.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn delete(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        let name = arns::machine_name(&self.region, tenant, arn)?;
        if let Some(machine) = self.store.machine_get(&tenant.id, &name)? {
            self.store.machine_delete(&tenant.id, &name)?;
            // Tags are kept under the machine's own ARN, not the spelling the caller used.
            self.tags.forget(tenant, &machine.arn)?;
        }
        Ok(())
    }

    /// The tenant's state machines in name order, `limit` at a time.
    ///
    /// # Errors
    /// [`Error::InvalidToken`], store failures.
    #[tracing::instrument(level = "debug", name = "service.list_state_machines", skip_all, fields(tenant = %tenant.id))]
    pub fn list(
        &self,
        tenant: &Tenant,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<StateMachine>> {
        let after = next_token.map(paging::decode_token).transpose()?;
        let mut items = self
            .store
            .machine_list(&tenant.id, after.as_deref(), limit + 1)?;
        let next_token = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|m| paging::encode_token(&m.name))
        } else {
            None
        };
        Ok(Page { items, next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::default_tenant;

    const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;

    fn machines() -> Machines {
        let store = Store::memory();
        Machines::new(
            store.clone(),
            "us-east-1",
            Tags::new(store, "us-east-1"),
            Arc::new(crate::clock::SystemClock),
        )
    }

    fn new(name: &str, definition: &str) -> NewMachine {
        NewMachine {
            name: name.into(),
            definition: definition.into(),
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            machine_type: MachineType::Standard,
            publish: false,
            description: None,
            logging: None,
            tracing: None,
            tags: None,
        }
    }

    #[test]
    fn creating_again_is_idempotent_only_for_the_same_machine() {
        let m = machines();
        let me = default_tenant();
        let first = m.create(&me, new("orders", PASS)).unwrap();
        assert_eq!(m.create(&me, new("orders", PASS)).unwrap(), first);
        let other = PASS.replace("\"A\"", "\"B\"");
        assert_eq!(
            m.create(&me, new("orders", &other)),
            Err(Error::StateMachineAlreadyExists(first.arn.clone()))
        );
        let page = m.list(&me, 1, None).unwrap();
        assert_eq!((page.items.len(), page.next_token), (1, None));
    }

    #[test]
    fn rules_are_checked_before_anything_is_stored() {
        let m = machines();
        let me = default_tenant();
        assert_eq!(
            m.create(&me, new("bad name", PASS)),
            Err(Error::InvalidName("bad name".into()))
        );
        let tagged = NewMachine {
            tags: Some(vec![("aws:x".into(), "v".into())]),
            ..new("tagged", PASS)
        };
        assert!(matches!(
            m.create(&me, tagged),
            Err(Error::ReservedTagKey { .. })
        ));
        assert!(m.list(&me, 10, None).unwrap().items.is_empty());
        let unknown = Changes::default();
        let arn = "arn:aws:states:us-east-1:000000000000:stateMachine:tagged";
        assert_eq!(
            m.update(&me, arn, unknown),
            Err(Error::StateMachineDoesNotExist(arn.into()))
        );
    }
}
