//! The tenant's resource bindings: a Task resource pattern played by a module, so that a
//! definition calling a service Sandstep does not host runs unchanged. A start pins what
//! its bindings resolve to ([`Bindings::pins`]); validation warns of each resource that
//! nothing runs ([`Bindings::unrun`]).

use super::{Error, Result};
use crate::bindings::{best, check_pattern};
use crate::model::Bound;
use crate::pins::{resources_in, tasks_in};
use crate::store::bindings::Binding;
use crate::store::{Bindings as _, Modules as _, Store, TenantId};
use crate::tenants::Tenant;
use sandstep_engine::validate::{Diagnostic, Severity};
use serde_json::Value;
use std::collections::BTreeMap;

/// The code of the warning for a Task resource nothing runs.
pub const UNBOUND_RESOURCE: &str = "UNBOUND_RESOURCE";

/// Bindings of the tenants.
#[derive(Debug, Clone)]
pub struct Bindings {
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl Bindings {
    /// The bindings in `store`.
    pub fn new(store: Store, clock: std::sync::Arc<dyn crate::clock::Clock>) -> Bindings {
        Bindings { store, clock }
    }

    /// Binds `resource` (an exact resource, or a prefix ending in `*`) to `module`
    /// (`name` or `name:version`), replacing the pattern's binding if it had one. The
    /// module must exist: a binding to nothing would fail every task it covers.
    ///
    /// # Errors
    /// [`Error::InvalidBinding`], [`Error::ModuleDoesNotExist`],
    /// [`Error::ModuleVersionDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.put_binding", skip_all, fields(tenant = %tenant.id))]
    pub fn put(&self, tenant: &Tenant, resource: &str, module: &str) -> Result<Binding> {
        check_pattern(resource).map_err(|e| Error::InvalidBinding(e.to_string()))?;
        let reference = crate::pins::parse_function(module).ok_or_else(|| {
            Error::InvalidBinding(format!(
                "module must be 'name' or 'name:version', not '{module}'"
            ))
        })?;
        if self
            .store
            .module_version(&tenant.id, &reference.name, reference.version)?
            .is_none()
        {
            return Err(match reference.version {
                Some(version) => Error::ModuleVersionDoesNotExist {
                    name: reference.name,
                    version,
                },
                None => Error::ModuleDoesNotExist(reference.name),
            });
        }
        let binding = Binding {
            resource: resource.to_string(),
            module: reference.name,
            version: reference.version,
            modified: self.clock.now(),
        };
        self.store.binding_put(&tenant.id, &binding)?;
        Ok(binding)
    }

    /// The tenant's bindings, by pattern.
    ///
    /// # Errors
    /// Store failures.
    pub fn list(&self, tenant: &Tenant) -> Result<Vec<Binding>> {
        Ok(self.store.binding_list(&tenant.id)?)
    }

    /// Deletes the binding of the pattern `resource`. Running executions keep what they
    /// pinned.
    ///
    /// # Errors
    /// [`Error::BindingDoesNotExist`], store failures.
    pub fn delete(&self, tenant: &Tenant, resource: &str) -> Result<()> {
        match self.store.binding_delete(&tenant.id, resource)? {
            true => Ok(()),
            false => Err(Error::BindingDoesNotExist(resource.to_string())),
        }
    }

    /// What the bindings of `tenant` make of the Task resources in `definition`, as an
    /// execution pins them at its start: resource → the module version that plays it.
    /// A binding whose module is gone covers nothing (its tasks fail as unbound).
    ///
    /// # Errors
    /// Store failures.
    pub fn pins(&self, tenant: &TenantId, definition: &Value) -> Result<BTreeMap<String, Bound>> {
        let resources = resources_in(definition);
        if resources.is_empty() {
            return Ok(BTreeMap::new());
        }
        let bindings = self.store.binding_list(tenant)?;
        let mut pinned = BTreeMap::new();
        for resource in resources {
            let Some(pattern) = best(bindings.iter().map(|b| b.resource.as_str()), &resource)
            else {
                continue;
            };
            let Some(binding) = bindings.iter().find(|b| b.resource == pattern) else {
                continue;
            };
            if let Some(v) = self
                .store
                .module_version(tenant, &binding.module, binding.version)?
            {
                pinned.insert(
                    resource,
                    Bound {
                        binding: binding.resource.clone(),
                        module: v.name.clone(),
                        version: v.version,
                        sha256: v.sha256,
                    },
                );
            }
        }
        Ok(pinned)
    }

    /// The validator's diagnostics for `definition`, then, when it has no error, a warning
    /// for each Task resource nothing runs for `tenant`: what ValidateStateMachineDefinition
    /// and the console's editor report.
    ///
    /// # Errors
    /// Store failures.
    pub fn validate(
        &self,
        tenant: &TenantId,
        definition: &str,
        machine_type: sandstep_engine::validate::MachineType,
    ) -> Result<Vec<Diagnostic>> {
        let mut found = super::machines::diagnostics(definition, machine_type);
        if !found.iter().any(|d| d.severity == Severity::Error) {
            found.extend(self.unrun(tenant, definition)?);
        }
        Ok(found)
    }

    /// A warning for each Task state of `definition` whose resource neither Sandstep's
    /// integrations nor a binding of `tenant` runs: AWS accepts such a definition, and
    /// its executions fail only when they reach the state.
    ///
    /// # Errors
    /// Store failures.
    pub fn unrun(&self, tenant: &TenantId, definition: &str) -> Result<Vec<Diagnostic>> {
        let Ok(definition) = serde_json::from_str::<Value>(definition) else {
            return Ok(Vec::new());
        };
        let mut unrun = Vec::new();
        tasks_in(&definition, &mut |task, resource| {
            if !crate::tasks::runs(resource) && !resource.contains("{%") {
                unrun.push((task.path.to_string(), resource.to_string()));
            }
        });
        if unrun.is_empty() {
            return Ok(Vec::new());
        }
        let bindings = self.store.binding_list(tenant)?;
        Ok(unrun
            .into_iter()
            .filter(|(_, resource)| {
                best(bindings.iter().map(|b| b.resource.as_str()), resource).is_none()
            })
            .map(|(path, resource)| Diagnostic {
                severity: Severity::Warning,
                code: UNBOUND_RESOURCE,
                location: format!("{path}/Resource"),
                message: crate::bindings::unbound_message(&resource),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::Grants;
    use crate::store::modules::{ModuleKind, ModuleVersion};
    use serde_json::json;

    fn tenant(_: &Store) -> Tenant {
        crate::tenants::default_tenant()
    }

    fn module(store: &Store, tenant: &TenantId, name: &str) -> ModuleVersion {
        let record = ModuleVersion {
            name: name.into(),
            version: 0,
            sha256: format!("{name}-sha"),
            kind: ModuleKind::Component,
            imports: vec![],
            exports: vec!["run".into()],
            grants: Grants::none(),
            size: 4,
            created: 0,
        };
        store.module_add(tenant, record, b"\0asm").unwrap()
    }

    #[test]
    fn a_start_pins_the_most_specific_binding_of_each_resource() {
        let store = Store::memory();
        let t = tenant(&store);
        let clock = std::sync::Arc::new(crate::clock::ManualClock::at(5));
        let b = Bindings::new(store.clone(), clock);
        module(&store, &t.id, "any");
        module(&store, &t.id, "labels");
        b.put(&t, "arn:aws:states:::aws-sdk:*", "any").unwrap();
        b.put(&t, "arn:aws:states:::aws-sdk:rekognition:*", "labels:1")
            .unwrap();
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:rekognition:detectLabels", "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:translate:translateText", "Next": "C"},
            "C": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": true}}});
        let pins = b.pins(&t.id, &def).unwrap();
        assert_eq!(pins.len(), 2, "{pins:?}");
        let labels = &pins["arn:aws:states:::aws-sdk:rekognition:detectLabels"];
        assert_eq!(
            (
                labels.module.as_str(),
                labels.version,
                labels.binding.as_str()
            ),
            ("labels", 1, "arn:aws:states:::aws-sdk:rekognition:*")
        );
        assert_eq!(
            pins["arn:aws:states:::aws-sdk:translate:translateText"].module,
            "any"
        );
        // A new version of the module is what the next start pins, not this one's.
        module(&store, &t.id, "any");
        assert_eq!(
            b.pins(&t.id, &def).unwrap()["arn:aws:states:::aws-sdk:translate:translateText"]
                .version,
            2
        );
    }

    #[test]
    fn bindings_are_checked_and_unrun_resources_warned_of() {
        let store = Store::memory();
        let t = tenant(&store);
        let clock = std::sync::Arc::new(crate::clock::ManualClock::at(5));
        let b = Bindings::new(store.clone(), clock);
        assert!(matches!(
            b.put(&t, "arn:aws:*:x", "m"),
            Err(Error::InvalidBinding(_))
        ));
        assert!(matches!(
            b.put(&t, "arn:aws:states:::glue:*", "m"),
            Err(Error::ModuleDoesNotExist(_))
        ));
        module(&store, &t.id, "m");
        assert!(matches!(
            b.put(&t, "arn:aws:states:::glue:*", "m:4"),
            Err(Error::ModuleVersionDoesNotExist { version: 4, .. })
        ));
        assert!(matches!(
            b.put(&t, "arn:aws:states:::glue:*", "m x"),
            Err(Error::InvalidBinding(_))
        ));
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Next": "C"},
            "C": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "D", "States": {
                "D": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:athena:startQueryExecution", "End": true}}}]}}})
        .to_string();
        let found = b.unrun(&t.id, &def).unwrap();
        let locations: Vec<&str> = found.iter().map(|d| d.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                "/States/A/Resource",
                "/States/C/Branches/0/States/D/Resource"
            ]
        );
        assert!(found.iter().all(|d| d.severity == Severity::Warning));
        assert!(found[0].message.contains("sandstep binding set"));
        b.put(&t, "arn:aws:states:::glue:*", "m").unwrap();
        assert_eq!(b.unrun(&t.id, &def).unwrap().len(), 1, "glue is bound now");
        b.delete(&t, "arn:aws:states:::glue:*").unwrap();
        assert!(matches!(
            b.delete(&t, "arn:aws:states:::glue:*"),
            Err(Error::BindingDoesNotExist(_))
        ));
    }
}
