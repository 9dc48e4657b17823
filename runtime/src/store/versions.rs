//! State machines' published versions and aliases. Every change is written together with
//! the machine's record, and only if that record is still the one the change was decided
//! on: two publishes, or an alias change and a version delete, made at once cannot both
//! pass their checks (the loser reads again and decides again).

use super::backend::{Guard, Write};
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use crate::model::{Alias, StateMachine, Version};

/// One change to a machine's versions or aliases.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionChange {
    /// Writes a version.
    PutVersion(Version),
    /// Removes a version.
    DeleteVersion(u64),
    /// Writes an alias.
    PutAlias(Alias),
    /// Removes an alias.
    DeleteAlias(String),
}

/// Versions and aliases of state machines.
pub trait MachineVersions: Send + Sync {
    /// Writes `machine` and `changes` atomically, only if the machine's stored record
    /// still equals `read`; returns whether it did.
    ///
    /// # Errors
    /// When the store fails; then nothing was written.
    fn versions_change(
        &self,
        tenant: &TenantId,
        read: &StateMachine,
        machine: &StateMachine,
        changes: &[VersionChange],
    ) -> Result<bool>;

    /// A version of a machine.
    ///
    /// # Errors
    /// When the store fails.
    fn version_get(&self, tenant: &TenantId, machine: &str, number: u64)
        -> Result<Option<Version>>;

    /// A machine's versions, oldest (lowest number) first.
    ///
    /// # Errors
    /// When the store fails.
    fn version_list(&self, tenant: &TenantId, machine: &str) -> Result<Vec<Version>>;

    /// An alias of a machine.
    ///
    /// # Errors
    /// When the store fails.
    fn alias_get(&self, tenant: &TenantId, machine: &str, name: &str) -> Result<Option<Alias>>;

    /// A machine's aliases, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn alias_list(&self, tenant: &TenantId, machine: &str) -> Result<Vec<Alias>>;

    /// Removes every version and alias of a machine (it was deleted).
    ///
    /// # Errors
    /// When the store fails.
    fn versions_forget(&self, tenant: &TenantId, machine: &str) -> Result<()>;
}

fn version_key(tenant: &TenantId, machine: &str, number: u64) -> Vec<u8> {
    Key::of(Table::MachineVersion, tenant)
        .text(machine)
        .number(number)
        .into_bytes()
}

fn alias_key(tenant: &TenantId, machine: &str, name: &str) -> Vec<u8> {
    Key::of(Table::MachineAlias, tenant)
        .text(machine)
        .text(name)
        .into_bytes()
}

pub(super) fn machine_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::StateMachine, tenant).text(name).into_bytes()
}

impl Store {
    /// Writes `machine` and `extra` atomically, only if the stored record of the machine
    /// still equals `read` (compared as records, guarded on the bytes read, so a record
    /// stored by an older version of Sandstep compares by its meaning).
    pub(super) fn machine_swap(
        &self,
        tenant: &TenantId,
        read: &StateMachine,
        machine: &StateMachine,
        mut extra: Vec<Write>,
    ) -> Result<bool> {
        let key = machine_key(tenant, &read.name);
        let Some(current) = self.backend().get(&key)? else {
            return Ok(false);
        };
        if decode::<StateMachine>(&current)? != *read {
            return Ok(false);
        }
        let mut writes = vec![Write::Put(key.clone(), encode(machine)?)];
        writes.append(&mut extra);
        if !self
            .backend()
            .apply_guarded(&[Guard::Equals(&key, &current)], writes)?
        {
            return Ok(false);
        }
        self.backend().durable()?;
        Ok(true)
    }

