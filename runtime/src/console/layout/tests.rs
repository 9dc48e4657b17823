//! The layout's promises: no overlaps, edges flowing down, loops on the side, containers
//! around their contents, few crossings, the same picture every time.

use super::coordinates::pack;
use super::layers::crossings;
use super::*;
use crate::console::graph::of_definition;
use serde_json::{json, Map};

fn drawing(definition: Value) -> Drawing {
    draw(&of_definition(&definition).unwrap())
}

fn node<'a>(d: &'a Drawing, name: &str) -> &'a DrawnNode {
    d.nodes.iter().find(|n| n.name == name).unwrap()
}

fn overlap(a: &DrawnNode, b: &DrawnNode) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

/// A long workflow: a chain with Choices that skip ahead, loops back and catches.
fn big(states: usize) -> Value {
    let mut all = Map::new();
    for i in 0..states {
        let name = format!("S{i}");
        let next = format!("S{}", i + 1);
        let state = if i + 1 == states {
            json!({"Type": "Succeed"})
        } else if i % 7 == 3 {
            json!({"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": i, "Next": format!("S{}", (i + 4).min(states - 1))},
                {"Variable": "$.back", "BooleanEquals": true, "Next": format!("S{}", i.saturating_sub(3))}],
                "Default": next})
        } else if i % 5 == 1 {
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": next,
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": format!("S{}", (i + 2).min(states - 1))}]})
        } else {
            json!({"Type": "Pass", "Next": next})
        };
        all.insert(name, state);
    }
    json!({"StartAt": "S0", "States": all})
}

#[test]
fn a_chain_is_one_straight_column() {
    let d = drawing(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Succeed"}}}));
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["Start", "A", "B", "C", "End"]);
    let centre = |n: &DrawnNode| n.x + n.width / 2.0;
    for pair in d.nodes.windows(2) {
        assert!(pair[0].y + pair[0].height < pair[1].y, "{pair:?}");
        assert!(
            (centre(&pair[0]) - centre(&pair[1])).abs() <= 1.0,
            "{pair:?}"
        );
    }
    for e in &d.edges {
        assert!(e.points.windows(2).all(|p| p[0][1] <= p[1][1]), "{e:?}");
    }
}

#[test]
fn two_hundred_states_do_not_overlap_and_stay_inside_the_drawing() {
    let d = drawing(big(200));
    assert_eq!(d.nodes.len(), 202);
    for (i, a) in d.nodes.iter().enumerate() {
        assert!(a.x >= 0.0 && a.y >= 0.0, "{a:?}");
        assert!(
            a.x + a.width <= d.width && a.y + a.height <= d.height,
            "{a:?}"
        );
        for b in d.nodes.iter().skip(i + 1) {
            assert!(!overlap(a, b), "{} overlaps {}", a.name, b.name);
        }
    }
    for e in &d.edges {
        for [x, y] in &e.points {
            assert!(
                *x >= 0.0 && *x <= d.width && *y >= 0.0 && *y <= d.height,
                "{e:?}"
            );
        }
    }
    // Forward edges flow down; every Choice loop goes up on the right of both ends.
    let loops: Vec<&DrawnEdge> = d
        .edges
        .iter()
        .filter(|e| e.label.as_deref() == Some("$.back == true"))
        .collect();
    assert!(!loops.is_empty());
    for e in &d.edges {
        let (from, to) = (
            d.nodes.iter().find(|n| n.id == e.from).unwrap(),
            d.nodes.iter().find(|n| n.id == e.to).unwrap(),
        );
        if loops.contains(&e) {
            let x = e.points[1][0];
            assert!(x > from.x + from.width && x > to.x + to.width, "{e:?}");
            assert!(
                e.label_at.unwrap()[0] > x,
                "the label beside the line: {e:?}"
            );
            assert!(e.points[2][1] < e.points[1][1], "{e:?}");
        } else {
            assert!(from.y < to.y, "{} → {} goes up", from.name, to.name);
            assert!(e.points.windows(2).all(|p| p[0][1] <= p[1][1]), "{e:?}");
        }
    }
}

#[test]
fn containers_hold_their_lanes_and_states() {
    let d = drawing(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "M", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A2"}, "A2": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 1, "End": true}}}]},
        "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I",
            "States": {"I": {"Type": "Task", "Resource": "x", "End": true}}}}}}));
    let inside = |inner: &DrawnNode, outer: &DrawnNode| {
        inner.x >= outer.x
            && inner.y >= outer.y
            && inner.x + inner.width <= outer.x + outer.width
            && inner.y + inner.height <= outer.y + outer.height
    };
    let p = node(&d, "P");
    let m = node(&d, "M");
    for name in ["A", "A2", "B"] {
        let n = node(&d, name);
        assert_eq!(n.parent.as_deref(), Some("/States/P"));
        assert!(inside(n, p), "{name} outside P");
    }
    assert!(inside(node(&d, "I"), m));
    assert!(!overlap(p, m) && p.y < m.y);
    let lanes: Vec<&DrawnLane> = d.lanes.iter().filter(|l| l.parent == "/States/P").collect();
    assert_eq!(lanes.len(), 2);
    assert!(
        lanes[0].x + lanes[0].width <= lanes[1].x,
        "branches side by side"
    );
    let a = node(&d, "A");
    assert!(a.x >= lanes[0].x && a.y >= lanes[0].y);
    // Containers come before their contents.
    let pos = |name: &str| d.nodes.iter().position(|n| n.name == name).unwrap();
    assert!(pos("P") < pos("A") && pos("M") < pos("I"));
    // Each branch has its own markers.
    assert!(d.nodes.iter().any(|n| n.id == "/States/P/Branches/1/start"));
}

