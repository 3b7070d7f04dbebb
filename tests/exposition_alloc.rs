//! The scrape loop's steady state allocates nothing: walking a body, reading
//! each series' bytes, value and timestamp, and (once the buffer has grown)
//! decoding labels into a reused `LabelBuf`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use strata::exposition::{Entry, Format, LabelBuf, Parser};

struct Counting;

thread_local! {
    /// Per thread, so that tests running in parallel do not count each other.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NODE_EXPORTER: &[u8] = include_bytes!("../benches/data/node_exporter/scrape-0s.prom");

/// Allocations made while walking `body` (after the parser is built), with
/// labels decoded into `buf` when `decode`.
fn allocations_during_walk(format: Format, body: &[u8], buf: &mut LabelBuf, decode: bool) -> (usize, usize) {
    let mut p = Parser::new(format, body);
    let before = allocations();
    let mut samples = 0;
    let mut sum = 0u64;
    while let Some(e) = p.next().expect("body parses") {
        if let Entry::Sample(s) = e {
            samples += 1;
            sum = sum.wrapping_add(s.series.len() as u64 ^ s.value.to_bits() ^ s.timestamp.unwrap_or(0) as u64);
            if decode {
                s.labels_into(buf);
            }
        }
    }
    std::hint::black_box(sum);
    (allocations() - before, samples)
}

#[test]
fn walking_a_body_allocates_nothing() {
    // Help texts without escapes are borrowed too, so the whole walk is free.
    let mut buf = LabelBuf::default();
    let (allocs, samples) = allocations_during_walk(Format::PromText, NODE_EXPORTER, &mut buf, false);
    assert!(samples > 500);
    assert_eq!(allocs, 0, "allocations while walking {samples} samples");

    let mut om = String::from_utf8_lossy(NODE_EXPORTER).replace(" untyped\n", " unknown\n");
    om += "# EOF\n";
    let (allocs, _) = allocations_during_walk(Format::OpenMetrics, om.as_bytes(), &mut buf, false);
    assert_eq!(allocs, 0, "OpenMetrics walk");
}

#[test]
fn decoding_labels_into_a_grown_buffer_allocates_nothing() {
    let mut buf = LabelBuf::default();
    allocations_during_walk(Format::PromText, NODE_EXPORTER, &mut buf, true);
    let (allocs, _) = allocations_during_walk(Format::PromText, NODE_EXPORTER, &mut buf, true);
    assert_eq!(allocs, 0);
}
