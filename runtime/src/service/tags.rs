//! TagResource, UntagResource, ListTagsForResource: the tags of the caller's state
//! machines and activities, kept under the resource's own ARN within AWS's bounds.

use super::{arns, Error, Result};
use crate::store::tags::TagMap;
use crate::store::{Activities as _, StateMachines as _, Store, Tags as _};
use crate::tenants::Tenant;

/// The prefix AWS reserves for its own tags (in any case): callers cannot set such keys.
const RESERVED_PREFIX: &str = "aws:";

/// The most tags a resource may carry.
const MAX_TAGS: usize = 50;

/// Whether a tag key is one only AWS may set.
fn reserved(key: &str) -> bool {
    key.get(..RESERVED_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_PREFIX))
}

/// Checks tags a caller gives against AWS's rules, in order: the first tag that breaks
/// one decides the error.
///
/// # Errors
/// [`Error::TagOutOfBounds`], [`Error::ReservedTagKey`], [`Error::TooManyTags`].
pub fn check(tags: &[(String, String)]) -> Result<()> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(Error::TagOutOfBounds(k.clone()));
        }
        if reserved(k) {
            return Err(Error::ReservedTagKey {
                key: k.clone(),
                prefix: RESERVED_PREFIX,
            });
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::TooManyTags(MAX_TAGS));
    }
    Ok(())
}

/// The tags of the tenant's state machines.
#[derive(Debug, Clone)]
pub struct Tags {
    store: Store,
    region: String,
}

impl Tags {
    /// The tags in `store`, for ARNs in `region`.
    pub fn new(store: Store, region: &str) -> Tags {
        Tags {
            store,
            region: region.to_string(),
        }
    }

    /// The stored ARN of the machine `arn` names. Another tenant's (or region's) machine
    /// is a resource not found, as a missing one.
    fn existing(&self, tenant: &Tenant, arn: &str) -> Result<String> {
        let not_found = || Error::ResourceNotFound(arn.to_string());
        let absent_as_not_found = |e| match e {
            Error::StateMachineDoesNotExist(_) | Error::ActivityDoesNotExist(_) => not_found(),
            other => other,
        };
        let stored = match crate::arn::Arn::parse(arn)? {
            crate::arn::Arn::Activity { .. } => {
                let name =
                    arns::activity_name(&self.region, tenant, arn).map_err(absent_as_not_found)?;
                self.store.activity_get(&tenant.id, &name)?.map(|a| a.arn)
            }
            _ => {
                let name =
                    arns::machine_name(&self.region, tenant, arn).map_err(absent_as_not_found)?;
                self.store.machine_get(&tenant.id, &name)?.map(|m| m.arn)
            }
        };
        stored.ok_or_else(not_found)
    }

    /// Adds tags to a state machine.
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`], the errors of [`check`], store failures.
    #[tracing::instrument(level = "debug", name = "service.tag_resource", skip_all, fields(tenant = %tenant.id, resource = %arn))]
    pub fn tag(&self, tenant: &Tenant, arn: &str, tags: &[(String, String)]) -> Result<()> {
        let arn = self.existing(tenant, arn)?;
        check(tags)?;
        self.change(tenant, &arn, tags, &[])
    }

    /// Removes tags from a state machine; keys it does not carry are ignored.
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`], store failures.
    #[tracing::instrument(level = "debug", name = "service.untag_resource", skip_all, fields(tenant = %tenant.id, resource = %arn))]
    pub fn untag(&self, tenant: &Tenant, arn: &str, keys: &[String]) -> Result<()> {
        let arn = self.existing(tenant, arn)?;
        self.change(tenant, &arn, &[], keys)
    }

    /// A state machine's tags.
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`], store failures.
    #[tracing::instrument(level = "debug", name = "service.list_tags", skip_all, fields(tenant = %tenant.id, resource = %arn))]
    pub fn list(&self, tenant: &Tenant, arn: &str) -> Result<TagMap> {
        let arn = self.existing(tenant, arn)?;
        Ok(self.store.tags_get(&tenant.id, &arn)?)
    }

    /// Adds `tags` to and removes `remove` from the tags stored under `arn`, within the
    /// most a resource may carry.
    ///
    /// # Errors
    /// [`Error::TooManyTags`], store failures.
    pub(crate) fn change(
        &self,
        tenant: &Tenant,
        arn: &str,
        tags: &[(String, String)],
        remove: &[String],
    ) -> Result<()> {
        let mut current = self.store.tags_get(&tenant.id, arn)?;
        current.extend(tags.iter().cloned());
        for k in remove {
            current.remove(k);
        }
        if current.len() > MAX_TAGS {
            return Err(Error::TooManyTags(MAX_TAGS));
        }
        self.store.tags_put(&tenant.id, arn, &current)?;
        Ok(())
    }

    /// Forgets the tags of a deleted resource.
    ///
    /// # Errors
    /// Store failures.
    pub(crate) fn forget(&self, tenant: &Tenant, arn: &str) -> Result<()> {
        Ok(self.store.tags_delete(&tenant.id, arn)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str) -> Vec<(String, String)> {
        vec![(key.to_string(), "v".to_string())]
    }

    #[test]
    fn reserved_prefix_is_refused_in_any_case() {
        for key in ["aws:cloudformation:stack-name", "AWS:x", "Aws:"] {
            let refused = check(&one(key));
            assert!(
                matches!(&refused, Err(e @ Error::ReservedTagKey { .. }) if e.to_string().contains("reserved")),
                "{key}: {refused:?}"
            );
        }
        for key in ["aws", "awsx:y", "my:aws:z", "é"] {
            assert!(check(&one(key)).is_ok(), "{key}");
        }
    }

    #[test]
    fn bounds_and_count() {
        assert_eq!(check(&one("")), Err(Error::TagOutOfBounds(String::new())));
        let many: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(
            check(&many).unwrap_err().to_string(),
            "A resource can have at most 50 tags"
        );
    }
}