    fn scan_all<T: serde::de::DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>> {
        self.backend()
            .scan(prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

impl MachineVersions for Store {
    fn versions_change(
        &self,
        tenant: &TenantId,
        read: &StateMachine,
        machine: &StateMachine,
        changes: &[VersionChange],
    ) -> Result<bool> {
        let name = &read.name;
        let mut writes = Vec::with_capacity(changes.len());
        for change in changes {
            writes.push(match change {
                VersionChange::PutVersion(v) => {
                    Write::Put(version_key(tenant, name, v.number), encode(v)?)
                }
                VersionChange::DeleteVersion(n) => Write::Delete(version_key(tenant, name, *n)),
                VersionChange::PutAlias(a) => {
                    Write::Put(alias_key(tenant, name, &a.name), encode(a)?)
                }
                VersionChange::DeleteAlias(a) => Write::Delete(alias_key(tenant, name, a)),
            });
        }
        self.machine_swap(tenant, read, machine, writes)
    }

    fn version_get(
        &self,
        tenant: &TenantId,
        machine: &str,
        number: u64,
    ) -> Result<Option<Version>> {
        self.backend()
            .get(&version_key(tenant, machine, number))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn version_list(&self, tenant: &TenantId, machine: &str) -> Result<Vec<Version>> {
        self.scan_all(
            &Key::of(Table::MachineVersion, tenant)
                .text(machine)
                .into_bytes(),
        )
    }

    fn alias_get(&self, tenant: &TenantId, machine: &str, name: &str) -> Result<Option<Alias>> {
        self.backend()
            .get(&alias_key(tenant, machine, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn alias_list(&self, tenant: &TenantId, machine: &str) -> Result<Vec<Alias>> {
        self.scan_all(
            &Key::of(Table::MachineAlias, tenant)
                .text(machine)
                .into_bytes(),
        )
    }

    fn versions_forget(&self, tenant: &TenantId, machine: &str) -> Result<()> {
        let mut writes = Vec::new();
        for table in [Table::MachineVersion, Table::MachineAlias] {
            let prefix = Key::of(table, tenant).text(machine).into_bytes();
            for (key, _) in self.backend().scan(&prefix, None, usize::MAX)? {
                writes.push(Write::Delete(key));
            }
        }
        self.backend().apply(writes)?;
        self.backend().durable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MachineType, Weighted};
    use crate::store::StateMachines as _;

    fn machine(name: &str) -> StateMachine {
        StateMachine {
            name: name.into(),
            arn: format!("arn:aws:states:us-east-1:000000000000:stateMachine:{name}"),
            machine_type: MachineType::Standard,
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            revision_id: "r1".into(),
            created: 0,
            updated: 0,
            description: None,
            logging: None,
            tracing: None,
            revised: false,
            last_version: 0,
            generation: 0,
        }
    }

    fn version(number: u64) -> Version {
        Version {
            number,
            revision_id: "r1".into(),
            initial: true,
            machine_type: MachineType::Standard,
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            logging: None,
            tracing: None,
            description: None,
            created: 0,
        }
    }

    #[test]
    fn a_change_decided_on_a_stale_record_is_not_written() {
        for store in crate::store::testing::stores() {
            let t = TenantId("t".into());
            let read = machine("m");
            store.machine_put(&t, &read, None).unwrap();
            // "m" and "m2" share a prefix: listing one never shows the other's versions.
            store.machine_put(&t, &machine("m2"), None).unwrap();
            let first = StateMachine {
                last_version: 1,
                generation: 1,
                ..read.clone()
            };
            let publish = [VersionChange::PutVersion(version(1))];
            assert!(store.versions_change(&t, &read, &first, &publish).unwrap());
            // A second writer that read the same record loses, and writes nothing.
            let alias = Alias {
                name: "prod".into(),
                description: None,
                routing: vec![Weighted {
                    version: 1,
                    weight: 100,
                }],
                created: 0,
                updated: 0,
            };
            let stale = [VersionChange::PutAlias(alias.clone())];
            assert!(!store.versions_change(&t, &read, &first, &stale).unwrap());
            assert_eq!(store.alias_list(&t, "m").unwrap(), vec![]);
            let second = StateMachine {
                generation: 2,
                ..first.clone()
            };
            assert!(store.versions_change(&t, &first, &second, &stale).unwrap());
            assert_eq!(store.alias_get(&t, "m", "prod").unwrap(), Some(alias));
            assert_eq!(store.version_list(&t, "m").unwrap(), vec![version(1)]);
            assert_eq!(store.version_list(&t, "m2").unwrap(), vec![]);
            assert_eq!(store.machine_get(&t, "m").unwrap(), Some(second));

            store.versions_forget(&t, "m").unwrap();
            assert_eq!(store.version_get(&t, "m", 1).unwrap(), None);
            assert_eq!(store.alias_list(&t, "m").unwrap(), vec![]);
        }
    }

    #[test]
    fn versions_list_in_number_order() {
        for store in crate::store::testing::stores() {
            let t = TenantId("t".into());
            let mut read = machine("m");
            store.machine_put(&t, &read, None).unwrap();
            for n in [2, 10, 1] {
                let next = StateMachine {
                    generation: read.generation + 1,
                    ..read.clone()
                };
                let put = [VersionChange::PutVersion(version(n))];
                assert!(store.versions_change(&t, &read, &next, &put).unwrap());
                read = next;
            }
            let numbers: Vec<u64> = store
                .version_list(&t, "m")
                .unwrap()
                .iter()
                .map(|v| v.number)
                .collect();
            assert_eq!(numbers, [1, 2, 10]);
        }
    }
}
