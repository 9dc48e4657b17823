//! `ItemBatcher`: items grouped into child inputs `{"BatchInput": ..., "Items": [...]}`,
//! a batch closing before the next item would pass `MaxItemsPerBatch` or make the child's
//! input larger than `MaxInputBytesPerBatch`. A single item above the byte limit goes
//! alone (its child then fails on the input limit, as on AWS).

use serde::Deserialize;
use serde_json::{json, Value};

/// An `ItemBatcher`, resolved.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Batcher {
    /// `MaxItemsPerBatch`.
    #[serde(default)]
    pub max_items: Option<u64>,
    /// `MaxInputBytesPerBatch`.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// `BatchInput`.
    #[serde(default)]
    pub batch_input: Option<Value>,
}

/// A batch being filled.
#[derive(Debug, Default)]
pub struct Filling {
    items: Vec<Value>,
    bytes: usize,
}

impl Batcher {
    /// The bytes a batch's input takes besides its items.
    fn envelope(&self) -> usize {
        self.input(Vec::new()).to_string().len()
    }

    /// Adds an item; answers the batch it closed, if it did (the item starts the next).
    pub fn add(&self, filling: &mut Filling, item: Value) -> Option<Vec<Value>> {
        let size = item.to_string().len() + 1;
        let full_count = self
            .max_items
            .filter(|n| *n > 0)
            .is_some_and(|n| filling.items.len() as u64 >= n);
        let full_bytes = self.max_bytes.filter(|n| *n > 0).is_some_and(|n| {
            !filling.items.is_empty() && (self.envelope() + filling.bytes + size) as u64 > n
        });
        let closed = (full_count || full_bytes).then(|| {
            filling.bytes = 0;
            std::mem::take(&mut filling.items)
        });
        filling.bytes += size;
        filling.items.push(item);
        closed
    }

    /// The last batch, if any items are left.
    pub fn finish(&self, filling: &mut Filling) -> Option<Vec<Value>> {
        filling.bytes = 0;
        Some(std::mem::take(&mut filling.items)).filter(|items| !items.is_empty())
    }

    /// A batch's child input.
    pub fn input(&self, items: Vec<Value>) -> Value {
        match &self.batch_input {
            Some(batch_input) => json!({"BatchInput": batch_input, "Items": items}),
            None => json!({"Items": items}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(batcher: &Batcher, items: impl IntoIterator<Item = Value>) -> Vec<Vec<Value>> {
        let mut filling = Filling::default();
        let mut out: Vec<Vec<Value>> = items
            .into_iter()
            .filter_map(|i| batcher.add(&mut filling, i))
            .collect();
        out.extend(batcher.finish(&mut filling));
        out
    }

    #[test]
    fn batches_close_at_the_item_count_or_the_byte_size() {
        let by_count = Batcher {
            max_items: Some(2),
            max_bytes: None,
            batch_input: Some(json!({"k": 1})),
        };
        let out = batches(&by_count, (0..5).map(|n| json!(n)));
        assert_eq!(
            out,
            [
                vec![json!(0), json!(1)],
                vec![json!(2), json!(3)],
                vec![json!(4)]
            ]
        );
        assert_eq!(
            by_count.input(out[2].clone()),
            json!({"BatchInput": {"k": 1}, "Items": [4]})
        );
        let by_bytes = Batcher {
            max_items: None,
            max_bytes: Some(30),
            batch_input: None,
        };
        // {"Items":[]} is 12 bytes; each "xxxxxxxx" item is 10 and a comma.
        let out = batches(&by_bytes, (0..4).map(|_| json!("xxxxxxxx")));
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1, 1]);
        let roomy = Batcher {
            max_items: None,
            max_bytes: Some(40),
            batch_input: None,
        };
        assert_eq!(
            batches(&roomy, (0..4).map(|_| json!("xxxxxxxx")))
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            [2, 2]
        );
        // An item too large on its own goes alone.
        let big = json!("y".repeat(100));
        assert_eq!(
            batches(&roomy, [big.clone(), json!(1)]),
            [vec![big], vec![json!(1)]]
        );
    }
}
