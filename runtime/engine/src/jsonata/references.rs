//! What an expression reads from its context at the top level (`phone`, `a.b`, `$`):
//! Step Functions evaluates `{% %}` expressions with no context value, so AWS refuses
//! such references when a definition is validated.

use jsonata_core::ast::{AstNode, BinaryOp};

/// The field names (and `$` for the context itself) read at the top level of `ast`, in
/// the order they appear, without repeats. Names inside predicates, later path steps,
/// lambdas and transforms read other values and are not reported.
pub fn top_level(ast: &AstNode) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    // An explicit stack: an expression such as `1+1+...+1` nests as deep as it is long.
    let mut pending = vec![ast];
    while let Some(node) = pending.pop() {
        let name = match node {
            AstNode::Name(name) => Some(name.clone()),
            AstNode::Variable(name) if name.is_empty() => Some("$".to_string()),
            AstNode::Path { steps } => {
                if let Some(first) = steps.first() {
                    pending.push(&first.node);
                }
                None
            }
            AstNode::Binary { op, lhs, rhs } => {
                if !matches!(op, BinaryOp::FocusBind | BinaryOp::IndexBind) {
                    pending.push(rhs);
                    pending.push(lhs);
                }
                None
            }
            AstNode::Unary { operand, .. } => {
                pending.push(operand);
                None
            }
            AstNode::Function { args, .. } => {
                pending.extend(args.iter().rev());
                None
            }
            AstNode::Call { procedure, args } => {
                pending.extend(args.iter().rev());
                pending.push(procedure);
                None
            }
            AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
                pending.extend(items.iter().rev());
                None
            }
            AstNode::Object(pairs) => {
                for (key, value) in pairs.iter().rev() {
                    pending.push(value);
                    pending.push(key);
                }
                None
            }
            AstNode::ObjectTransform { input, .. } | AstNode::Sort { input, .. } => {
                pending.push(input);
                None
            }
            AstNode::Conditional {
                condition,
                then_branch,
                else_branch,
            } => {
                if let Some(e) = else_branch {
                    pending.push(e);
                }
                pending.push(then_branch);
                pending.push(condition);
                None
            }
            _ => None,
        };
        if let Some(name) = name {
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}
