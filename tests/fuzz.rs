//! Time-boxed property fuzzing of the pure parsers, run one after the other by tests/run.sh: references
//! for GHCR_FUZZ_SECONDS (default 60); engine push-stream lines, image-archive manifests, scope and
//! challenge headers, and GitHub's and the engine's JSON for a quarter of that each. Ignored in a plain `cargo test`. Any input that fails becomes a unit test beside
//! the parser. Longer runs: `GHCR_FUZZ_SECONDS=3600 cargo test -p ghcr --test fuzz -- --ignored --nocapture`.

use ghcr::archive;
use ghcr::push::stream::{parse_line, LayerEvent, StreamLine};
use ghcr::reference::{self, Problem, Reference};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use regex::Regex;
use std::time::{Duration, Instant};

fn budget() -> Duration {
    let seconds = std::env::var("GHCR_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    Duration::from_secs_f64(seconds)
}

/// How often each parser under fuzzing accepted its input: a property that only holds "if it parsed"
/// would pass with a parser that never does, so each target also asserts a share of parsed cases.
#[derive(Default)]
struct Parsed(std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>);

impl Parsed {
    fn hit(&self, what: &'static str) {
        *self.0.lock().unwrap().entry(what).or_default() += 1;
    }

    /// Fails unless `what` parsed in at least `share` of `cases`; says how often each did.
    fn at_least(&self, what: &'static str, share: f64, cases: u64) {
        let counts = self.0.lock().unwrap();
        let hits = counts.get(what).copied().unwrap_or(0);
        println!(
            "  {what}: {hits} of {cases} ({:.1} %)",
            hits as f64 * 100.0 / cases.max(1) as f64
        );
        assert!(
            hits as f64 >= share * cases as f64,
            "{what} parsed only {hits} of {cases} cases: the generator or the parser is broken"
        );
    }
}

/// Runs `property` on values of `strategy` in rounds until `limit` has passed; returns the cases run.
fn run_for<S: Strategy>(
    limit: Duration,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let mut cases = 0;
    while started.elapsed() < limit {
        let mut runner = TestRunner::new(Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(failure) = runner.run(&strategy, &property) {
            panic!("property failed: {failure}");
        }
        cases += 512;
    }
    cases
}

/// The distribution project's reference grammar (reference/regexp.go) as a regular expression: the
/// independent oracle the hand-written parser is compared with.
fn grammar() -> Regex {
    let alphanumeric = "[a-z0-9]+";
    let separator = "(?:[._]|__|[-]+)";
    let path_component = format!("{alphanumeric}(?:{separator}{alphanumeric})*");
    let domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let host = format!(r"(?:{domain_component}(?:\.{domain_component})*|\[[a-fA-F0-9:]+\])");
    let domain = format!("{host}(?::[0-9]+)?");
    let name = format!("(?:{domain}/)?{path_component}(?:/{path_component})*");
    let tag = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    Regex::new(&format!("^{name}(?::{tag})?(?:@{digest})?$")).expect("the grammar compiles")
}

/// Mostly reference-shaped text: domains, ports, components with every separator, tags, digests, and
/// the characters people get wrong (uppercase, spaces, `+`, doubled separators).
fn reference_like() -> impl Strategy<Value = String> {
    let component = "[a-zA-Z0-9]{0,3}([._ +-]{0,3}[a-zA-Z0-9]{0,3}){0,3}";
    let domain = prop_oneof![
        Just(String::new()),
        Just("ghcr.io/".to_string()),
        Just("localhost/".to_string()),
        "[a-z0-9.-]{1,8}(:[0-9]{0,6})?/",
        "\\[[0-9a-f:]{1,6}\\](:[0-9]{1,5})?/",
    ];
    let tag = prop_oneof![
        Just(String::new()),
        ":[a-zA-Z0-9_.+-]{0,8}",
        ":[a-z]{120,135}"
    ];
    let digest = prop_oneof![
        Just(String::new()),
        "@sha256:[0-9a-fA-Fg]{60,66}",
        "@[a-z+._-]{1,6}:[0-9a-f]{30,34}",
    ];
    (
        domain,
        proptest::collection::vec(component, 1..5),
        tag,
        digest,
    )
        .prop_map(|(domain, path, tag, digest)| format!("{domain}{}{tag}{digest}", path.join("/")))
}

/// References the grammar accepts: lowercase components with every kind of separator, domains with
/// and without ports, tags and digests — so the accepting path is fuzzed as hard as the refusing one.
fn valid_reference() -> impl Strategy<Value = String> {
    let component = "[a-z0-9]{1,4}(([._]|__|-{1,2})[a-z0-9]{1,4}){0,2}";
    let domain = prop_oneof![
        Just(String::new()),
        Just("ghcr.io/".to_string()),
        Just("localhost:5000/".to_string()),
        "[a-z0-9]{1,6}\\.[a-z]{2,3}(:[0-9]{1,4})?/",
    ];
    let tag = prop_oneof![Just(String::new()), ":[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,10}"];
    let digest = prop_oneof![3 => Just(String::new()), 1 => "@sha256:[0-9a-f]{64}"];
    (
        domain,
        proptest::collection::vec(component, 1..4),
        tag,
        digest,
    )
        .prop_map(|(domain, path, tag, digest)| format!("{domain}{}{tag}{digest}", path.join("/")))
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => valid_reference(),
        3 => reference_like(),
        1 => "[ -~]{0,300}",
        1 => any::<String>(),
    ]
}

/// Ways the parser is stricter than the bare grammar, by design: it decides what a domain is as Docker
/// does (so `MyOrg/app` is an uppercase owner, not a host), knows digest lengths, and limits names and
/// ports; `[a]/x` has no `:` so, for Docker too, `[a]` is a path component, where `[` is not allowed.
fn stricter_by_design(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::Uppercase { .. }
            | Problem::NameTooLong { .. }
            | Problem::DigestInvalid { .. }
            | Problem::BadDomain { .. }
            | Problem::BadCharacter {
                character: '[' | ']',
                ..
            }
    )
}

