//! The fuzz targets' properties (fuzz/props.rs) on stable: every committed corpus file
//! (fuzz/corpus/<target>/, including the inputs that once found bugs) and, for a couple of
//! seconds per target, seeded random inputs shaped like the fuzzers' (mutations of the corpus
//! and of a few hand-written seeds). `NIRS_FUZZ_SMOKE_MS` changes the time per target,
//! `NIRS_FUZZ_SEED` the seed.

#[path = "../fuzz/props.rs"]
mod props;

use std::path::Path;
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    files.into_iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Inputs that exercise each property's interesting cases from the start.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let frames: &[&str] = &[
        "{\"type\":\"a\",\"data\":1}\x0c{\"type\":\"b\",\"data\":\"x,y\"}\x0c",
        "{\"type\":\"ping\",\"data\":\"\x0c\"},{\"type\":\"ping\",\"data\":{\"phantom\":1}}\x0c",
        "{\"type\":\"ping\",\"data\":[0\x0c0]},{\"type\":\"ping\",\"data\":1}",
        "[1,{\"a\":\"\\\"\"}]\x0c\"s\"\x0cnull\x0c-1.5e3\x0c",
        "{\"type\":\"constructor\"}\x0c{\"data\":2,\"type\":\"t\",\"type\":\"u\"}",
        "{\"type\":\"t\",\"data\":{\"id\":\"p\",\"n\":[1.0,1e400,\"\\ud800\"],\"\\u0069d\":[[{}]]}}",
    ];
    let mut out: Vec<Vec<u8>> = frames.iter().map(|s| s.as_bytes().to_vec()).collect();
    if target == "frame_decoder" {
        // choices first: delimiter length/bytes, limit, split points
        for s in frames {
            let mut v = vec![1, 0, 0, 1, 8, 0, 3, 5, 0, 9, 0, 20, 0];
            v.extend_from_slice(s.as_bytes());
            out.push(v);
        }
    }
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] =
    &[b"\"", b"\\", b",", b"[", b"]", b"{", b"}", b":", b"\x0c", b"|", b" ", b"\xe2", b"0", b"e"];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(4) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if at < v.len() => {
                let n = 1 + rng.below(4);
                v.drain(at..(at + n).min(v.len()));
            }
            2 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                v.splice(at..at, piece.iter().copied());
            }
            _ => {
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
        }
    }
    v
}

#[test]
fn properties_hold_on_corpora_and_random_inputs() {
    let per_target =
        Duration::from_millis(std::env::var("NIRS_FUZZ_SMOKE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500));
    let seed = std::env::var("NIRS_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_u64);
    for (name, prop) in props::ALL {
        let mut pool = corpus(name);
        let replayed = pool.len();
        for input in &pool {
            prop(input);
        }
        pool.extend(seeds(name));
        let mut rng = Rng(seed ^ name.len() as u64);
        let t0 = Instant::now();
        let mut runs = 0u64;
        while t0.elapsed() < per_target {
            let base = &pool[rng.below(pool.len())];
            let input = mutate(&mut rng, base);
            prop(&input);
            runs += 1;
            if runs % 64 == 0 && pool.len() < 4096 {
                pool.push(input);
            }
        }
        eprintln!("{name}: {replayed} corpus files, {runs} random inputs (seed {seed:#x})");
    }
}

#[test]
fn naive_splitter_reference() {
    assert_eq!(props::naive_split(b"a||b|||c", b"||"), (vec![&b"a"[..], &b"b"[..]], &b"|c"[..]));
    assert_eq!(props::naive_split(b"", b"\x0c"), (vec![], &b""[..]));
}

#[test]
fn js_accepts_reference() {
    for ok in [
        &b"{}"[..],
        b" [1, -0.5e+3, \"a\\u00e9\\ud800\", true, false, null, {\"a\": []}] ",
        b"\"\xff\"",
        b"1e999",
        b"0",
    ] {
        assert!(props::js_accepts(ok), "{}", String::from_utf8_lossy(ok));
    }
    for bad in
        [&b""[..], b"{", b"[1,]", b"01", b"1.", b"\"\\u12\"", b"\"\x01\"", b"{\"a\" 1}", b"nul", b"1 2", b"\"\\x\""]
    {
        assert!(!props::js_accepts(bad), "{}", String::from_utf8_lossy(bad));
    }
}
