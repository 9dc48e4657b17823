//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition: state machines and the definition
//! revisions executions pin. Versions and aliases are [`super::versions`].

use super::{arns, paging, Error, Page, Result, Tags};
use crate::arn;
use crate::arn::Qualifier;
use crate::clock::Clock;
use crate::model::{MachineType, Revision, StateMachine, Version};
use crate::store::data::hex;
use crate::store::{MachineVersions as _, StateMachines as _, Store};
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
    /// Whether to publish a version of it (version 1).
    pub publish: bool,
    /// That version's description (only with `publish`).
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
    /// Whether to publish a version of the machine as changed.
    pub publish: bool,
    /// That version's description (only with `publish`).
    pub version_description: Option<String>,
}

/// A state machine after a create or update, and the version published with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// The machine.
    pub machine: StateMachine,
    /// The version's ARN, when one was published.
    pub version_arn: Option<String>,
}

/// The validator's diagnostics for a definition: the one check behind
/// ValidateStateMachineDefinition, the console's editor and `sandstep validate`.
pub fn diagnostics(definition: &str, machine_type: MachineType) -> Vec<Diagnostic> {
    validate::validate(definition, machine_type)
}

/// Checks a definition as CreateStateMachine does: validation diagnostics, then whether
/// the engine can run it.
pub(super) fn check_definition(text: &str, t: MachineType) -> Result<()> {
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

/// A version description is only for the version being published, as AWS says.
fn check_publish(publish: bool, description: Option<&String>) -> Result<()> {
    if description.is_some() && !publish {
        return Err(Error::InvalidVersioning(
            "Version description can only be set when publish is true".into(),
        ));
    }
    Ok(())
}

/// The machine as a version published it: the version's settings, the machine's name,
/// ARN and type.
pub(super) fn as_published(machine: StateMachine, version: &Version) -> StateMachine {
    StateMachine {
        role_arn: version.role_arn.clone(),
        revision_id: version.revision_id.clone(),
        logging: version.logging.clone(),
        tracing: version.tracing.clone(),
        description: version.description.clone(),
        machine_type: version.machine_type,
        created: version.created,
        ..machine
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
    pub(super) store: Store,
    pub(super) region: String,
    tags: Tags,
    pub(super) clock: Arc<dyn Clock>,
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
    /// With `publish`, version 1 is published too (or, for a repeated create, the
    /// version of its revision).
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidArn`] (role), [`Error::InvalidVersioning`],
    /// [`Error::InvalidDefinition`], the tag errors, [`Error::StateMachineAlreadyExists`].
    #[tracing::instrument(level = "debug", name = "service.create_state_machine", skip_all, fields(tenant = %tenant.id, machine = %new.name))]
    pub fn create(&self, tenant: &Tenant, new: NewMachine) -> Result<Saved> {
        check_publish(new.publish, new.description.as_ref())?;
        let machine = self.create_machine(tenant, &new)?;
        let version_arn = match new.publish {
            true => Some(self.publish(tenant, &machine.arn, None, new.description)?.0),
            false => None,
        };
        Ok(Saved {
            machine,
            version_arn,
        })
    }

    fn create_machine(&self, tenant: &Tenant, new: &NewMachine) -> Result<StateMachine> {
        if !arn::valid_name(&new.name) {
            return Err(Error::InvalidName(new.name.clone()));
        }
        check_role(&new.role_arn)?;
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
            role_arn: new.role_arn.clone(),
            revision_id: revision.id.clone(),
            created: now,
            updated: now,
            description: None,
            logging: new.logging.clone(),
            tracing: new.tracing.clone(),
            revised: false,
            last_version: 0,
            generation: 0,
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

    /// A state machine (unqualified ARN) and its current revision.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::StateMachineDoesNotExist`], store failures.
    pub(crate) fn load(&self, tenant: &Tenant, arn: &str) -> Result<(StateMachine, Revision)> {
        let name = arns::machine_name(&self.region, tenant, arn)?;
        let missing = || Error::StateMachineDoesNotExist(arn.to_string());
        let machine = self
            .store
            .machine_get(&tenant.id, &name)?
            .ok_or_else(missing)?;
        let revision = self
            .store
            .revision_get(&tenant.id, &name, &machine.revision_id)?
            .ok_or_else(missing)?;
        Ok((machine, revision))
    }

    /// A state machine and its current revision, or one of its versions (the machine as
    /// published, with the version). An alias names no one definition: it reads as absent.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::StateMachineDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.describe_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn describe(
        &self,
        tenant: &Tenant,
        arn: &str,
    ) -> Result<(StateMachine, Revision, Option<Version>)> {
        let (name, qualifier) = arns::machine_target_in(&self.region, &tenant.account, arn)?;
        let Some(Qualifier::Version(number)) = qualifier else {
            if qualifier.is_some() {
                return Err(Error::StateMachineDoesNotExist(arn.to_string()));
            }
            let (machine, revision) = self.load(tenant, arn)?;
            return Ok((machine, revision, None));
        };
        let missing = || Error::StateMachineDoesNotExist(arn.to_string());
        let machine = self
            .store
            .machine_get(&tenant.id, &name)?
            .ok_or_else(missing)?;
        let version = self
            .store
            .version_get(&tenant.id, &name, number)?
            .ok_or_else(missing)?;
        let revision = self
            .store
            .revision_get(&tenant.id, &name, &version.revision_id)?
            .ok_or_else(missing)?;
        Ok((as_published(machine, &version), revision, Some(version)))
    }

    /// Changes a state machine. Any real change (definition, role, logging, tracing) is
    /// a new revision, which later starts run (running executions keep theirs); an update
    /// that changes nothing keeps the revision, as on AWS. With `publish`, the machine as
    /// changed is published as a version. Answers the machine as stored.
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`] (also for a version's or alias's ARN),
    /// [`Error::InvalidArn`] (role), [`Error::NothingToUpdate`],
    /// [`Error::InvalidVersioning`], [`Error::InvalidDefinition`], the publish errors,
    /// store failures.
    #[tracing::instrument(level = "debug", name = "service.update_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn update(&self, tenant: &Tenant, arn: &str, changes: Changes) -> Result<Saved> {
        self.load(tenant, arn)?;
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
        check_publish(changes.publish, changes.version_description.as_ref())?;
        let machine = self.changed(tenant, arn, &changes)?;
        let version_arn = match changes.publish {
            true => Some(
                self.publish(tenant, &machine.arn, None, changes.version_description)?
                    .0,
            ),
            false => None,
        };
        Ok(Saved {
            machine,
            version_arn,
        })
    }

    /// Writes an update, reading again when the record changed meanwhile (a publish or
    /// another update), so no change is lost.
    fn changed(&self, tenant: &Tenant, arn: &str, changes: &Changes) -> Result<StateMachine> {
        for _ in 0..super::versions::ATTEMPTS {
            let (read, current) = self.load(tenant, arn)?;
            let mut m = read.clone();
            let definition = changes
                .definition
                .as_ref()
                .filter(|d| **d != current.definition);
            if let Some(d) = definition {
                check_definition(d, m.machine_type)?;
            }
            if let Some(r) = &changes.role_arn {
                m.role_arn = r.clone();
            }
            if changes.logging.is_some() {
                m.logging = changes.logging.clone();
            }
            if changes.tracing.is_some() {
                m.tracing = changes.tracing.clone();
            }
            let now = self.clock.now();
            let differs = definition.is_some()
                || m.role_arn != read.role_arn
                || m.logging != read.logging
                || m.tracing != read.tracing;
            let revision = differs.then(|| {
                let text = definition.unwrap_or(&current.definition);
                new_revision(text, now, self.clock.entropy())
            });
            if let Some(r) = &revision {
                m.revision_id = r.id.clone();
                m.revised = true;
            }
            m.updated = now;
            if self
                .store
                .machine_update(&tenant.id, &read, &m, revision.as_ref())?
            {
                return Ok(m);
            }
        }
        Err(super::versions::busy(arn))
    }

    /// Deletes a state machine, its versions and aliases, and its tags; one already gone
    /// is a success, as on AWS. Its running executions keep the revision they pinned.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::InvalidVersioning`] for a version's or alias's ARN
    /// (they are deleted with their own actions), store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_state_machine", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn delete(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        let (name, qualifier) = arns::machine_target_in(&self.region, &tenant.account, arn)?;
        if qualifier.is_some() {
            return Err(Error::InvalidVersioning(format!(
                "DeleteStateMachine takes a state machine's own ARN, not a version's or an alias's: '{arn}' (use DeleteStateMachineVersion or DeleteStateMachineAlias)"
            )));
        }
        if let Some(machine) = self.store.machine_get(&tenant.id, &name)? {
            self.store.machine_delete(&tenant.id, &name)?;
            self.store.versions_forget(&tenant.id, &name)?;
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
            Err(Error::StateMachineAlreadyExists(first.machine.arn.clone()))
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
