//! Big objects through the S3 API of the real `sandstep serve`:
//! `cargo bench -p sandstep --bench objects` (about a minute on a 2-core machine).
//!
//! For objects of 64 MiB and of `SANDSTEP_BENCH_OBJECT_MIB` (1024 by default): one
//! `PutObject` streamed from a file, then one `GetObject` streamed into nothing, against
//! `cp` of the same file on the same disk followed by an fsync (the server syncs each
//! object it writes), MiB/s and ratios of the same run; and the server's resident memory
//! sampled every 20 ms while it works, against its RSS before: the goal is a peak that
//! does not grow with the object.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod common;

use common::{env_or, rss_of, scratch, Sampler, Server};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// A file of `mib` MiB of varied bytes.
fn make_file(path: &std::path::Path, mib: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..mib {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        block[0] = i as u8;
        f.write_all(&block).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
}

fn mib_per_s(mib: usize, took: Duration) -> f64 {
    mib as f64 / took.as_secs_f64()
}

fn main() {
    let big = env_or("SANDSTEP_BENCH_OBJECT_MIB", 1024);
    let server = Server::start();
    let pid = server.pid();
    let work = scratch("objects");
    std::fs::create_dir_all(&work).unwrap();
    let s3 = |req: ureq::Request| req.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    s3(ureq::put(&format!("{}/bench", server.url)))
        .call()
        .expect("CreateBucket");
    println!("objects: PutObject and GetObject over HTTP vs cp + fsync on the same disk");
    println!(
        "  server RSS idle: {:.1} MiB; {} cores",
        rss_of(pid) as f64 / 1024.0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for mib in [64, big] {
        let src = work.join(format!("src-{mib}"));
        make_file(&src, mib);

        let dst = work.join(format!("copy-{mib}"));
        let began = Instant::now();
        let status = std::process::Command::new("cp")
            .arg(&src)
            .arg(&dst)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::File::open(&dst).unwrap().sync_all().unwrap();
        let cp = began.elapsed();
        std::fs::remove_file(&dst).unwrap();

        let sampler = Sampler::start(pid);
        let began = Instant::now();
        let file = std::fs::File::open(&src).unwrap();
        let put = s3(ureq::put(&format!("{}/bench/object-{mib}", server.url)))
            .set("content-length", &(mib << 20).to_string())
            .send(file)
            .expect("PutObject");
        assert_eq!(put.status(), 200);
        let up = began.elapsed();
        let up_peak = sampler.peak_mib();

        let sampler = Sampler::start(pid);
        let began = Instant::now();
        let got = s3(ureq::get(&format!("{}/bench/object-{mib}", server.url)))
            .call()
            .expect("GetObject");
        let n = std::io::copy(&mut got.into_reader(), &mut std::io::sink()).unwrap();
        assert_eq!(n, (mib as u64) << 20);
        let down = began.elapsed();
        let down_peak = sampler.peak_mib();
        std::fs::remove_file(&src).unwrap();

        println!(
            "  {mib:>5} MiB: cp+fsync {:7.1} MiB/s | PutObject {:7.1} MiB/s ({:.2}x cp) | GetObject {:7.1} MiB/s ({:.2}x cp) | server peak RSS: upload {:.1} MiB, download {:.1} MiB",
            mib_per_s(mib, cp),
            mib_per_s(mib, up),
            cp.as_secs_f64() / up.as_secs_f64(),
            mib_per_s(mib, down),
            cp.as_secs_f64() / down.as_secs_f64(),
            up_peak,
            down_peak,
        );
        s3(ureq::delete(&format!("{}/bench/object-{mib}", server.url)))
            .call()
            .expect("DeleteObject");
    }
    let _ = std::fs::remove_dir_all(&work);
}
