//! Map Runs (a DISTRIBUTED Map's run) and their children: the run's record, one row per
//! child (an item, or a batch of items) with its status and result, an index by parent
//! execution (ListMapRuns), and the runs still open (recovery resumes them).
//!
//! A child's row is written when it starts and again when it ends, in batches that share
//! one sync: after a crash a child whose end was not yet written runs again (a Standard
//! child is found by its name, which is derived from the run and its index).

use super::backend::Write;
use super::children::{notice_write, Notice};
use super::codec::{decode, encode};
use super::keys::{Key, Reader, Table};
use super::{Error, Millis, Result, Store, TenantId};
use crate::model::{ExecutionKey, Status};
use sandstep_engine::TaskId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Map Run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MapRunStatus {
    /// Its children run.
    Running,
    /// Every child succeeded, or few enough failed.
    Succeeded,
    /// Too many children failed, or its reader or writer did.
    Failed,
    /// Its parent's Map state was cancelled (the execution stopped).
    Aborted,
}

impl MapRunStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// Counts of a Map Run's items or child executions, as DescribeMapRun shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Not started yet.
    pub pending: u64,
    /// Running.
    pub running: u64,
    /// Succeeded.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// Timed out.
    pub timed_out: u64,
    /// Aborted.
    pub aborted: u64,
    /// All of them.
    pub total: u64,
    /// Results exported (or, without a ResultWriter, succeeded).
    pub results_written: u64,
}

/// A Map Run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRun {
    /// Its id: the last part of its ARN.
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// Whose.
    pub tenant: TenantId,
    /// The parent execution.
    pub parent: ExecutionKey,
    /// The parent execution's ARN.
    pub parent_arn: String,
    /// The parent's Map Run task.
    pub task: TaskId,
    /// What the engine asked for (the Map Run task's input).
    pub spec: Value,
    /// Its status.
    pub status: MapRunStatus,
    /// When it started.
    pub started: Millis,
    /// When it ended.
    #[serde(default)]
    pub stopped: Option<Millis>,
    /// Children running at once at most (0: no limit of its own).
    pub max_concurrency: u64,
    /// Failed items it tolerates.
    pub tolerated_count: u64,
    /// Failed items it tolerates, in percent of all.
    pub tolerated_percentage: f64,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub cause: Option<String>,
    /// Item counts, as of the last save.
    #[serde(default)]
    pub items: Counts,
    /// Child execution counts, as of the last save.
    #[serde(default)]
    pub executions: Counts,
    /// Whether the reader has read every item (then `items.total` is final).
    #[serde(default)]
    pub read_all: bool,
    /// How many times it was redriven, and when last.
    #[serde(default)]
    pub redrive_count: u32,
    /// When it was last redriven.
    #[serde(default)]
    pub redrive_date: Option<Millis>,
}

/// One child of a Map Run: an item, or a batch of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapChild {
    /// Its place among the children (item or batch order).
    pub index: u64,
    /// How many items it carries.
    pub items: u64,
    /// Its execution's name.
    pub name: String,
    /// Its execution's ARN.
    pub arn: String,
    /// Its status (`None`: started, not ended).
    pub status: Option<Status>,
    /// Its input (JSON text).
    pub input: String,
    /// Its output (JSON text), once succeeded.
    #[serde(default)]
    pub output: Option<String>,
    /// Its error, once failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Its cause, once failed.
    #[serde(default)]
    pub cause: Option<String>,
    /// When it started.
    pub started: Millis,
    /// When it ended.
    #[serde(default)]
    pub stopped: Option<Millis>,
}

fn run_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::of(Table::MapRun, tenant).text(id).into_bytes()
}

fn parent_key(run: &MapRun) -> Vec<u8> {
    Key::of(Table::MapRunByParent, &run.tenant)
        .text(&run.parent.machine)
        .text(&run.parent.name)
        .time(run.started)
        .text(&run.id)
        .into_bytes()
}

fn open_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::table(Table::MapRunOpen)
        .text(&tenant.0)
        .text(id)
        .into_bytes()
}

fn child_key(tenant: &TenantId, id: &str, index: u64) -> Key {
    Key::of(Table::MapRunChild, tenant).text(id).number(index)
}

