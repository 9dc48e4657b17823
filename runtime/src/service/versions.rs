//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion and
//! the alias actions (Create, Describe, Update, Delete, ListStateMachineAliases), and what
//! a state machine ARN — plain, a version's or an alias's — starts.
//!
//! A version is an immutable snapshot of the machine's revision and settings, numbered
//! from 1; numbers only grow. An alias routes executions to one version, or splits them
//! between two by weight. Every change is decided on the machine's record as read and
//! written only if that record is unchanged (see [`crate::store::versions`]); a change
//! that lost the race is decided again on the new record.

use super::machines::{as_published, Machines};
use super::{arns, paging, Error, Page, Result};
use crate::arn::{self, Qualifier};
use crate::model::{Alias, Revision, StateMachine, Version, Weighted};
use crate::store::versions::VersionChange;
use crate::store::{MachineVersions as _, Millis, StateMachines as _, TenantId};
use crate::tenants::Tenant;

/// Versions one machine may have (AWS's quota).
const MAX_VERSIONS: usize = 1000;
/// Aliases one machine may have (AWS's quota).
const MAX_ALIASES: usize = 100;
/// How often a change is decided again after losing a race with another change.
pub(super) const ATTEMPTS: usize = 32;

/// What a state machine ARN starts: the machine as it runs (a version's settings for a
/// version or alias), the revision, and the version and alias it came through.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The machine (its own, unqualified ARN).
    pub machine: StateMachine,
    /// The definition revision to run.
    pub revision: Revision,
    /// The version, for a version's or alias's ARN.
    pub version: Option<u64>,
    /// The alias, for an alias's ARN.
    pub alias: Option<String>,
}

/// One entry of a version or alias listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The version's or alias's ARN.
    pub arn: String,
    /// When it was created.
    pub created: Millis,
}

/// An alias as described.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribedAlias {
    /// Its ARN.
    pub arn: String,
    /// The alias.
    pub alias: Alias,
    /// The ARN of each version it routes to, in its order.
    pub routing: Vec<(String, u8)>,
}

/// The error for a change that kept losing races with other changes of the machine.
pub(super) fn busy(arn: &str) -> Error {
    Error::VersionConflict(format!(
        "The state machine '{arn}' is being changed by other requests; try again"
    ))
}

/// What a decision on a machine's record writes: nothing, or the machine's next record
/// with changes to its versions and aliases.
type Decision<T> = (T, Option<(StateMachine, Vec<VersionChange>)>);

