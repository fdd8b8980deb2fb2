//! Parity harness for `convqa::topics::cluster` (not part of the product): reads
//! `{"k": K, "rows": [[f32, ...], ...]}` on stdin, clusters as `convqa topics` will (centre,
//! average linkage to K groups, k-means from their means) and prints one label per row as a JSON
//! array. `calibration/topics/parity.py` compares it with the study's scikit-learn run.
//!
//!     cargo run --release --example cluster_rows < rows.json

use std::io::Read;

use convqa::topics::cluster::{average_linkage, centre, kmeans, means};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let v: serde_json::Value = serde_json::from_str(&input)?;
    let k = v["k"].as_u64().ok_or("k missing")? as usize;
    let rows: Vec<Vec<f32>> = serde_json::from_value(v["rows"].clone())?;
    let (_, centred) = centre(&rows);
    let seeds = average_linkage(&centred, k);
    let (labels, _) = kmeans(&centred[..], means(&centred, &seeds, k), 300)?;
    println!("{}", serde_json::to_string(&labels)?);
    Ok(())
}