/// The Map Runs table.
///
/// # Contract
/// A run's record, its parent index and its open mark change together; its end and the
/// answer its parent's task is owed are one write.
pub trait MapRuns: Send + Sync {
    /// Writes a run's record (creating or updating it).
    ///
    /// # Errors
    /// When the store fails.
    fn map_run_put(&self, run: &MapRun) -> Result<()>;

    /// Writes a run's end and the answer its parent's task is owed, at once and durably.
    ///
    /// # Errors
    /// When the store fails; then nothing was written.
    fn map_run_end(&self, run: &MapRun, notice: Option<&Notice>) -> Result<()>;

    /// A run by its id.
    ///
    /// # Errors
    /// When the store fails.
    fn map_run_get(&self, tenant: &TenantId, id: &str) -> Result<Option<MapRun>>;

    /// The runs an execution started, oldest first.
    ///
    /// # Errors
    /// When the store fails.
    fn map_runs_of(&self, parent: &ExecutionKey) -> Result<Vec<MapRun>>;

    /// Every open run (to resume after a restart), across tenants.
    ///
    /// # Errors
    /// When the store fails.
    fn map_runs_open(&self) -> Result<Vec<(TenantId, String)>>;

    /// Writes children's rows (one batch, not synced: see the module's notes).
    ///
    /// # Errors
    /// When the store fails.
    fn map_children_put(&self, tenant: &TenantId, id: &str, children: &[MapChild]) -> Result<()>;

    /// A run's children in index order, from `from` on, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn map_children(
        &self,
        tenant: &TenantId,
        id: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<MapChild>>;
}

impl MapRuns for Store {
    fn map_run_put(&self, run: &MapRun) -> Result<()> {
        self.backend.apply(run_writes(run)?)
    }

    fn map_run_end(&self, run: &MapRun, notice: Option<&Notice>) -> Result<()> {
        let mut writes = run_writes(run)?;
        if let Some(notice) = notice {
            writes.push(notice_write(notice)?);
        }
        self.backend.apply(writes)?;
        self.backend.durable()
    }