impl Machines {
    /// What `arn` starts, for the tenant `id` with `account`: the machine's current
    /// revision, a version's snapshot, or the version an alias picks (by its weights,
    /// with the clock's entropy).
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::StateMachineDoesNotExist`] (also for a version or
    /// alias that does not exist), store failures.
    pub(crate) fn resolve_for(&self, id: &TenantId, account: &str, arn: &str) -> Result<Resolved> {
        let (name, qualifier) = arns::machine_target_in(&self.region, account, arn)?;
        let missing = || Error::StateMachineDoesNotExist(arn.to_string());
        let machine = self.store.machine_get(id, &name)?.ok_or_else(missing)?;
        let (number, alias) = match qualifier {
            None => {
                let revision = self
                    .store
                    .revision_get(id, &name, &machine.revision_id)?
                    .ok_or_else(missing)?;
                return Ok(Resolved {
                    machine,
                    revision,
                    version: None,
                    alias: None,
                });
            }
            Some(Qualifier::Version(n)) => (n, None),
            Some(Qualifier::Alias(a)) => {
                let found = self.store.alias_get(id, &name, &a)?.ok_or_else(missing)?;
                (pick(&found.routing, self.clock.entropy()), Some(a))
            }
        };
        let version = self
            .store
            .version_get(id, &name, number)?
            .ok_or_else(missing)?;
        let revision = self
            .store
            .revision_get(id, &name, &version.revision_id)?
            .ok_or_else(missing)?;
        Ok(Resolved {
            machine: as_published(machine, &version),
            revision,
            version: Some(number),
            alias,
        })
    }

    /// Decides a change on the machine's record and writes it, deciding again when the
    /// record changed meanwhile.
    fn decide<T>(
        &self,
        tenant: &Tenant,
        name: &str,
        arn: &str,
        mut decision: impl FnMut(&StateMachine) -> Result<Decision<T>>,
    ) -> Result<T> {
        for _ in 0..ATTEMPTS {
            let read = self
                .store
                .machine_get(&tenant.id, name)?
                .ok_or_else(|| Error::StateMachineDoesNotExist(arn.to_string()))?;
            let (answer, write) = decision(&read)?;
            let Some((mut next, changes)) = write else {
                return Ok(answer);
            };
            next.generation = read.generation + 1;
            if self
                .store
                .versions_change(&tenant.id, &read, &next, &changes)?
            {
                return Ok(answer);
            }
        }
        Err(busy(arn))
    }

    /// Publishes the machine's current revision and settings as a version; a revision
    /// already published answers its version (with its own date). `revision_id`, when
    /// given, must be the current one (`INITIAL` for a machine never changed).
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`], [`Error::VersionConflict`] for another
    /// revision, [`Error::QuotaExceeded`] at 1,000 versions, store failures.
    #[tracing::instrument(level = "debug", name = "service.publish_state_machine_version", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn publish(
        &self,
        tenant: &Tenant,
        arn: &str,
        revision_id: Option<&str>,
        description: Option<String>,
    ) -> Result<(String, Millis)> {
        let name = arns::machine_name(&self.region, tenant, arn)?;
        self.decide(tenant, &name, arn, |m| {
            if let Some(given) = revision_id {
                let current = given == m.revision_id || (given == "INITIAL" && !m.revised);
                if !current {
                    return Err(Error::VersionConflict(format!(
                        "Failed to publish the State Machine version for revision {given}. The current State Machine revision is {}.",
                        m.revision_id
                    )));
                }
            }
            let versions = self.store.version_list(&tenant.id, &m.name)?;
            let published = versions.iter().find(|v| {
                v.revision_id == m.revision_id
                    && v.role_arn == m.role_arn
                    && v.logging == m.logging
                    && v.tracing == m.tracing
            });
            if let Some(v) = published {
                return Ok(((arn::version(&m.arn, v.number), v.created), None));
            }
            if versions.len() >= MAX_VERSIONS {
                return Err(Error::QuotaExceeded(format!(
                    "Maximum number of versions ({MAX_VERSIONS}) reached for state machine '{}'.",
                    m.arn
                )));
            }
            let version = Version {
                number: m.last_version + 1,
                revision_id: m.revision_id.clone(),
                initial: !m.revised,
                machine_type: m.machine_type,
                role_arn: m.role_arn.clone(),
                logging: m.logging.clone(),
                tracing: m.tracing.clone(),
                description: description.clone(),
                created: self.clock.now(),
            };
            let next = StateMachine {
                last_version: version.number,
                ..m.clone()
            };
            let answer = (arn::version(&m.arn, version.number), version.created);
            Ok((answer, Some((next, vec![VersionChange::PutVersion(version)]))))
        })
    }

    /// A machine's versions, newest first, `limit` at a time.
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`], [`Error::InvalidToken`], store failures.
    #[tracing::instrument(level = "debug", name = "service.list_state_machine_versions", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn versions(
        &self,
        tenant: &Tenant,
        arn: &str,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<Listed>> {
        let (machine, _) = self.load(tenant, arn)?;
        let mut versions = self.store.version_list(&tenant.id, &machine.name)?;
        versions.reverse();
        let listed = versions
            .iter()
            .map(|v| Listed {
                arn: arn::version(&machine.arn, v.number),
                created: v.created,
            })
            .collect();
        page_of(listed, limit, next_token)
    }

    /// Deletes a version; one that does not exist is a success, as on AWS. A version an
    /// alias routes to stays. Its running executions keep running: they pinned its
    /// revision.
    ///
    /// # Errors
    /// [`Error::InvalidArn`] for an ARN that names no version, [`Error::VersionConflict`]
    /// while aliases route to it, store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_state_machine_version", skip_all, fields(tenant = %tenant.id, version = %arn))]
    pub fn delete_version(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        let (name, number) = match arns::machine_target_in(&self.region, &tenant.account, arn) {
            Ok((name, Some(Qualifier::Version(n)))) => (name, n),
            Ok(_) => return Err(not_a(arn)),
            Err(Error::StateMachineDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if self.store.machine_get(&tenant.id, &name)?.is_none() {
            return Ok(());
        }
        let outcome = self.decide(tenant, &name, arn, |m| {
            if self.store.version_get(&tenant.id, &name, number)?.is_none() {
                return Ok(((), None));
            }
            let routing: Vec<String> = self
                .store
                .alias_list(&tenant.id, &name)?
                .into_iter()
                .filter(|a| a.routing.iter().any(|w| w.version == number))
                .map(|a| a.name)
                .collect();
            if !routing.is_empty() {
                return Err(Error::VersionConflict(format!(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                    routing.join(", ")
                )));
            }
            Ok(((), Some((m.clone(), vec![VersionChange::DeleteVersion(number)]))))
        });
        match outcome {
            Err(Error::StateMachineDoesNotExist(_)) => Ok(()),
            other => other,
        }
    }

    /// Creates an alias routing to one or two versions of one machine. Creating it again
    /// the same answers the existing one.
    ///
    /// # Errors
    /// [`Error::InvalidVersioning`] for a name or routing that breaks AWS's rules,
    /// [`Error::VersionOrAliasDoesNotExist`] for a version that does not exist,
    /// [`Error::VersionConflict`] for an alias of that name routing otherwise,
    /// [`Error::QuotaExceeded`] at 100 aliases, store failures.
    #[tracing::instrument(level = "debug", name = "service.create_state_machine_alias", skip_all, fields(tenant = %tenant.id, alias = %name))]
    pub fn create_alias(
        &self,
        tenant: &Tenant,
        name: &str,
        description: Option<String>,
        routing: &[(String, i64)],
    ) -> Result<(String, Millis)> {
        check_alias_name(name)?;
        let (machine, weighted) = self.routing(tenant, None, routing)?;
        let machine_arn = arn::state_machine(&self.region, &tenant.account, &machine);
        let alias_arn = arn::alias(&machine_arn, name);
        let description = description.filter(|d| !d.is_empty());
        let outcome = self.decide(tenant, &machine, &machine_arn, |m| {
            self.routes_exist(tenant, &machine, &weighted)?;
            let aliases = self.store.alias_list(&tenant.id, &machine)?;
            if let Some(existing) = aliases.iter().find(|a| a.name == name) {
                return match existing.routing == weighted && existing.description == description
                {
                    true => Ok(((alias_arn.clone(), existing.created), None)),
                    false => Err(Error::VersionConflict("Failed to create alias because an alias with the same name and a different routing configuration already exists.".into())),
                };
            }
            if aliases.len() >= MAX_ALIASES {
                return Err(Error::QuotaExceeded(format!(
                    "Maximum number of aliases ({MAX_ALIASES}) reached for state machine '{machine_arn}'."
                )));
            }
            let now = self.clock.now();
            let alias = Alias {
                name: name.to_string(),
                description: description.clone(),
                routing: weighted.clone(),
                created: now,
                updated: now,
            };
            let write = (m.clone(), vec![VersionChange::PutAlias(alias)]);
            Ok(((alias_arn.clone(), now), Some(write)))
        });
        match outcome {
            Err(Error::StateMachineDoesNotExist(_)) => Err(Error::VersionOrAliasDoesNotExist),
            other => other,
        }
    }

    /// An alias.
    ///
    /// # Errors
    /// [`Error::InvalidArn`] for an ARN that names no alias,
    /// [`Error::VersionOrAliasDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.describe_state_machine_alias", skip_all, fields(tenant = %tenant.id, alias = %arn))]
    pub fn describe_alias(&self, tenant: &Tenant, arn: &str) -> Result<DescribedAlias> {
        let (machine, name) = self.alias_target(tenant, arn)?;
        let alias = self
            .store
            .alias_get(&tenant.id, &machine, &name)?
            .ok_or(Error::VersionOrAliasDoesNotExist)?;
        let machine_arn = arn::state_machine(&self.region, &tenant.account, &machine);
        let routing = alias
            .routing
            .iter()
            .map(|w| (arn::version(&machine_arn, w.version), w.weight))
            .collect();
        Ok(DescribedAlias {
            arn: arn.to_string(),
            alias,
            routing,
        })
    }

    /// Changes an alias's description, routing or both; answers when it changed.
    ///
    /// # Errors
    /// [`Error::InvalidArn`], [`Error::InvalidVersioning`] (neither given, or a routing
    /// that breaks AWS's rules or names another machine's versions),
    /// [`Error::VersionOrAliasDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.update_state_machine_alias", skip_all, fields(tenant = %tenant.id, alias = %arn))]
    pub fn update_alias(
        &self,
        tenant: &Tenant,
        arn: &str,
        description: Option<String>,
        routing: Option<&[(String, i64)]>,
    ) -> Result<Millis> {
        if description.is_none() && routing.is_none() {
            return Err(Error::InvalidVersioning(
                "Either the description or the RoutingConfiguration must be specified".into(),
            ));
        }
        let (machine, name) = self.alias_target(tenant, arn)?;
        let weighted = match routing {
            Some(r) => Some(self.routing(tenant, Some(&machine), r)?.1),
            None => None,
        };
        let outcome = self.decide(tenant, &machine, arn, |m| {
            let mut alias = self
                .store
                .alias_get(&tenant.id, &machine, &name)?
                .ok_or(Error::VersionOrAliasDoesNotExist)?;
            if let Some(w) = &weighted {
                self.routes_exist(tenant, &machine, w)?;
                alias.routing = w.clone();
            }
            if let Some(d) = &description {
                alias.description = Some(d.clone()).filter(|d| !d.is_empty());
            }
            alias.updated = self.clock.now();
            let updated = alias.updated;
            Ok((
                updated,
                Some((m.clone(), vec![VersionChange::PutAlias(alias)])),
            ))
        });
        match outcome {
            Err(Error::StateMachineDoesNotExist(_)) => Err(Error::VersionOrAliasDoesNotExist),
            other => other,
        }
    }

    /// Deletes an alias (its versions stay); one that does not exist is a success.
    ///
    /// # Errors
    /// [`Error::InvalidArn`] for an ARN that names no alias, store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_state_machine_alias", skip_all, fields(tenant = %tenant.id, alias = %arn))]
    pub fn delete_alias(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        let (machine, name) = self.alias_target(tenant, arn)?;
        let outcome = self.decide(tenant, &machine, arn, |m| {
            match self.store.alias_get(&tenant.id, &machine, &name)? {
                None => Ok(((), None)),
                Some(_) => Ok((
                    (),
                    Some((m.clone(), vec![VersionChange::DeleteAlias(name.clone())])),
                )),
            }
        });
        match outcome {
            Err(Error::StateMachineDoesNotExist(_)) => Ok(()),
            other => other,
        }
    }

    /// A machine's aliases (or, for a version's ARN, those routing to the version), in
    /// the order they were created, `limit` at a time.
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`], [`Error::VersionOrAliasDoesNotExist`] for a
    /// version that does not exist, [`Error::InvalidToken`], store failures.
    #[tracing::instrument(level = "debug", name = "service.list_state_machine_aliases", skip_all, fields(tenant = %tenant.id, machine = %arn))]
    pub fn aliases(
        &self,
        tenant: &Tenant,
        arn: &str,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<Listed>> {
        let (name, qualifier) = arns::machine_target_in(&self.region, &tenant.account, arn)?;
        let version = match qualifier {
            None => None,
            Some(Qualifier::Version(n)) => Some(n),
            Some(Qualifier::Alias(_)) => return Err(not_a(arn)),
        };
        let machine = self
            .store
            .machine_get(&tenant.id, &name)?
            .ok_or_else(|| Error::StateMachineDoesNotExist(arn.to_string()))?;
        if let Some(n) = version {
            if self.store.version_get(&tenant.id, &name, n)?.is_none() {
                return Err(Error::VersionOrAliasDoesNotExist);
            }
        }
        let mut aliases: Vec<Alias> = self
            .store
            .alias_list(&tenant.id, &name)?
            .into_iter()
            .filter(|a| version.is_none_or(|n| a.routing.iter().any(|w| w.version == n)))
            .collect();
        aliases.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        let listed = aliases
            .iter()
            .map(|a| Listed {
                arn: arn::alias(&machine.arn, &a.name),
                created: a.created,
            })
            .collect();
        page_of(listed, limit, next_token)
    }

    /// The machine and alias name an alias's ARN names.
    fn alias_target(&self, tenant: &Tenant, arn: &str) -> Result<(String, String)> {
        match arns::machine_target_in(&self.region, &tenant.account, arn) {
            Ok((machine, Some(Qualifier::Alias(name)))) => Ok((machine, name)),
            Ok(_) => Err(not_a(arn)),
            Err(Error::StateMachineDoesNotExist(_)) => Err(Error::VersionOrAliasDoesNotExist),
            Err(e) => Err(e),
        }
    }

    /// Checks a routing configuration by AWS's rules, in AWS's order: its size and
    /// weights, distinct versions, weights summing to 100, version ARNs of one machine
    /// (`machine`, when the alias has one already). Answers the machine and the routing.
    fn routing(
        &self,
        tenant: &Tenant,
        machine: Option<&str>,
        routing: &[(String, i64)],
    ) -> Result<(String, Vec<Weighted>)> {
        let invalid = |m: String| Err(Error::InvalidVersioning(m));
        if routing.len() > 2 {
            let items: Vec<String> = routing
                .iter()
                .map(|(arn, w)| {
                    format!(
                        "RoutingConfigurationListItem(stateMachineVersionArn={arn}, weight={w})"
                    )
                })
                .collect();
            return invalid(format!(
                "1 validation error detected: Value '[{}]' at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2",
                items.join(", ")
            ));
        }
        if routing.is_empty() {
            return invalid("1 validation error detected: Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1".into());
        }
        for (i, (_, w)) in routing.iter().enumerate() {
            let at = format!("routingConfiguration.{}.member.weight", i + 1);
            if *w > 100 {
                return invalid(format!("1 validation error detected: Value '{w}' at '{at}' failed to satisfy constraint: Member must have value less than or equal to 100"));
            }
            if *w < 0 {
                return invalid(format!("1 validation error detected: Value '{w}' at '{at}' failed to satisfy constraint: Member must have value greater than or equal to 0"));
            }
        }
        let arns: Vec<&str> = routing.iter().map(|(a, _)| a.as_str()).collect();
        let listed = format!("[{}]", arns.join(", "));
        if routing.len() == 2 && arns.first() == arns.get(1) {
            return invalid(format!(
                "Routing configuration must contain distinct state machine version ARNs. Received: {listed}"
            ));
        }
        let total: i64 = routing.iter().map(|(_, w)| w).sum();
        if total != 100 {
            let weights: Vec<String> = routing.iter().map(|(_, w)| w.to_string()).collect();
            return invalid(format!(
                "Sum of routing configuration weights must equal 100. Received: [{}]",
                weights.join(", ")
            ));
        }
        let mut named: Vec<(String, Weighted)> = Vec::with_capacity(routing.len());
        for (arn, w) in routing {
            match arns::machine_target_in(&self.region, &tenant.account, arn) {
                Ok((m, Some(Qualifier::Version(version)))) => named.push((
                    m,
                    Weighted {
                        version,
                        weight: u8::try_from(*w).unwrap_or(100),
                    },
                )),
                Err(Error::StateMachineDoesNotExist(_)) => {
                    return Err(Error::VersionOrAliasDoesNotExist)
                }
                _ => {
                    return invalid(format!(
                        "Routing configuration must contain state machine version ARNs. Received: {listed}"
                    ))
                }
            }
        }
        let first = named.first().map(|(m, _)| m.clone()).unwrap_or_default();
        let own = machine.unwrap_or(&first);
        if named.iter().any(|(m, _)| m != own) {
            return invalid(format!(
                "Routing configuration must reference versions of the same state machine{}. Received: {listed}",
                if machine.is_some() { " as the alias" } else { "" }
            ));
        }
        Ok((own.to_string(), named.into_iter().map(|(_, w)| w).collect()))
    }

    /// Every version a routing names exists.
    fn routes_exist(&self, tenant: &Tenant, machine: &str, routing: &[Weighted]) -> Result<()> {
        for w in routing {
            if self
                .store
                .version_get(&tenant.id, machine, w.version)?
                .is_none()
            {
                return Err(Error::VersionOrAliasDoesNotExist);
            }
        }
        Ok(())
    }
}

/// AWS's alias name rule, with its message.
fn check_alias_name(name: &str) -> Result<()> {
    let failed = if name.len() > 80 {
        "Member must have length less than or equal to 80"
    } else if name.is_empty() {
        "Member must have length greater than or equal to 1"
    } else if !arn::valid_alias_name(name) {
        r"Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"
    } else {
        return Ok(());
    };
    Err(Error::InvalidVersioning(format!(
        "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: {failed}"
    )))
}

/// An ARN of a kind the action does not take (a machine's or version's for an alias).
fn not_a(arn: &str) -> Error {
    Error::WrongResource {
        kind: "stateMachine",
        arn: arn.to_string(),
    }
}

/// The version an alias starts: a draw in proportion to the weights (a weight of 0 is
/// never drawn).
fn pick(routing: &[Weighted], entropy: u64) -> u64 {
    let draw = entropy % 100;
    let mut below = 0u64;
    for w in routing {
        below += u64::from(w.weight);
        if draw < below {
            return w.version;
        }
    }
    routing.last().map(|w| w.version).unwrap_or(0)
}

/// A page of a listing held whole (at most 1,000 versions or 100 aliases): the token is
/// the ARN the previous page ended with.
fn page_of(listed: Vec<Listed>, limit: usize, next_token: Option<&str>) -> Result<Page<Listed>> {
    let start = match next_token {
        None => 0,
        Some(token) => {
            let invalid = || Error::InvalidToken("Invalid token".into());
            let after = paging::decode_token(token).map_err(|_| invalid())?;
            listed
                .iter()
                .position(|l| l.arn == after)
                .map(|i| i + 1)
                .ok_or_else(invalid)?
        }
    };
    let items: Vec<Listed> = listed.into_iter().skip(start).collect();
    let more = items.len() > limit;
    let items: Vec<Listed> = items.into_iter().take(limit).collect();
    let next_token = more
        .then(|| items.last().map(|l| paging::encode_token(&l.arn)))
        .flatten();
    Ok(Page { items, next_token })
}

#[cfg(test)]
mod tests;
