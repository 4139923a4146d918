//! Rebuilds when a migration is added: the binary embeds `migrations/` (diesel_migrations'
//! `embed_migrations!`), and cargo does not notice a new directory by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