#[test]
#[ignore = "time-boxed fuzzing; tests/run.sh runs it with GHCR_FUZZ_SECONDS"]
fn references_agree_with_the_grammar_round_trip_and_fixes_are_valid() {
    let grammar = grammar();
    let parsed_cases = Parsed::default();
    let cases = run_for(budget(), any_text(), |text| {
        match Reference::parse(&text) {
            Ok(parsed) => {
                parsed_cases.hit("references");
                prop_assert!(
                    grammar.is_match(&text),
                    "parser accepts {text:?}, grammar does not"
                );
                prop_assert_eq!(parsed.to_string(), text.clone());
                prop_assert_eq!(Reference::parse(&parsed.to_string()).ok(), Some(parsed));
            }
            Err(invalid) => {
                prop_assert!(!invalid.problems.is_empty());
                if grammar.is_match(&text) {
                    prop_assert!(
                        invalid.problems.iter().all(stricter_by_design),
                        "grammar accepts {text:?}, parser says {invalid}"
                    );
                }
                if let Some(fix) = &invalid.fix {
                    prop_assert!(
                        Reference::parse(fix).is_ok(),
                        "fix {fix:?} of {text:?} is invalid"
                    );
                }
            }
        }
        match reference::tag_target(&text, "ghcr.io") {
            Ok(target) => {
                parsed_cases.hit("tag targets");
                prop_assert!(target.tag().is_some() && target.digest().is_none());
                prop_assert!(Reference::parse(&target.to_string()).is_ok());
            }
            Err(invalid) => {
                if let Some(fix) = &invalid.fix {
                    prop_assert!(
                        reference::tag_target(fix, "ghcr.io").is_ok(),
                        "tag fix {fix:?} of {text:?} is invalid"
                    );
                }
            }
        }
        if let Ok(source) = Reference::parse(&text) {
            let proposal = reference::propose("ghcr.io", "Octo-Cat", &source);
            prop_assert!(
                reference::tag_target(&proposal, "ghcr.io").is_ok(),
                "{proposal}"
            );
        }
        Ok(())
    });
    println!("references: {cases} cases without a failure");
    parsed_cases.at_least("references", 0.10, cases);
    parsed_cases.at_least("tag targets", 0.05, cases);
}

