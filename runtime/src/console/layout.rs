//! Layered drawing of a [`graph::Scope`]: where every node, lane and edge goes.
//!
//! A Sugiyama-style layout, the usual one for flow charts, kept small:
//! 1. DFS from the start marker; edges that close a loop are set aside (drawn on the
//!    right side, going up), the rest form a DAG.
//! 2. Each node goes on the layer of its longest path from the top; the end marker at the
//!    bottom. An edge spanning several layers gets a dummy node on each, so it is routed
//!    between the nodes and its crossings count.
//! 3. Nodes are ordered within layers by barycenter sweeps, keeping the order with the
//!    fewest crossings.
//! 4. Each layer is placed as close as possible to its neighbours' centres without
//!    overlap (blocks of touching nodes are placed at their mean wish).
//!
//! Parallel and Map states are laid out from the inside out: each lane is a scope of its
//! own, and the container node is made big enough to hold its lanes side by side.
//! Everything is a pure function of the graph, so the editor re-draws the same picture
//! for the same definition.

use super::graph::{EdgeKind, Node, Scope};
use serde::Serialize;
use serde_json::Value;

const MARGIN: f64 = 16.0;
/// Vertical space between layers: room for an edge label.
const LAYER_GAP: f64 = 60.0;
/// Horizontal space between neighbours in a layer.
const NODE_GAP: f64 = 32.0;
/// Space between an edge routed through a layer and its neighbours.
const DUMMY_GAP: f64 = 12.0;
const NODE_HEIGHT: f64 = 40.0;
const MARKER_SIZE: f64 = 22.0;
/// A container's caption strip.
const HEADER: f64 = 28.0;
/// A lane's caption strip.
const LANE_LABEL: f64 = 20.0;
const LANE_GAP: f64 = 12.0;
const PAD: f64 = 10.0;
/// Rough width of a character of the console's 12 px font.
const CHAR_WIDTH: f64 = 7.0;
/// Ordering sweeps (each one down and one up).
const SWEEPS: usize = 8;
/// Rough width of a character of an edge label and its padding (as the console draws).
const LABEL_CHAR_WIDTH: f64 = 6.0;
const LABEL_PAD: f64 = 10.0;
/// Dummy vertices (edge segments crossing a layer) a drawing may use in all; past it,
/// long edges are drawn straight. It bounds the work for huge or hostile definitions.
const DUMMY_BUDGET: usize = 20_000;

/// A drawn graph, in the console's coordinates (pixels, y down).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drawing {
    /// Total width.
    pub width: f64,
    /// Total height.
    pub height: f64,
    /// Containers before their contents, so drawing in order layers them right.
    pub nodes: Vec<DrawnNode>,
    /// The boxes of Parallel branches and Map processors.
    pub lanes: Vec<DrawnLane>,
    /// The transitions.
    pub edges: Vec<DrawnEdge>,
}

/// A placed state or marker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawnNode {
    /// The JSON location (see [`Node::id`]).
    pub id: String,
    /// The state's name.
    pub name: String,
    /// The state's type, `start` or `end`.
    pub kind: String,
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The enclosing container's id.
    pub parent: Option<String>,
    /// The state's JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
}

/// A placed lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawnLane {
    /// The container's id.
    pub parent: String,
    /// The JSON location of its `StartAt` and `States` (see
    /// [`Lane::at`](super::graph::Lane::at)).
    pub scope: String,
    /// `Branch 1`, `Item processor`.
    pub label: String,
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A routed edge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawnEdge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// `next`, `choice`, `default`, `catch`, `start` or `end`.
    pub kind: &'static str,
    /// The label to show, if any.
    pub label: Option<String>,
    /// Which Choice rule or catcher it is (`choice` and `catch` edges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// A polyline from the source's border to the target's (the arrow's tip).
    pub points: Vec<[f64; 2]>,
    /// Where the label's centre goes: labelled edges leaving one state are staggered
    /// along their lines so their labels do not cover each other.
    #[serde(rename = "labelAt", skip_serializing_if = "Option::is_none")]
    pub label_at: Option<[f64; 2]>,
}

/// Lays out a whole definition.
pub fn draw(scope: &Scope) -> Drawing {
    let mut budget = DUMMY_BUDGET;
    let laid = lay_out(scope, &mut budget);
    let mut out = Drawing {
        width: laid.width,
        height: laid.height,
        nodes: Vec::new(),
        lanes: Vec::new(),
        edges: Vec::new(),
    };
    emit(&laid, scope, (0.0, 0.0), None, &mut out);
    out
}

