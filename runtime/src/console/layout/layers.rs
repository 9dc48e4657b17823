//! Steps 1 to 3 of the layout: loops set aside, layers by longest path, and the order
//! within layers with the fewest crossings.

use super::*;

/// DFS from node 0, then from every node not reached: which edges close a loop, and
/// the order nodes were discovered in.
pub(super) fn loops_and_discovery(n: usize, edges: &[(usize, usize)]) -> (Vec<bool>, Vec<usize>) {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(a, b)) in edges.iter().enumerate() {
        if let Some(o) = out.get_mut(a) {
            o.push((i, b));
        }
    }
    // 0 = new, 1 = on the DFS stack, 2 = done.
    let mut mark = vec![0u8; n];
    let mut seen = vec![0usize; n];
    let mut back = vec![false; edges.len()];
    let mut count = 0;
    for root in 0..n {
        if get(&mark, root) != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        if let Some(m) = mark.get_mut(root) {
            *m = 1;
        }
        if let Some(s) = seen.get_mut(root) {
            *s = count;
        }
        count += 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&(edge, target)) = out.get(node).and_then(|o| o.get(*next)) else {
                if let Some(m) = mark.get_mut(node) {
                    *m = 2;
                }
                stack.pop();
                continue;
            };
            *next += 1;
            match get(&mark, target) {
                0 => {
                    if let Some(m) = mark.get_mut(target) {
                        *m = 1;
                    }
                    if let Some(s) = seen.get_mut(target) {
                        *s = count;
                    }
                    count += 1;
                    stack.push((target, 0));
                }
                1 => {
                    if let Some(b) = back.get_mut(edge) {
                        *b = true;
                    }
                }
                _ => {}
            }
        }
    }
    (back, seen)
}

/// Longest-path layers over the forward edges; `sink` below everything else.
pub(super) fn layers(
    n: usize,
    edges: &[(usize, usize)],
    back: &[bool],
    sink: Option<usize>,
) -> Vec<usize> {
    let mut layer = vec![0usize; n];
    let mut incoming = vec![0usize; n];
    let forward: Vec<(usize, usize)> = edges
        .iter()
        .zip(back)
        .filter(|(_, &b)| !b)
        .map(|(&e, _)| e)
        .collect();
    for &(_, b) in &forward {
        if let Some(c) = incoming.get_mut(b) {
            *c += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| get(&incoming, i) == 0).collect();
    while let Some(node) = ready.pop() {
        for &(a, b) in &forward {
            if a != node {
                continue;
            }
            let l = get(&layer, a) + 1;
            if let Some(t) = layer.get_mut(b) {
                *t = (*t).max(l);
            }
            if let Some(c) = incoming.get_mut(b) {
                *c -= 1;
                if *c == 0 {
                    ready.push(b);
                }
            }
        }
    }
    if let Some(s) = sink {
        let bottom = (0..n)
            .filter(|&i| i != s)
            .map(|i| get(&layer, i) + 1)
            .max()
            .unwrap_or(0);
        if let Some(l) = layer.get_mut(s) {
            *l = bottom.max(*l);
        }
    }
    layer
}

/// Orders each row by barycenter sweeps; keeps the best order and returns its crossings.
pub(super) fn order(
    rows: &mut [Vec<usize>],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
    count: usize,
) -> usize {
    let mut position = vec![0.0f64; count];
    let index = |rows: &[Vec<usize>], position: &mut Vec<f64>| {
        for row in rows {
            for (i, &v) in row.iter().enumerate() {
                if let Some(p) = position.get_mut(v) {
                    *p = i as f64;
                }
            }
        }
    };
    index(rows, &mut position);
    let mut best = rows.to_vec();
    let mut best_crossings = crossings(rows, down, &position);
    for sweep in 0..SWEEPS * 2 {
        let downwards = sweep % 2 == 0;
        let layers: Vec<usize> = if downwards {
            (1..rows.len()).collect()
        } else {
            (0..rows.len().saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let neighbours = if downwards { up } else { down };
            let Some(row) = rows.get_mut(l) else { continue };
            let keys: Vec<(usize, f64)> = row
                .iter()
                .map(|&v| {
                    let ns = neighbours.get(v).map(Vec::as_slice).unwrap_or_default();
                    let key = if ns.is_empty() {
                        get(&position, v)
                    } else {
                        ns.iter().map(|&u| get(&position, u)).sum::<f64>() / ns.len() as f64
                    };
                    (v, key)
                })
                .collect();
            let mut sorted = keys;
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
            *row = sorted.into_iter().map(|(v, _)| v).collect();
            for (i, &v) in row.iter().enumerate() {
                if let Some(p) = position.get_mut(v) {
                    *p = i as f64;
                }
            }
        }
        let c = crossings(rows, down, &position);
        if c < best_crossings {
            best_crossings = c;
            best = rows.to_vec();
        }
    }
    rows.clone_from_slice(&best);
    best_crossings
}

/// Edge crossings between consecutive rows, with `position` the index within a row.
pub(super) fn crossings(rows: &[Vec<usize>], down: &[Vec<usize>], position: &[f64]) -> usize {
    let mut total = 0;
    for row in rows {
        let mut pairs: Vec<(f64, f64)> = row
            .iter()
            .flat_map(|&a| {
                down.get(a)
                    .into_iter()
                    .flatten()
                    .map(move |&b| (get(position, a), get(position, b)))
            })
            .collect();
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        for (i, p) in pairs.iter().enumerate() {
            total += pairs
                .iter()
                .skip(i + 1)
                .filter(|q| q.0 > p.0 && q.1 < p.1)
                .count();
        }
    }
    total
}