/// Push-stream lines: real shapes with random values, and plain garbage.
fn push_line() -> impl Strategy<Value = Vec<u8>> {
    let status = prop_oneof![
        Just("Preparing".to_string()),
        Just("Pushing".to_string()),
        Just("Pushed".to_string()),
        Just("Layer already exists".to_string()),
        "Mounted from [a-z/]{0,12}",
        "Retrying in [0-9]{1,2} seconds",
        "[ -~]{0,20}",
    ];
    let shaped = (status, "[a-f0-9]{0,12}", any::<u64>(), any::<u64>(), any::<bool>()).prop_map(
        |(status, id, current, total, error)| {
            if error {
                format!(r#"{{"errorDetail":{{"message":"{id}"}},"error":"{status}"}}"#)
            } else {
                format!(
                    r#"{{"status":"{status}","progressDetail":{{"current":{current},"total":{total}}},"id":"{id}"}}"#
                )
            }
            .into_bytes()
        },
    );
    prop_oneof![
        3 => shaped,
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

#[test]
#[ignore = "time-boxed fuzzing; tests/run.sh runs it with GHCR_FUZZ_SECONDS"]
fn push_stream_lines_never_panic_and_layer_events_keep_their_layer() {
    let parsed = Parsed::default();
    let cases = run_for(budget().mul_f64(0.25), push_line(), |line| {
        match parse_line(&line) {
            StreamLine::Layer { id, event } => {
                parsed.hit("layer events");
                prop_assert!(!id.is_empty());
                if let LayerEvent::Uploading { total, .. } = event {
                    prop_assert!(total != Some(0));
                }
            }
            StreamLine::Failed(error) => {
                parsed.hit("failures");
                prop_assert!(error.message.starts_with("The push failed"))
            }
            _ => {}
        }
        Ok(())
    });
    println!("push stream lines: {cases} cases without a failure");
    parsed.at_least("layer events", 0.25, cases);
    parsed.at_least("failures", 0.05, cases);
}

/// Archive manifests: docker-archive `manifest.json`, OCI index and manifest, and image configs, in
/// their real shapes with random values, and plain garbage.
fn archive_json() -> impl Strategy<Value = Vec<u8>> {
    let digest = prop_oneof![
        "sha256:[a-f0-9]{64}",
        "sha256:[a-f0-9]{0,70}",
        "[a-z0-9]{1,8}:[ -~]{0,20}",
    ];
    let text = "[ -~&&[^\"\\\\]]{0,16}";
    let shaped = (digest.clone(), digest, text, any::<u64>(), 0usize..4).prop_map(
        |(first, second, text, size, shape)| {
            match shape {
                0 => format!(r#"[{{"Config":"{text}.json","RepoTags":["{text}"],"Layers":["{text}/layer.tar"]}}]"#),
                1 => format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{text}","digest":"{first}","size":{size}}}]}}"#),
                2 => format!(r#"{{"schemaVersion":2,"config":{{"mediaType":"{text}","digest":"{first}","size":{size}}},"layers":[{{"mediaType":"{text}","digest":"{second}","size":{size}}}]}}"#),
                _ => format!(r#"{{"config":{{"Labels":{{"{text}":"{text}"}}}},"rootfs":{{"type":"layers","diff_ids":["{first}","{second}"]}}}}"#),
            }
            .into_bytes()
        },
    );
    prop_oneof![
        3 => shaped,
        1 => proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

#[test]
#[ignore = "time-boxed fuzzing; tests/run.sh runs it with GHCR_FUZZ_SECONDS"]
fn archive_manifests_never_panic_and_only_sha256_digests_get_through() {
    let labels = std::collections::BTreeMap::from([(
        "org.opencontainers.image.source".to_string(),
        "https://github.com/o/r".to_string(),
    )]);
    let parsed = Parsed::default();
    let cases = run_for(budget().mul_f64(0.25), archive_json(), |bytes| {
        if let Ok(images) = archive::parse_docker_manifest(&bytes) {
            parsed.hit("docker-archive manifests");
            prop_assert!(!images.is_empty());
            let _ = archive::pick_docker_image(&images, Some("x"));
        }
        if let Ok(index) = archive::parse_index(&bytes) {
            parsed.hit("OCI indexes");
            prop_assert!(index
                .manifests
                .iter()
                .all(|d| archive::is_sha256_digest(&d.digest)));
            let _ = archive::pick_oci_image(&index, None);
        }
        if let Ok(manifest) = archive::parse_manifest(&bytes) {
            parsed.hit("OCI manifests");
            prop_assert!(archive::is_sha256_digest(&manifest.config.digest));
            prop_assert!(manifest
                .layers
                .iter()
                .all(|d| archive::is_sha256_digest(&d.digest)));
        }
        if let Ok(diff_ids) = archive::diff_ids(&bytes) {
            parsed.hit("image configs");
            prop_assert!(diff_ids.iter().all(|d| archive::is_sha256_digest(d)));
        }
        if let Ok(relabelled) = archive::with_labels(&bytes, &labels) {
            let value: serde_json::Value = serde_json::from_slice(&relabelled)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                &value["config"]["Labels"]["org.opencontainers.image.source"],
                "https://github.com/o/r"
            );
        }
        Ok(())
    });
    println!("archive manifests: {cases} cases without a failure");
    for what in [
        "docker-archive manifests",
        "OCI indexes",
        "OCI manifests",
        "image configs",
    ] {
        parsed.at_least(what, 0.01, cases);
    }
}

/// `X-OAuth-Scopes` values (scope lists with odd spacing and repeats, and garbage) and registry
/// `WWW-Authenticate` challenges (Bearer with quoted or bare parameters in any order, and garbage).
fn header() -> impl Strategy<Value = (Vec<String>, String, String, String)> {
    let scope = prop_oneof![
        Just("read:packages".to_string()),
        Just("write:packages".to_string()),
        Just("delete:packages".to_string()),
        Just("repo".to_string()),
        "[a-z:_]{1,20}",
    ];
    let scopes = proptest::collection::vec(scope, 0..6);
    let separator = prop_oneof![Just(",".to_string()), "[ \t]{0,3},[ \t]{0,3}"];
    let realm = "https?://[a-z0-9.:/]{1,30}";
    let service = "[a-z0-9.:-]{0,20}";
    let garbage = "[ -~]{0,80}";
    (
        scopes,
        separator,
        realm,
        service,
        garbage,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(scopes, separator, realm, service, garbage, quoted, reversed)| {
                let listed = if scopes.is_empty() {
                    garbage.clone()
                } else {
                    scopes.join(&separator)
                };
                let quote = |v: &str| {
                    if quoted {
                        format!("\"{v}\"")
                    } else {
                        v.to_string()
                    }
                };
                let mut params = [
                    format!("realm={}", quote(&realm)),
                    format!("service={}", quote(&service)),
                    "scope=\"repository:o/n:pull,push\"".to_string(),
                ];
                if reversed {
                    params.reverse();
                }
                let challenge = format!("Bearer {}", params.join(","));
                (scopes, listed, challenge, garbage)
            },
        )
}

#[test]
#[ignore = "time-boxed fuzzing; tests/run.sh runs it with GHCR_FUZZ_SECONDS"]
fn scope_and_challenge_headers_never_panic_and_keep_what_was_sent() {
    use ghcr::github::parse_scopes_header;
    use ghcr::registry::parse_bearer_challenge;
    use ghcr::token::scopes::ScopeCheck;
    let counted = Parsed::default();
    let cases = run_for(
        budget().mul_f64(0.25),
        header(),
        |(scopes, listed, challenge, garbage)| {
            let parsed = parse_scopes_header(&listed);
            if !parsed.is_empty() {
                counted.hit("scope lists");
            }
            for scope in &parsed {
                prop_assert!(!scope.is_empty() && !scope.contains(',') && scope.trim() == scope);
            }
            let mut unique = parsed.clone();
            unique.dedup();
            prop_assert_eq!(unique.len(), parsed.len(), "no repeats");
            if !scopes.is_empty() {
                let mut sent: Vec<&str> = scopes.iter().map(String::as_str).collect();
                sent.sort();
                sent.dedup();
                let mut got: Vec<&str> = parsed.iter().map(String::as_str).collect();
                got.sort();
                prop_assert_eq!(got, sent);
            }
            let check = ScopeCheck::of(&parsed);
            prop_assert!(!check.write || check.read, "write implies read");
            prop_assert_eq!(check.missing.iter().any(|m| m.required), !check.write);

            let found = parse_bearer_challenge(&challenge).expect("a Bearer challenge parses");
            counted.hit("challenges");
            let realm = challenge
                .split("realm=")
                .nth(1)
                .and_then(|rest| rest.trim_start_matches('"').split(['"', ',']).next())
                .unwrap_or_default();
            prop_assert_eq!(found.realm.as_str(), realm);
            let _ = parse_bearer_challenge(&garbage);
            let _ = parse_bearer_challenge(&format!("Bearer {garbage}"));
            Ok(())
        },
    );
    println!("scope and challenge headers: {cases} cases without a failure");
    counted.at_least("scope lists", 0.30, cases);
    counted.at_least("challenges", 1.0, cases);
}

/// What GitHub's packages API and the Engine API send, in their documented shapes (nulls where they
/// send nulls, fields we don't read, odd values) and as garbage.
fn service_json() -> impl Strategy<Value = (usize, Vec<u8>)> {
    let text = "[ -~&&[^\"\\\\]]{0,16}";
    let tags = proptest::collection::vec("[a-z0-9._-]{1,10}", 0..3);
    let reference = prop_oneof![
        "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}:[a-z0-9.]{1,8}",
        Just("<none>:<none>".to_string()),
        "[ -~&&[^\"\\\\]]{0,20}",
    ];
    let references = proptest::option::of(proptest::collection::vec(reference, 0..4));
    let shaped = (
        0usize..4,
        text,
        tags,
        references,
        any::<i64>(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(shape, text, tags, references, number, id, null)| {
            let kind = if null { "image" } else { text.as_str() };
            let repository = if null {
                "null".to_string()
            } else {
                format!(r#"{{"full_name":"o/{text}","html_url":"https://github.com/o/{text}","private":false}}"#)
            };
            let tags = serde_json::to_string(&tags).unwrap_or_default();
            let references = serde_json::to_string(&references).unwrap_or_default();
            let body = match shape {
                0 => format!(
                    r#"[{{"id":{id},"name":"{text}","package_type":"container","owner":{{"login":"{text}","id":1,"type":"User"}},"version_count":{id},"visibility":"{text}","url":"u","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z","repository":{repository},"html_url":"h","extra":[1,2]}}]"#
                ),
                1 => format!(
                    r#"[{{"id":{id},"name":"sha256:{text}","url":"u","package_html_url":"p","created_at":"c","updated_at":"u","html_url":"h","description":null,"license":null,"metadata":{{"package_type":"container","container":{{"tags":{tags}}}}}}}]"#
                ),
                2 => format!(
                    r#"[{{"Id":"sha256:{text}","ParentId":"","RepoTags":{references},"RepoDigests":null,"Created":{number},"Size":{number},"SharedSize":-1,"Labels":null,"Containers":-1}}]"#
                ),
                _ => format!(
                    r#"{{"status":"tag","id":"{text}","Type":"{kind}","Action":"{text}","Actor":{{"ID":"sha256:{text}","Attributes":{{"name":"{text}"}}}},"scope":"local","time":{number},"timeNano":{number}}}"#
                ),
            };
            (shape, body.into_bytes())
        });
    prop_oneof![
        3 => shaped,
        1 => (0usize..4, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(s, b)| (s + 10, b)),
    ]
}

#[test]
#[ignore = "time-boxed fuzzing; tests/run.sh runs it with GHCR_FUZZ_SECONDS"]
fn github_and_engine_json_in_documented_shapes_always_parses_and_garbage_never_panics() {
    use ghcr::engine::events::parse_event;
    use ghcr::engine::images::{rows, ImageSummary};
    use ghcr::packages::{Package, Version};
    let parsed = Parsed::default();
    let cases = run_for(budget().mul_f64(0.25), service_json(), |(shape, body)| {
        let packages = serde_json::from_slice::<Vec<Package>>(&body);
        let versions = serde_json::from_slice::<Vec<Version>>(&body);
        let summaries = serde_json::from_slice::<Vec<ImageSummary>>(&body);
        let event = parse_event(&body);
        for (ok, what) in [
            (packages.is_ok(), "GitHub packages"),
            (versions.is_ok(), "GitHub versions"),
            (summaries.is_ok(), "engine image lists"),
            (event.is_some(), "engine image events"),
        ] {
            if ok {
                parsed.hit(what);
            }
        }
        match shape {
            0 => prop_assert!(packages.is_ok(), "{:?}", packages.err()),
            1 => {
                let versions = versions.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(versions.iter().all(|v| v.name.starts_with("sha256:")));
                let _ = versions.iter().map(Version::tags).count();
            }
            2 => prop_assert!(summaries.is_ok(), "{:?}", summaries.err()),
            3 => {
                let value: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let is_image = value["Type"] == "image" && value["Action"] != "";
                prop_assert_eq!(event.is_some(), is_image);
            }
            _ => {}
        }
        if let Ok(summaries) = summaries {
            let images = rows(&summaries, "ghcr.io");
            prop_assert!(images.len() >= summaries.len(), "a row per image at least");
            for image in &images {
                prop_assert!(image.short_id.len() <= 12);
                prop_assert!(!image.repository.is_empty());
            }
        }
        Ok(())
    });
    println!("GitHub and engine JSON: {cases} cases without a failure");
    parsed.at_least("GitHub packages", 0.10, cases);
    parsed.at_least("GitHub versions", 0.10, cases);
    parsed.at_least("engine image lists", 0.10, cases);
    parsed.at_least("engine image events", 0.02, cases);
}
