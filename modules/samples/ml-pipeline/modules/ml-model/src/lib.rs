//! `ml-model`: the machine-learning sample's model, trained and served inside the sandbox:
//! logistic regression by batch gradient descent, in plain Rust (no dependencies).
//!
//! The sample uploads it twice: as `ml-train` (bucket `ml-data` read and write, kv table
//! `models` write) for the pipeline, and as `ml-predict` (kv `models` read only) for the
//! Express workflow behind the HTTP route. Input `{"action": ..., ...}`:
//!
//! - `preprocess {"key"}`: reads the CSV `ml-data/<key>` (a header, numeric features, the
//!   label 0/1 last), splits it (every fifth row is held out for testing), and writes
//!   `prepared/train.json` and `prepared/test.json`. Output: the feature names and counts.
//! - `train {"epochs", "learningRate"}`: fits the model on the training rows (features
//!   standardised with the training rows' means and deviations, kept in the model) and
//!   writes `models/candidate.json`. Output: the model.
//! - `evaluate`: the candidate's accuracy, precision and recall on the held-out rows.
//! - `publish {"approvedBy"}`: makes the candidate the model kv `models/current` serves.
//! - `predict {"features": {name: number}}`: `{"probability", "label", "modelVersion"}`
//!   from `models/current`; `NoModel` before one is published, `InvalidInput` for a
//!   missing feature.
use sandstep_sdk::{blob, json, kv, Context, TaskError, Value};

const BUCKET: &str = "ml-data";
const TABLE: &str = "models";

fn invalid(cause: impl Into<String>) -> TaskError {
    TaskError::new("InvalidInput", cause)
}

/// A data set: feature names, rows of features and their labels.
#[derive(Debug, Clone, PartialEq)]
struct Data {
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
    labels: Vec<f64>,
}

impl Data {
    fn to_json(&self) -> Value {
        json!({"names": self.names, "rows": self.rows, "labels": self.labels})
    }

    fn from_json(v: &Value) -> Result<Data, TaskError> {
        let bad = || invalid("a prepared data set is not what preprocess writes");
        let names = v["names"].as_array().ok_or_else(bad)?;
        let names = names
            .iter()
            .map(|n| n.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        let numbers = |x: &Value| {
            x.as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
        };
        let rows = v["rows"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(numbers)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        let labels = numbers(&v["labels"]).ok_or_else(bad)?;
        Ok(Data {
            names,
            rows,
            labels,
        })
    }
}

/// Parses the CSV: a header, then numbers; the last column is the label (0 or 1).
fn parse_csv(text: &str) -> Result<Data, TaskError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| invalid("the CSV is empty"))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    if header.len() < 2 {
        return Err(invalid("the CSV needs at least one feature and the label"));
    }
    let mut data = Data {
        names: header[..header.len() - 1].to_vec(),
        rows: Vec::new(),
        labels: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let cells: Result<Vec<f64>, _> = line.split(',').map(|c| c.trim().parse::<f64>()).collect();
        let cells = cells.map_err(|_| invalid(format!("row {}: not all numbers", i + 2)))?;
        if cells.len() != header.len() {
            return Err(invalid(format!(
                "row {}: {} cells, the header has {}",
                i + 2,
                cells.len(),
                header.len()
            )));
        }
        let (features, label) = cells.split_at(cells.len() - 1);
        let label = label.first().copied().unwrap_or(0.0);
        if label != 0.0 && label != 1.0 {
            return Err(invalid(format!("row {}: the label must be 0 or 1", i + 2)));
        }
        data.rows.push(features.to_vec());
        data.labels.push(label);
    }
    Ok(data)
}

/// Every fifth row held out for testing: deterministic, so a rerun trains the same model.
fn split(data: Data) -> (Data, Data) {
    let empty = || Data {
        names: data.names.clone(),
        rows: Vec::new(),
        labels: Vec::new(),
    };
    let (mut train, mut test) = (empty(), empty());
    for (i, (row, label)) in data.rows.into_iter().zip(data.labels).enumerate() {
        let part = if i % 5 == 4 { &mut test } else { &mut train };
        part.rows.push(row);
        part.labels.push(label);
    }
    (train, test)
}

