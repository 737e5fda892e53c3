//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds the files of `migrations/` at compile time but does not tell Cargo
//! to watch the folder on stable Rust.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