/// A scope laid out in its own coordinates.
#[derive(Debug, Clone, PartialEq)]
struct Laid {
    width: f64,
    height: f64,
    /// Per node: its rectangle.
    rects: Vec<Rect>,
    /// Per node: its lanes, laid out.
    lanes: Vec<Vec<Laid>>,
    /// Per edge: its polyline.
    routes: Vec<Vec<[f64; 2]>>,
    /// Per edge: where its label goes, if it has one.
    labels: Vec<Option<[f64; 2]>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

fn lay_out(scope: &Scope, budget: &mut usize) -> Laid {
    let lanes: Vec<Vec<Laid>> = scope
        .nodes
        .iter()
        .map(|n| n.lanes.iter().map(|l| lay_out(&l.scope, budget)).collect())
        .collect();
    let sizes: Vec<(f64, f64)> = scope
        .nodes
        .iter()
        .zip(&lanes)
        .map(|(node, laid)| size(node, laid))
        .collect();
    let edges: Vec<(usize, usize)> = scope.edges.iter().map(|e| (e.from, e.to)).collect();
    let labels: Vec<Option<f64>> = scope
        .edges
        .iter()
        .map(|e| {
            e.label
                .as_ref()
                .filter(|_| e.kind != EdgeKind::End)
                .map(|l| l.chars().count() as f64 * LABEL_CHAR_WIDTH + LABEL_PAD)
        })
        .collect();
    let sink = scope.nodes.iter().rposition(|n| n.kind == "end");
    let placed = place(&sizes, &edges, sink, &labels, budget);
    Laid {
        width: placed.width,
        height: placed.height,
        rects: placed.rects,
        lanes,
        routes: placed.routes,
        labels: placed.labels,
    }
}

/// A node's size: markers are small circles, containers hold their lanes.
fn size(node: &Node, lanes: &[Laid]) -> (f64, f64) {
    if matches!(node.kind.as_str(), "start" | "end") {
        return (MARKER_SIZE, MARKER_SIZE);
    }
    let caption = (node.name.chars().count() as f64 * CHAR_WIDTH + 36.0).clamp(96.0, 260.0);
    if lanes.is_empty() {
        return (caption, NODE_HEIGHT);
    }
    let inner: f64 = lanes.iter().map(|l| l.width).sum::<f64>()
        + LANE_GAP * (lanes.len().saturating_sub(1)) as f64;
    let tallest = lanes.iter().map(|l| l.height).fold(0.0, f64::max);
    (
        (inner + 2.0 * PAD).max(caption),
        HEADER + LANE_LABEL + tallest + PAD,
    )
}

/// Writes a laid-out scope into `out` at `offset`, containers before their contents.
fn emit(laid: &Laid, scope: &Scope, offset: (f64, f64), parent: Option<&str>, out: &mut Drawing) {
    let at = |r: &Rect| Rect {
        x: r.x + offset.0,
        y: r.y + offset.1,
        ..*r
    };
    for ((node, rect), lanes) in scope.nodes.iter().zip(&laid.rects).zip(&laid.lanes) {
        let r = at(rect);
        out.nodes.push(DrawnNode {
            id: node.id.clone(),
            name: node.name.clone(),
            kind: node.kind.clone(),
            x: r.x.round(),
            y: r.y.round(),
            width: r.w.round(),
            height: r.h.round(),
            parent: parent.map(str::to_string),
            state: node.state.clone(),
        });
        let mut x = r.x + (r.w - lanes_width(lanes)) / 2.0;
        for (lane, inner) in node.lanes.iter().zip(lanes) {
            let top = r.y + HEADER;
            out.lanes.push(DrawnLane {
                parent: node.id.clone(),
                label: lane.label.clone(),
                scope: lane.at.clone(),
                x: x.round(),
                y: top.round(),
                width: inner.width.round(),
                height: (r.y + r.h - PAD - top).round(),
            });
            emit(
                inner,
                &lane.scope,
                (x, top + LANE_LABEL),
                Some(&node.id),
                out,
            );
            x += inner.width + LANE_GAP;
        }
    }
    for ((edge, route), label_at) in scope.edges.iter().zip(&laid.routes).zip(&laid.labels) {
        let (Some(from), Some(to)) = (scope.nodes.get(edge.from), scope.nodes.get(edge.to)) else {
            continue;
        };
        let label_at = label_at.map(|[x, y]| [(x + offset.0).round(), (y + offset.1).round()]);
        out.edges.push(DrawnEdge {
            label_at,
            from: from.id.clone(),
            to: to.id.clone(),
            kind: edge.kind.as_str(),
            index: edge.index,
            label: edge.label.clone().filter(|_| edge.kind != EdgeKind::End),
            points: route
                .iter()
                .map(|[x, y]| [(x + offset.0).round(), (y + offset.1).round()])
                .collect(),
        });
    }
}

/// The point `share` (0..1) of the way along a polyline.
fn along(points: &[[f64; 2]], share: f64) -> Option<[f64; 2]> {
    let length = |p: &[[f64; 2]]| -> f64 {
        p.windows(2)
            .map(|w| match w {
                [a, b] => ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt(),
                _ => 0.0,
            })
            .sum()
    };
    let mut left = length(points) * share;
    for w in points.windows(2) {
        if let [a, b] = w {
            let step = length(w);
            if step >= left && step > 0.0 {
                let t = left / step;
                return Some([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
            }
            left -= step;
        }
    }
    points.last().copied()
}

fn lanes_width(lanes: &[Laid]) -> f64 {
    lanes.iter().map(|l| l.width).sum::<f64>() + LANE_GAP * lanes.len().saturating_sub(1) as f64
}

/// The result of [`place`].
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    width: f64,
    height: f64,
    rects: Vec<Rect>,
    routes: Vec<Vec<[f64; 2]>>,
    labels: Vec<Option<[f64; 2]>>,
}

/// A vertex of the layered graph: a node, or a dummy on an edge crossing a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Vertex {
    width: f64,
    height: f64,
    layer: usize,
    real: bool,
    /// Where DFS first met it (dummies: their edge's source), for the first order.
    seen: f64,
}

fn get<T: Copy + Default>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or_default()
}

