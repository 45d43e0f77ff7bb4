//! Distribution's reference grammar, checked part by part so that every problem can be named: the
//! domain (host and port), the path's components and separators, the tag and the digest. Pure.

use super::{Problem, Reference, NAME_MAX, TAG_MAX};

/// Splits `text` into its parts and lists everything wrong with them. Returns the parts when they
/// could be told apart at all.
pub(super) fn split_and_check(text: &str) -> (Option<Reference>, Vec<Problem>) {
    let mut problems = Vec::new();
    if text.is_empty() {
        return (None, vec![Problem::Empty]);
    }
    let (name_and_tag, digest) = match text.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        if !valid_digest(digest) {
            problems.push(Problem::DigestInvalid {
                digest: digest.to_string(),
            });
        }
    }
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        problems.extend(tag_problems(tag));
    }
    let (domain, path) = split_domain(name);
    if let Some(domain) = domain {
        if !valid_domain(domain) {
            problems.push(Problem::BadDomain {
                domain: domain.to_string(),
            });
        }
    }
    if path.is_empty() {
        problems.push(Problem::Empty);
    } else {
        problems.extend(path_problems(path));
    }
    if name.len() > NAME_MAX {
        problems.push(Problem::NameTooLong { length: name.len() });
    }
    let reference = Reference {
        domain: domain.map(str::to_string),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    };
    (Some(reference), problems)
}

fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ipv6, after)) => {
                if ipv6.is_empty() || !ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                    return false;
                }
                match after {
                    "" => return true,
                    _ => ("ipv6", after.strip_prefix(':').map(Some).unwrap_or(None)),
                }
            }
            None => return false,
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    } else if domain.starts_with('[') {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn path_problems(path: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for component in path.split('/') {
        if component.is_empty() {
            if !problems.contains(&Problem::EmptyComponent) {
                problems.push(Problem::EmptyComponent);
            }
            continue;
        }
        if let Some(character) = component
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            problems.push(Problem::BadCharacter {
                character,
                part: "name",
            });
        }
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            problems.push(Problem::Uppercase {
                component: component.to_string(),
            });
        }
        if !separators_valid(component) {
            problems.push(Problem::BadSeparator {
                component: component.to_string(),
            });
        }
    }
    problems
}

pub(super) fn is_separator(c: char) -> bool {
    matches!(c, '.' | '_' | '-')
}

/// `alnum+ (separator alnum+)*` where a separator is `.`, `_`, `__` or one or more `-`. Characters
/// that are neither are reported elsewhere and count as alphanumerics here.
fn separators_valid(component: &str) -> bool {
    let chars: Vec<char> = component.chars().collect();
    if chars.first().is_some_and(|&c| is_separator(c))
        || chars.last().is_some_and(|&c| is_separator(c))
    {
        return false;
    }
    let mut run = String::new();
    for &c in &chars {
        if is_separator(c) {
            run.push(c);
        } else {
            if !run.is_empty() && !valid_separator(&run) {
                return false;
            }
            run.clear();
        }
    }
    true
}

pub(super) fn valid_separator(run: &str) -> bool {
    matches!(run, "." | "_" | "__") || run.chars().all(|c| c == '-')
}

fn tag_problems(tag: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_well = tag.chars().next().is_some_and(word);
    if !starts_well || !tag.chars().all(|c| word(c) || c == '.' || c == '-') {
        problems.push(Problem::TagInvalid {
            tag: tag.to_string(),
        });
    }
    if tag.chars().count() > TAG_MAX {
        problems.push(Problem::TagTooLong {
            length: tag.chars().count(),
        });
    }
    problems
}

fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let hex_ok = |len: usize| hex.len() == len && hex.chars().all(|c| c.is_ascii_hexdigit());
    match algorithm {
        "sha256" => hex_ok(64),
        "sha512" => hex_ok(128),
        _ => {
            let algorithm_ok = !algorithm.is_empty()
                && algorithm.split(['+', '.', '-', '_']).all(|part| {
                    part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && part.chars().all(|c| c.is_ascii_alphanumeric())
                });
            algorithm_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
    }
}
