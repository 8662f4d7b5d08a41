//! What the exactness scan (`node_ipc_rs::jsonscan`) costs per frame, next to building the
//! batch's JSON array text (`FrameArray::build`, which runs the scan, whole or split into event
//! name numbers and data):
//! `cargo run --release --example jsonscan_cost`. The frames are the benchmark's echo messages
//! (`{"type":"echo","data":{"seq":N,"s":"x…"}}`, about 80 bytes) and 1 KiB ones.

use std::hint::black_box;
use std::time::Instant;

use node_ipc_rs::batch::{FrameArray, TypeTable};
use node_ipc_rs::jsonscan::is_single_value;

fn batch(frames: usize, pad: usize) -> Vec<u8> {
    let s = "x".repeat(pad);
    let mut b = Vec::new();
    for i in 0..frames {
        b.extend_from_slice(
            format!("{{\"type\":\"echo\",\"data\":{{\"seq\":{},\"s\":\"{s}\"}}}}\x0c", 100000 + i).as_bytes(),
        );
    }
    b
}

fn main() {
    for (pad, label) in [(43, "80-byte frames"), (1000, "1 KiB frames")] {
        let b = batch(800, pad);
        let frames: Vec<&[u8]> = b.split(|&c| c == 0x0c).filter(|f| !f.is_empty()).collect();
        let mut arr = FrameArray::default();
        let reps = 2000;
        let mut time_build = |mut table: Option<&mut TypeTable>| {
            for _ in 0..100 {
                arr.build(black_box(&b), b"\x0c", table.as_deref_mut()); // warm up
            }
            let t = Instant::now();
            for _ in 0..reps {
                arr.build(black_box(&b), b"\x0c", table.as_deref_mut());
                assert!(arr.exact());
            }
            t.elapsed().as_nanos() as f64 / (reps * frames.len()) as f64
        };
        let whole = time_build(None);
        let split = time_build(Some(&mut TypeTable::default()));
        let t = Instant::now();
        let mut ok = 0;
        for _ in 0..reps {
            for f in &frames {
                ok += is_single_value(black_box(f)) as usize;
            }
        }
        assert_eq!(ok, reps * frames.len());
        let scan = t.elapsed().as_nanos() as f64 / (reps * frames.len()) as f64;
        let bytes = b.len() as f64 / frames.len() as f64;
        println!(
            "{label} ({bytes:.0} B): scan {scan:.1} ns/frame ({:.2} GB/s); FrameArray::build incl. scan: \
             {whole:.1} ns/frame sending frames whole, {split:.1} ns/frame splitting node-ipc envelopes",
            bytes / scan
        );
    }
}
