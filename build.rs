//! Rebuilds when a migration is added: the binary embeds `migrations/` (diesel_migrations'
//! `embed_migrations!`), and cargo does not notice a new directory by itself. Also records the
//! compiler's version for `build_info` in `GET /metrics`.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=DD_RUSTC_VERSION={version}");
}