/// A trained model: standardisation, then weights and a bias.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    names: Vec<String>,
    means: Vec<f64>,
    deviations: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    fn probability(&self, features: &[f64]) -> f64 {
        let z: f64 = features
            .iter()
            .zip(&self.means)
            .zip(&self.deviations)
            .zip(&self.weights)
            .map(|(((x, m), d), w)| w * (x - m) / d)
            .sum();
        sigmoid(z + self.bias)
    }

    fn to_json(&self) -> Value {
        json!({"names": self.names, "means": self.means, "deviations": self.deviations, "weights": self.weights, "bias": self.bias})
    }

    fn from_json(v: &Value) -> Result<Model, TaskError> {
        let bad = || TaskError::new("NoModel", "the stored model is not what train writes");
        let numbers = |x: &Value| {
            x.as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
                .ok_or_else(bad)
        };
        let names = v["names"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        Ok(Model {
            names,
            means: numbers(&v["means"])?,
            deviations: numbers(&v["deviations"])?,
            weights: numbers(&v["weights"])?,
            bias: v["bias"].as_f64().ok_or_else(bad)?,
        })
    }
}

fn fit(data: &Data, epochs: u32, rate: f64) -> Model {
    let n = data.names.len();
    let count = data.rows.len().max(1) as f64;
    let means: Vec<f64> = (0..n)
        .map(|j| {
            data.rows
                .iter()
                .map(|r| r.get(j).copied().unwrap_or(0.0))
                .sum::<f64>()
                / count
        })
        .collect();
    let deviations: Vec<f64> = (0..n)
        .map(|j| {
            let m = means.get(j).copied().unwrap_or(0.0);
            let var = data
                .rows
                .iter()
                .map(|r| (r.get(j).copied().unwrap_or(0.0) - m).powi(2))
                .sum::<f64>()
                / count;
            if var > 0.0 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let mut model = Model {
        names: data.names.clone(),
        means,
        deviations,
        weights: vec![0.0; n],
        bias: 0.0,
    };
    for _ in 0..epochs {
        let mut grad = vec![0.0; n];
        let mut grad_bias = 0.0;
        for (row, label) in data.rows.iter().zip(&data.labels) {
            let error = model.probability(row) - label;
            for (j, g) in grad.iter_mut().enumerate() {
                let x = row.get(j).copied().unwrap_or(0.0);
                *g += error * (x - model.means.get(j).copied().unwrap_or(0.0))
                    / model.deviations.get(j).copied().unwrap_or(1.0);
            }
            grad_bias += error;
        }
        for (w, g) in model.weights.iter_mut().zip(&grad) {
            *w -= rate * g / count;
        }
        model.bias -= rate * grad_bias / count;
    }
    model
}

/// Accuracy, precision and recall of `model` on `data` (threshold 0.5).
fn evaluate(model: &Model, data: &Data) -> Value {
    let (mut right, mut tp, mut fp, mut positives) = (0u32, 0u32, 0u32, 0u32);
    for (row, label) in data.rows.iter().zip(&data.labels) {
        let predicted = model.probability(row) >= 0.5;
        let actual = *label == 1.0;
        right += u32::from(predicted == actual);
        tp += u32::from(predicted && actual);
        fp += u32::from(predicted && !actual);
        positives += u32::from(actual);
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    json!({
        "accuracy": ratio(right, data.rows.len() as u32),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, positives),
        "testRows": data.rows.len(),
    })
}

fn read_json(key: &str) -> Result<Value, TaskError> {
    let bytes = blob::get(BUCKET, key)?.ok_or_else(|| {
        TaskError::new(
            "NoSuchKey",
            format!("{BUCKET}/{key} does not exist: run the earlier steps first"),
        )
    })?;
    parse_json(&bytes)
}

fn parse_json(bytes: &[u8]) -> Result<Value, TaskError> {
    sandstep_sdk::serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))
}

fn write_json(key: &str, value: &Value) -> Result<(), TaskError> {
    blob::put(
        BUCKET,
        key,
        value.to_string().as_bytes(),
        Some("application/json"),
    )?;
    Ok(())
}

