//! The layering rule: only `src/http/` knows actix, only `src/db/` knows diesel, and
//! `src/domain/` knows neither. Checked on the source so the walls do not erode quietly.

use std::path::Path;

use crate::harness::walk;

#[test]
fn frameworks_stay_in_their_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for file in walk(&src)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).unwrap();
        let uses = |name: &str| {
            text.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains(&format!("{name}::")) || l.contains(&format!("{name}_")))
        };
        if !rel.starts_with("http/") && (uses("actix_web") || uses("actix") || uses("utoipa")) {
            violations.push(format!("{rel} uses actix/utoipa outside src/http/"));
        }
        if !rel.starts_with("db/") && uses("diesel") {
            violations.push(format!("{rel} uses diesel outside src/db/"));
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}