#[test]
fn barycenter_sweeps_remove_an_avoidable_crossing() {
    // Rows: [0], [1, 2], [3, 4] with 1 → 4 and 2 → 3: one crossing as given.
    let mut rows = vec![vec![0], vec![1, 2], vec![3, 4]];
    let mut up = vec![Vec::new(); 5];
    let mut down = vec![Vec::new(); 5];
    for (a, b) in [(0, 1), (0, 2), (1, 4), (2, 3)] {
        down[a].push(b);
        up[b].push(a);
    }
    let position: Vec<f64> = vec![0.0, 0.0, 1.0, 0.0, 1.0];
    assert_eq!(crossings(&rows, &down, &position), 1);
    assert_eq!(order(&mut rows, &up, &down, 5), 0);
    assert_eq!(rows[2], vec![4, 3]);
}

#[test]
fn packing_keeps_gaps_and_centres_a_crowd_on_its_wish() {
    let gap = |_: usize, _: usize| 10.0;
    assert_eq!(pack(&[0, 1], &[0.0, 100.0], &gap), vec![0.0, 100.0]);
    assert_eq!(
        pack(&[0, 1, 2], &[5.0, 5.0, 5.0], &gap),
        vec![-5.0, 5.0, 15.0]
    );
}

#[test]
fn the_same_definition_draws_the_same_picture() {
    assert_eq!(drawing(big(60)), drawing(big(60)));
}

#[test]
fn an_empty_scope_still_has_a_size() {
    let d = drawing(json!({"StartAt": "A", "States": {}}));
    assert_eq!(d.nodes.len(), 2);
    assert!(d.width > 0.0 && d.height > 0.0);
}

#[test]
fn parallel_edges_and_their_labels_stay_apart() {
    let d = drawing(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "B"}],
              "Default": "B"},
        "B": {"Type": "Pass", "End": true}}}));
    let from_c: Vec<&DrawnEdge> = d.edges.iter().filter(|e| e.from == "/States/C").collect();
    assert_eq!(from_c.len(), 2);
    assert_ne!(from_c[0].points, from_c[1].points);
    let (a, b) = (from_c[0].label_at.unwrap(), from_c[1].label_at.unwrap());
    assert!((a[1] - b[1]).abs() >= 14.0, "labels at {a:?} and {b:?}");
    assert!(d
        .edges
        .iter()
        .filter(|e| e.label.is_none())
        .all(|e| e.label_at.is_none()));
}

#[test]
fn labels_stay_inside_the_drawing() {
    let d = drawing(big(200));
    for e in d.edges.iter().filter(|e| e.label.is_some()) {
        let [x, _] = e.label_at.unwrap();
        let half =
            (e.label.as_ref().unwrap().chars().count() as f64 * LABEL_CHAR_WIDTH + LABEL_PAD) / 2.0;
        assert!(
            x - half >= 0.0 && x + half <= d.width,
            "{e:?} in width {}",
            d.width
        );
    }
}

#[test]
fn self_loops_unreachable_states_and_long_edges_over_budget_still_draw() {
    let d = drawing(json!({"StartAt": "A", "States": {
        "A": {"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": true, "Next": "A"}],
              "Default": "B"},
        "B": {"Type": "Succeed"},
        "Orphan": {"Type": "Pass", "End": true}}}));
    let self_loop = d.edges.iter().find(|e| e.from == e.to).unwrap();
    let ys: Vec<f64> = self_loop.points.iter().map(|p| p[1]).collect();
    assert!(ys[0] < ys[3], "leaves high, comes back low: {ys:?}");
    let a = node(&d, "A");
    assert!(self_loop.points[1][0] > a.x + a.width);
    let orphan = node(&d, "Orphan");
    assert!(d
        .nodes
        .iter()
        .all(|n| n.id == orphan.id || !overlap(n, orphan)));
    // A long edge gets two points per dummy, or none when the budget is spent.
    for (budget, points, left) in [(0, 2, 0), (10, 2 + 2 * 2, 8)] {
        let mut budget = budget;
        let edges = [(0, 1), (1, 2), (2, 3), (0, 3)];
        let placed = place(&[(20.0, 20.0); 4], &edges, None, &[None; 4], &mut budget);
        assert_eq!((placed.routes[3].len(), budget), (points, left));
    }
}