    fn map_run_get(&self, tenant: &TenantId, id: &str) -> Result<Option<MapRun>> {
        self.backend
            .get(&run_key(tenant, id))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn map_runs_of(&self, parent: &ExecutionKey) -> Result<Vec<MapRun>> {
        let prefix = Key::of(Table::MapRunByParent, &parent.tenant)
            .text(&parent.machine)
            .text(&parent.name)
            .into_bytes();
        let mut out = Vec::new();
        for (k, _) in self.backend.scan(&prefix, None, usize::MAX)? {
            let mut r = Reader::new(&k);
            let id = (|| {
                r.text()?;
                r.text()?;
                r.text()?;
                r.time()?;
                r.text()
            })()
            .ok_or_else(|| Error::Corrupt("map run parent index".into()))?;
            if let Some(run) = self.map_run_get(&parent.tenant, &id)? {
                out.push(run);
            }
        }
        Ok(out)
    }

    fn map_runs_open(&self) -> Result<Vec<(TenantId, String)>> {
        let prefix = Key::table(Table::MapRunOpen).into_bytes();
        let mut out = Vec::new();
        for (k, _) in self.backend.scan(&prefix, None, usize::MAX)? {
            let mut r = Reader::new(&k);
            match (r.text(), r.text()) {
                (Some(tenant), Some(id)) => out.push((TenantId(tenant), id)),
                _ => return Err(Error::Corrupt("open map run key".into())),
            }
        }
        Ok(out)
    }

    fn map_children_put(&self, tenant: &TenantId, id: &str, children: &[MapChild]) -> Result<()> {
        let mut writes = Vec::with_capacity(children.len());
        for child in children {
            writes.push(Write::Put(
                child_key(tenant, id, child.index).into_bytes(),
                encode(child)?,
            ));
        }
        self.backend.apply(writes)
    }

    fn map_children(
        &self,
        tenant: &TenantId,
        id: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<MapChild>> {
        let prefix = Key::of(Table::MapRunChild, tenant).text(id).into_bytes();
        let after = from
            .checked_sub(1)
            .map(|before| child_key(tenant, id, before).into_bytes());
        self.backend
            .scan(&prefix, after.as_deref(), limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

impl Store {
    /// Deletes the Map Runs of a parent execution and their children's rows (the parent
    /// is being deleted).
    pub(super) fn map_run_deletes(&self, parent: &ExecutionKey) -> Result<Vec<Write>> {
        let mut writes = Vec::new();
        for run in self.map_runs_of(parent)? {
            writes.push(Write::Delete(run_key(&run.tenant, &run.id)));
            writes.push(Write::Delete(parent_key(&run)));
            writes.push(Write::Delete(open_key(&run.tenant, &run.id)));
            let rows = Key::of(Table::MapRunChild, &run.tenant)
                .text(&run.id)
                .into_bytes();
            for (k, _) in self.backend.scan(&rows, None, usize::MAX)? {
                writes.push(Write::Delete(k));
            }
        }
        Ok(writes)
    }
}

fn run_writes(run: &MapRun) -> Result<Vec<Write>> {
    let open = open_key(&run.tenant, &run.id);
    Ok(vec![
        Write::Put(run_key(&run.tenant, &run.id), encode(run)?),
        Write::Put(parent_key(run), Vec::new()),
        match run.status {
            MapRunStatus::Running => Write::Put(open, Vec::new()),
            _ => Write::Delete(open),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(id: &str, started: Millis, status: MapRunStatus) -> MapRun {
        MapRun {
            id: id.into(),
            arn: format!("arn:aws:states:us-east-1:000000000000:mapRun:m/l:{id}"),
            tenant: TenantId("t".into()),
            parent: ExecutionKey {
                tenant: TenantId("t".into()),
                machine: "m".into(),
                name: "parent".into(),
            },
            parent_arn: "arn:parent".into(),
            task: TaskId(7),
            spec: json!({}),
            status,
            started,
            stopped: None,
            max_concurrency: 0,
            tolerated_count: 0,
            tolerated_percentage: 0.0,
            error: None,
            cause: None,
            items: Counts::default(),
            executions: Counts::default(),
            read_all: false,
            redrive_count: 0,
            redrive_date: None,
        }
    }

    fn child(index: u64) -> MapChild {
        MapChild {
            index,
            items: 1,
            name: format!("c{index}"),
            arn: format!("arn:c{index}"),
            status: Some(Status::Succeeded),
            input: "{}".into(),
            output: Some("1".into()),
            error: None,
            cause: None,
            started: 1,
            stopped: Some(2),
        }
    }

    #[test]
    fn runs_are_found_by_id_by_parent_and_while_open_and_their_children_page_in_order() {
        for store in crate::store::testing::stores() {
            let tenant = TenantId("t".into());
            store
                .map_run_put(&run("b", 2, MapRunStatus::Running))
                .unwrap();
            store
                .map_run_put(&run("a", 1, MapRunStatus::Running))
                .unwrap();
            assert_eq!(store.map_run_get(&tenant, "a").unwrap().unwrap().started, 1);
            assert!(store
                .map_run_get(&TenantId("u".into()), "a")
                .unwrap()
                .is_none());
            let parent = run("a", 1, MapRunStatus::Running).parent;
            let ids: Vec<String> = store
                .map_runs_of(&parent)
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(ids, ["a", "b"], "in start order");
            assert_eq!(store.map_runs_open().unwrap().len(), 2);
            store
                .map_run_end(&run("a", 1, MapRunStatus::Succeeded), None)
                .unwrap();
            assert_eq!(
                store.map_runs_open().unwrap(),
                [(tenant.clone(), "b".to_string())]
            );

            let rows: Vec<MapChild> = (0..2500).map(child).collect();
            store.map_children_put(&tenant, "a", &rows).unwrap();
            let page = store.map_children(&tenant, "a", 0, 1000).unwrap();
            assert_eq!((page.len(), page[999].index), (1000, 999));
            let page = store.map_children(&tenant, "a", 2000, 1000).unwrap();
            assert_eq!((page.len(), page[0].index), (500, 2000));
            assert!(store.map_children(&tenant, "b", 0, 10).unwrap().is_empty());

            let deletes = store.map_run_deletes(&parent).unwrap();
            store.backend.apply(deletes).unwrap();
            assert!(store.map_runs_of(&parent).unwrap().is_empty());
            assert!(store.map_runs_open().unwrap().is_empty());
            assert!(store.map_children(&tenant, "a", 0, 10).unwrap().is_empty());
        }
    }
}
