//! DescribeMapRun, ListMapRuns, UpdateMapRun, and ListExecutions by `mapRunArn`: a
//! Distributed Map's runs as the API shows them. The runs themselves are the scheduler's
//! (`scheduler/map_runs.rs`).

use super::{arns, paging, Error, Executions, Page, Result};
use crate::model::Status;
use crate::store::map_runs::{MapChild, MapRun, MapRunStatus};
use crate::store::MapRuns as _;
use crate::tenants::Tenant;

/// Which of a Map Run's children ListExecutions lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildFilter {
    /// Those with this status (a child not ended yet is `RUNNING`).
    Status(Status),
    /// Those that did not succeed in a run that has ended: a redrive runs them again.
    PendingRedrive,
}

/// The changes UpdateMapRun asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MapRunUpdate {
    /// `maxConcurrency`.
    pub max_concurrency: Option<u64>,
    /// `toleratedFailureCount`.
    pub tolerated_count: Option<u64>,
    /// `toleratedFailurePercentage`.
    pub tolerated_percentage: Option<f64>,
}

impl Executions {
    /// The tenant's Map Run an ARN names.
    fn map_run(&self, tenant: &Tenant, arn: &str) -> Result<MapRun> {
        let missing = || Error::MapRunDoesNotExist(arn.to_string());
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "states", region, account, "mapRun", _machine, id] => {
                if *region != self.region() || *account != tenant.account {
                    return Err(missing());
                }
                self.store.map_run_get(&tenant.id, id)?.ok_or_else(missing)
            }
            _ => Err(Error::InvalidArn(crate::arn::Error(format!(
                "Invalid ARN prefix: {arn}"
            )))),
        }
    }

    /// A Map Run.
    ///
    /// # Errors
    /// [`Error::MapRunDoesNotExist`], [`Error::InvalidArn`], failures.
    #[tracing::instrument(level = "debug", name = "service.describe_map_run", skip_all, fields(tenant = %tenant.id))]
    pub fn describe_map_run(&self, tenant: &Tenant, arn: &str) -> Result<MapRun> {
        self.map_run(tenant, arn)
    }

    /// The Map Runs an execution started, oldest first.
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], [`Error::InvalidArn`], [`Error::InvalidToken`],
    /// failures.
    #[tracing::instrument(level = "debug", name = "service.list_map_runs", skip_all, fields(tenant = %tenant.id))]
    pub fn list_map_runs(
        &self,
        tenant: &Tenant,
        execution_arn: &str,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<MapRun>> {
        let (key, express) = arns::execution_key(self.region(), tenant, execution_arn)?;
        if express || crate::store::Executions::execution_get(&self.store, &key)?.is_none() {
            return Err(Error::ExecutionDoesNotExist(execution_arn.to_string()));
        }
        let skip = match next_token {
            Some(t) => paging::decode_token(t)?
                .parse::<usize>()
                .map_err(|_| Error::InvalidToken(t.to_string()))?,
            None => 0,
        };
        let runs = self.store.map_runs_of(&key)?;
        let more = runs.len() > skip + limit;
        Ok(Page {
            items: runs.into_iter().skip(skip).take(limit).collect(),
            next_token: more.then(|| paging::encode_token(&(skip + limit).to_string())),
        })
    }

    /// Changes a running Map Run's concurrency or tolerances.
    ///
    /// # Errors
    /// [`Error::MapRunDoesNotExist`], [`Error::MapRunNotRunning`], failures.
    #[tracing::instrument(level = "debug", name = "service.update_map_run", skip_all, fields(tenant = %tenant.id))]
    pub fn update_map_run(&self, tenant: &Tenant, arn: &str, update: MapRunUpdate) -> Result<()> {
        let mut run = self.map_run(tenant, arn)?;
        if run.status != MapRunStatus::Running {
            return Err(Error::MapRunNotRunning(arn.to_string()));
        }
        run.max_concurrency = update.max_concurrency.unwrap_or(run.max_concurrency);
        run.tolerated_count = update.tolerated_count.unwrap_or(run.tolerated_count);
        run.tolerated_percentage = update
            .tolerated_percentage
            .unwrap_or(run.tolerated_percentage);
        let limits = (
            run.max_concurrency,
            run.tolerated_count,
            run.tolerated_percentage,
        );
        // The driver saves them with its counts; one not driven here is saved now.
        if !self.scheduler().update_map_run(&tenant.id, &run.id, limits) {
            self.store.map_run_put(&run)?;
        }
        Ok(())
    }

    /// A Map Run's children (ListExecutions with `mapRunArn`), in index order,
    /// optionally of one status.
    ///
    /// # Errors
    /// [`Error::MapRunDoesNotExist`], [`Error::InvalidToken`], failures.
    pub fn map_run_children(
        &self,
        tenant: &Tenant,
        arn: &str,
        filter: Option<ChildFilter>,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<MapChild>> {
        let run = self.map_run(tenant, arn)?;
        let mut from = match next_token {
            Some(t) => paging::decode_token(t)?
                .parse::<u64>()
                .map_err(|_| Error::InvalidToken(t.to_string()))?,
            None => 0,
        };
        let mut items = Vec::new();
        loop {
            let page = self.store.map_children(&tenant.id, &run.id, from, 1000)?;
            let Some(last) = page.last() else {
                return Ok(Page {
                    items,
                    next_token: None,
                });
            };
            let last = last.index;
            for child in page {
                let status = child.status.unwrap_or(Status::Running);
                let wanted = match filter {
                    None => true,
                    Some(ChildFilter::Status(s)) => s == status,
                    Some(ChildFilter::PendingRedrive) => {
                        run.status != MapRunStatus::Running
                            && !matches!(status, Status::Running | Status::Succeeded)
                    }
                };
                if !wanted {
                    continue;
                }
                if items.len() == limit {
                    return Ok(Page {
                        items,
                        next_token: Some(paging::encode_token(&child.index.to_string())),
                    });
                }
                items.push(child);
            }
            from = last + 1;
        }
    }
}
