//! `convqa classify`: STUB, filled in by the inference work.
#[derive(Debug, clap::Args)]
pub struct Args {}
pub fn run(_a: Args) -> anyhow::Result<super::Outcome> {
    anyhow::bail!("not implemented yet")
}
