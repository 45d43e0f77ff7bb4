//! Fixed forms of invalid names: lowercase, bad characters and separator runs turned into `-`, tags cut
//! to 128 characters — offered only when the result is itself valid. Pure.

use super::grammar::{is_separator, split_and_check, valid_separator};
use super::{Reference, TAG_MAX};

/// A path component made valid: lowercased, other characters turned into `-`, separator runs that
/// are not allowed turned into one `-`, separators trimmed from the ends. `None` when nothing is left.
pub(super) fn fix_component(component: &str) -> Option<String> {
    let lowered: String = component
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || is_separator(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut fixed = String::new();
    let mut run = String::new();
    for c in lowered.chars() {
        if is_separator(c) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            fixed.push_str(if valid_separator(&run) { &run } else { "-" });
            run.clear();
        }
        fixed.push(c);
    }
    let fixed = fixed.trim_matches(is_separator).to_string();
    (!fixed.is_empty()).then_some(fixed)
}

/// A tag made valid: other characters turned into `-` (`1.0+build` → `1.0-build`), leading `.`/`-`
/// dropped, cut to 128 characters.
pub(super) fn fix_tag(tag: &str) -> Option<String> {
    let replaced: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = replaced
        .trim_start_matches(['.', '-'])
        .chars()
        .take(TAG_MAX)
        .collect();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// The nearest valid reference to `text`, if fixing the path and tag gives one that differs.
pub(super) fn fixed(text: &str) -> Option<String> {
    let text = text.trim();
    let (Some(reference), _) = split_and_check(text) else {
        return None;
    };
    let path: Vec<String> = reference
        .path
        .split('/')
        .filter_map(fix_component)
        .collect();
    if path.is_empty() {
        return None;
    }
    let candidate = Reference {
        domain: reference.domain.clone(),
        path: path.join("/"),
        tag: match &reference.tag {
            Some(tag) => Some(fix_tag(tag)?),
            None => None,
        },
        digest: reference.digest.clone(),
    }
    .to_string();
    let (parsed, problems) = split_and_check(&candidate);
    (parsed.is_some() && problems.is_empty() && candidate != text).then_some(candidate)
}