fn run(input: Value, ctx: &Context) -> Result<Value, TaskError> {
    match input["action"].as_str().unwrap_or_default() {
        "preprocess" => {
            let key = input["key"]
                .as_str()
                .ok_or_else(|| invalid("key is required"))?;
            let bytes = blob::get(BUCKET, key)?.ok_or_else(|| {
                TaskError::new("NoSuchKey", format!("{BUCKET}/{key} does not exist"))
            })?;
            let (train, test) = split(parse_csv(&String::from_utf8_lossy(&bytes))?);
            write_json("prepared/train.json", &train.to_json())?;
            write_json("prepared/test.json", &test.to_json())?;
            Ok(
                json!({"features": train.names, "trainRows": train.rows.len(), "testRows": test.rows.len()}),
            )
        }
        "train" => {
            let epochs = input["epochs"].as_u64().unwrap_or(500).min(5000) as u32;
            let rate = input["learningRate"].as_f64().unwrap_or(0.5);
            let train = Data::from_json(&read_json("prepared/train.json")?)?;
            let model = fit(&train, epochs, rate).to_json();
            write_json(
                "models/candidate.json",
                &json!({"model": model, "trainedBy": ctx.execution_arn}),
            )?;
            Ok(model)
        }
        "evaluate" => {
            let candidate = read_json("models/candidate.json")?;
            let model = Model::from_json(&candidate["model"])?;
            Ok(evaluate(
                &model,
                &Data::from_json(&read_json("prepared/test.json")?)?,
            ))
        }
        "publish" => {
            let candidate = read_json("models/candidate.json")?;
            let stored = json!({"model": candidate["model"], "approvedBy": input["approvedBy"], "publishedBy": ctx.execution_arn});
            let version = kv::put(TABLE, "current", &stored)?;
            Ok(json!({"modelVersion": version}))
        }
        "predict" => {
            let current = kv::get(TABLE, "current")?.ok_or_else(|| {
                TaskError::new(
                    "NoModel",
                    "no model is published yet: run the ml-pipeline workflow",
                )
            })?;
            let model = Model::from_json(&current.value["model"])?;
            let features: Vec<f64> = model
                .names
                .iter()
                .map(|name| {
                    input["features"][name]
                        .as_f64()
                        .ok_or_else(|| invalid(format!("features.{name} must be a number")))
                })
                .collect::<Result<_, _>>()?;
            let probability = model.probability(&features);
            Ok(
                json!({"probability": probability, "label": u8::from(probability >= 0.5), "modelVersion": current.version}),
            )
        }
        other => Err(invalid(format!(
            "action {other:?}: preprocess, train, evaluate, publish or predict"
        ))),
    }
}

sandstep_sdk::task!(run);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_rule_and_scores_it() {
        // label = 1 when x > 5
        let rows: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(i % 10), 1.0]).collect();
        let labels = rows
            .iter()
            .map(|r| if r[0] > 5.0 { 1.0 } else { 0.0 })
            .collect();
        let data = Data {
            names: vec!["x".into(), "c".into()],
            rows,
            labels,
        };
        let model = fit(&data, 2000, 0.5);
        assert!(model.probability(&[9.0, 1.0]) > 0.9);
        assert!(model.probability(&[1.0, 1.0]) < 0.1);
        assert_eq!(evaluate(&model, &data)["accuracy"], 1.0);
        assert_eq!(Model::from_json(&model.to_json()).unwrap(), model);
    }

    #[test]
    fn reads_csv_and_holds_out_every_fifth_row() {
        let data = parse_csv("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,1\n").unwrap();
        assert_eq!(data.names, ["a", "b"]);
        let (train, test) = split(data);
        assert_eq!((train.rows.len(), test.rows.len()), (4, 1));
        assert_eq!(test.rows[0], [9.0, 10.0]);
        assert_eq!(
            parse_csv("a,label\n1,2\n").unwrap_err().name,
            "InvalidInput"
        );
        assert_eq!(
            parse_csv("a,label\nx,1\n").unwrap_err().name,
            "InvalidInput"
        );
    }
}