/// Lays out nodes of `sizes` joined by `edges` (indices, each with its label's width if
/// it has one); `sink` goes on the last layer. Long edges use dummies from `budget`.
fn place(
    sizes: &[(f64, f64)],
    edges: &[(usize, usize)],
    sink: Option<usize>,
    label_widths: &[Option<f64>],
    budget: &mut usize,
) -> Placed {
    let n = sizes.len();
    let kept: Vec<((usize, usize), Option<f64>)> = edges
        .iter()
        .enumerate()
        .map(|(i, &e)| (e, label_widths.get(i).copied().flatten()))
        .filter(|&((a, b), _)| a < n && b < n)
        .collect();
    let edges: Vec<(usize, usize)> = kept.iter().map(|&(e, _)| e).collect();
    let label_widths: Vec<Option<f64>> = kept.iter().map(|&(_, w)| w).collect();
    let (back, seen) = loops_and_discovery(n, &edges);
    let layer = layers(n, &edges, &back, sink);
    // The layered graph: nodes, then dummies; each forward edge as a chain of vertices.
    let mut vertices: Vec<Vertex> = sizes
        .iter()
        .enumerate()
        .map(|(i, &(w, h))| Vertex {
            width: w,
            height: h,
            layer: get(&layer, i),
            real: true,
            seen: get(&seen, i) as f64,
        })
        .collect();
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for (i, &(a, b)) in edges.iter().enumerate() {
        if get(&back, i) {
            chains.push(Vec::new());
            continue;
        }
        let mut chain = vec![a];
        let span = get(&layer, b).saturating_sub(get(&layer, a) + 1);
        if span > *budget {
            chains.push(vec![a, b]);
            continue;
        }
        *budget -= span;
        for l in get(&layer, a) + 1..get(&layer, b) {
            chain.push(vertices.len());
            vertices.push(Vertex {
                width: 2.0,
                height: 0.0,
                layer: l,
                real: false,
                seen: get(&seen, a) as f64 + 0.5,
            });
        }
        chain.push(b);
        chains.push(chain);
    }
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    for chain in &chains {
        for pair in chain.windows(2) {
            if let [a, b] = *pair {
                if let Some(d) = down.get_mut(a) {
                    d.push(b);
                }
                if let Some(u) = up.get_mut(b) {
                    u.push(a);
                }
            }
        }
    }
    let depth = vertices.iter().map(|v| v.layer + 1).max().unwrap_or(0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, v) in vertices.iter().enumerate() {
        if let Some(row) = rows.get_mut(v.layer) {
            row.push(i);
        }
    }
    for row in &mut rows {
        row.sort_by(|&a, &b| get_seen(&vertices, a).total_cmp(&get_seen(&vertices, b)));
    }
    order(&mut rows, &up, &down, vertices.len());
    let centres = columns(&rows, &vertices, &up, &down);
    // Rows top to bottom, each as tall as its tallest node.
    let mut tops = Vec::with_capacity(rows.len());
    let mut heights = Vec::with_capacity(rows.len());
    let mut y = MARGIN;
    for row in &rows {
        let h = row
            .iter()
            .map(|&v| vertices.get(v).map_or(0.0, |v| v.height))
            .fold(MARKER_SIZE, f64::max);
        tops.push(y);
        heights.push(h);
        y += h + LAYER_GAP;
    }
    let height = y - LAYER_GAP + MARGIN;
    let rect = |v: usize| -> Rect {
        let vx = vertices.get(v).copied().unwrap_or(Vertex {
            width: 0.0,
            height: 0.0,
            layer: 0,
            real: false,
            seen: 0.0,
        });
        let top = get(&tops, vx.layer);
        let h = get(&heights, vx.layer);
        Rect {
            x: get(&centres, v) - vx.width / 2.0,
            y: top + (h - vx.height) / 2.0,
            w: vx.width,
            h: vx.height,
        }
    };
    let mut rects: Vec<Rect> = (0..n).map(rect).collect();
    let mut routes = routes(&edges, &back, &chains, &rect, &layer, &rows);
    let mut labels = label_points(&edges, &label_widths, &routes);
    // A loop's label sits beside its upward line, not across the states it passes.
    for ((label, width), is_back) in labels.iter_mut().zip(&label_widths).zip(&back) {
        if let (Some([x, _]), Some(w), true) = (label.as_mut(), width, *is_back) {
            *x += w / 2.0 + 4.0;
        }
    }
    // Everything drawn, labels included, inside the margins.
    let mut left = f64::MAX;
    let mut right = 0.0f64;
    for r in &rects {
        left = left.min(r.x);
        right = right.max(r.x + r.w);
    }
    for [x, _] in routes.iter().flatten() {
        left = left.min(*x);
        right = right.max(*x);
    }
    for (at, w) in labels.iter().zip(&label_widths) {
        if let (Some([x, _]), Some(w)) = (at, w) {
            left = left.min(x - w / 2.0);
            right = right.max(x + w / 2.0);
        }
    }
    if left < MARGIN && left != f64::MAX {
        let shift = MARGIN - left;
        for r in &mut rects {
            r.x += shift;
        }
        for [x, _] in routes.iter_mut().flatten() {
            *x += shift;
        }
        for [x, _] in labels.iter_mut().flatten() {
            *x += shift;
        }
        right += shift;
    }
    Placed {
        width: right + MARGIN,
        height: if n == 0 { 2.0 * MARGIN } else { height },
        rects,
        routes,
        labels,
    }
}

