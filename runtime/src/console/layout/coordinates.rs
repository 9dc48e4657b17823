//! Step 4 of the layout and the edges: x positions packed towards each node's wish, and
//! the routes edges take between the nodes.

use super::*;

/// Horizontal centres: each row pulled towards its neighbours, without overlaps.
pub(super) fn columns(
    rows: &[Vec<usize>],
    vertices: &[Vertex],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
) -> Vec<f64> {
    let mut centre = vec![0.0f64; vertices.len()];
    let width = |v: usize| vertices.get(v).map_or(0.0, |v| v.width);
    let real = |v: usize| vertices.get(v).is_some_and(|v| v.real);
    let gap = |a: usize, b: usize| {
        let g = if real(a) && real(b) {
            NODE_GAP
        } else {
            DUMMY_GAP
        };
        width(a) / 2.0 + g + width(b) / 2.0
    };
    for row in rows {
        let mut x = 0.0;
        let mut previous = None;
        for &v in row {
            if let Some(p) = previous {
                x += gap(p, v);
            }
            if let Some(c) = centre.get_mut(v) {
                *c = x;
            }
            previous = Some(v);
        }
        let shift = x / 2.0;
        for &v in row {
            if let Some(c) = centre.get_mut(v) {
                *c -= shift;
            }
        }
    }
    for sweep in 0..SWEEPS {
        let downwards = sweep % 2 == 0;
        let neighbours = if downwards { up } else { down };
        let layers: Vec<usize> = if downwards {
            (1..rows.len()).collect()
        } else {
            (0..rows.len().saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let Some(row) = rows.get(l) else { continue };
            let wish: Vec<f64> = row
                .iter()
                .map(|&v| {
                    let ns = neighbours.get(v).map(Vec::as_slice).unwrap_or_default();
                    if ns.is_empty() {
                        get(&centre, v)
                    } else {
                        ns.iter().map(|&u| get(&centre, u)).sum::<f64>() / ns.len() as f64
                    }
                })
                .collect();
            let placed = pack(row, &wish, &gap);
            for (&v, x) in row.iter().zip(placed) {
                if let Some(c) = centre.get_mut(v) {
                    *c = x;
                }
            }
        }
    }
    let left = vertices
        .iter()
        .zip(&centre)
        .map(|(v, c)| c - v.width / 2.0)
        .fold(f64::MAX, f64::min);
    let shift = if left == f64::MAX { 0.0 } else { MARGIN - left };
    centre.iter().map(|c| c + shift).collect()
}

/// Places a row's vertices as near their wished centres as the gaps allow: touching
/// vertices form blocks, each at the mean of its members' wishes (least squares).
pub(super) fn pack(row: &[usize], wish: &[f64], gap: &impl Fn(usize, usize) -> f64) -> Vec<f64> {
    // Each block: first member index, member count, offsets from the first, position.
    struct Block {
        first: usize,
        offsets: Vec<f64>,
        at: f64,
    }
    let mut blocks: Vec<Block> = Vec::new();
    for (i, &v) in row.iter().enumerate() {
        let mut block = Block {
            first: i,
            offsets: vec![0.0],
            at: get(wish, i),
        };
        while let Some(prev) = blocks.last() {
            let last = prev.first + prev.offsets.len() - 1;
            let last_offset = prev.offsets.last().copied().unwrap_or(0.0);
            let needed = gap(row.get(last).copied().unwrap_or(v), v);
            if prev.at + last_offset + needed <= block.at {
                break;
            }
            let Some(prev) = blocks.pop() else { break };
            let joint = last_offset + needed;
            let mut offsets = prev.offsets;
            offsets.extend(block.offsets.iter().map(|o| o + joint));
            let members = offsets.len() as f64;
            let at = offsets
                .iter()
                .enumerate()
                .map(|(k, o)| get(wish, prev.first + k) - o)
                .sum::<f64>()
                / members;
            block = Block {
                first: prev.first,
                offsets,
                at,
            };
        }
        blocks.push(block);
    }
    blocks
        .iter()
        .flat_map(|b| b.offsets.iter().map(move |o| b.at + o))
        .collect()
}

/// Polylines: forward edges leave the bottom and enter the top, spread over the border
/// and passing through their dummies; loop edges go up on the right of everything.
pub(super) fn routes(
    edges: &[(usize, usize)],
    back: &[bool],
    chains: &[Vec<usize>],
    rect: &impl Fn(usize) -> Rect,
    layer: &[usize],
    rows: &[Vec<usize>],
) -> Vec<Vec<[f64; 2]>> {
    // Ports: a node's outgoing forward edges spread along its bottom, ordered by where
    // they go (then by edge, so parallel edges stay apart); incoming ones along its top.
    let centre = |v: usize| {
        let r = rect(v);
        r.x + r.w / 2.0
    };
    let ports = |outgoing: bool| -> Vec<f64> {
        let mut at = vec![0.0; chains.len()];
        let mut by_node: std::collections::BTreeMap<usize, Vec<(f64, usize)>> =
            std::collections::BTreeMap::new();
        for (i, chain) in chains.iter().enumerate() {
            let ends = match (outgoing, chain.as_slice()) {
                (true, [a, b, ..]) => Some((*a, *b)),
                (false, [.., a, b]) => Some((*b, *a)),
                _ => None,
            };
            if let Some((node, other)) = ends {
                by_node.entry(node).or_default().push((centre(other), i));
            }
        }
        for (node, mut edges) in by_node {
            edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let r = rect(node);
            let m = edges.len() as f64;
            for (k, (_, i)) in edges.into_iter().enumerate() {
                if let Some(x) = at.get_mut(i) {
                    *x = r.x + r.w * (k as f64 + 1.0) / (m + 1.0);
                }
            }
        }
        at
    };
    let out_ports = ports(true);
    let in_ports = ports(false);
    let mut loops = 0.0;
    let mut out = Vec::with_capacity(edges.len());
    for (i, &(a, b)) in edges.iter().enumerate() {
        if get_bool(back, i) {
            let (ra, rb) = (rect(a), rect(b));
            let (low, high) = (get(layer, b), get(layer, a));
            let beside = rows
                .iter()
                .skip(low)
                .take(high.saturating_sub(low) + 1)
                .flatten()
                .map(|&v| rect(v))
                .map(|r| r.x + r.w)
                .fold(ra.x + ra.w, f64::max);
            loops += 1.0;
            let x = beside + 10.0 * loops;
            // Leave high and come back low: a loop to itself stays visible.
            let (ya, yb) = (ra.y + ra.h * 0.3, rb.y + rb.h * 0.7);
            out.push(vec![[ra.x + ra.w, ya], [x, ya], [x, yb], [rb.x + rb.w, yb]]);
            continue;
        }
        let chain = chains.get(i).map(Vec::as_slice).unwrap_or_default();
        let mut points = Vec::new();
        if chain.len() >= 2 {
            let ra = rect(a);
            points.push([get(&out_ports, i), ra.y + ra.h]);
        }
        for &dummy in chain.iter().skip(1).take(chain.len().saturating_sub(2)) {
            let r = rect(dummy);
            let row_top = r.y;
            points.push([r.x + r.w / 2.0, row_top - 4.0]);
            points.push([r.x + r.w / 2.0, row_top + 4.0]);
        }
        if chain.len() >= 2 {
            let rb = rect(b);
            points.push([get(&in_ports, i), rb.y]);
        }
        out.push(points);
    }
    out
}
