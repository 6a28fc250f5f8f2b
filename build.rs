// `sqlx::migrate!` embeds migrations/ at compile time but cannot ask Cargo to watch the
// folder: a new migration file must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