/// Label positions: labelled edges leaving one node are staggered along their lines
/// (the first at a third of the way, the next at two thirds, ...).
fn label_points(
    edges: &[(usize, usize)],
    widths: &[Option<f64>],
    routes: &[Vec<[f64; 2]>],
) -> Vec<Option<[f64; 2]>> {
    let labelled = |i: usize| widths.get(i).copied().flatten().is_some();
    edges
        .iter()
        .enumerate()
        .map(|(i, &(from, _))| {
            if !labelled(i) {
                return None;
            }
            let siblings = || {
                edges
                    .iter()
                    .enumerate()
                    .filter(move |&(j, &(f, _))| f == from && labelled(j))
            };
            let rank = siblings().take_while(|&(j, _)| j != i).count();
            let share = (rank as f64 + 1.0) / (siblings().count() as f64 + 1.0);
            along(routes.get(i).map(Vec::as_slice).unwrap_or_default(), share)
        })
        .collect()
}

fn get_seen(vertices: &[Vertex], i: usize) -> f64 {
    vertices.get(i).map_or(f64::MAX, |v| v.seen)
}

fn get_bool(v: &[bool], i: usize) -> bool {
    v.get(i).copied().unwrap_or(false)
}

mod coordinates;
mod layers;

use coordinates::{columns, routes};
use layers::{layers, loops_and_discovery, order};

#[cfg(test)]
mod tests;
