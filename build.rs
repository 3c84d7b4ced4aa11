//! Build script: links the `driftless` binary as a non-PIE executable, so the dynamic loader
//! has almost no relocations to process at start-up (the builder is run once per build, and
//! start-up is a visible share of a small build's time). Code stays position-independent.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=driftless=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
