//! Building a segment file from series given in label order.
//!
//! The file is written under a temporary name, synced, and renamed into
//! place, so a reader sees either no file or the whole file.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::{IndexError, Section};
use super::format::{self, SectionEntry, SECTIONS};
use crate::SeriesRef;

/// Writes a segment holding `series`, which must come in strictly ascending
/// label order (Prometheus's `labels.Compare`): a series' position in the
/// iteration becomes its ordinal. Each item's pairs must be sorted by name,
/// as [`crate::Labels`] keeps them.
pub(super) fn write_sorted<'a, I, P>(path: &Path, series: I) -> Result<(), IndexError>
where
    I: IntoIterator<Item = (SeriesRef, P)>,
    P: IntoIterator<Item = (&'a str, &'a str)>,
{
    let sections = encode(path, series)?;
    write_atomically(path, &sections)
}

/// The temporary name a segment is written under before the rename.
pub(super) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The five section bodies, in [`SECTIONS`] order.
fn encode<'a, I, P>(path: &Path, series: I) -> Result<[Vec<u8>; 5], IndexError>
where
    I: IntoIterator<Item = (SeriesRef, P)>,
    P: IntoIterator<Item = (&'a str, &'a str)>,
{
    // One pass over the input: strings get provisional ids in order of first
    // sight, because the input may be a lazy merge that cannot be replayed.
    let mut ids: HashMap<&'a str, u32> = HashMap::new();
    let mut strings: Vec<&'a str> = Vec::new();
    let mut refs: Vec<SeriesRef> = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut pair_ends: Vec<usize> = Vec::new();
    let mut id = |s: &'a str| -> u32 {
        *ids.entry(s).or_insert_with(|| {
            strings.push(s);
            (strings.len() - 1) as u32
        })
    };
    for (r, labels) in series {
        refs.push(r);
        for (n, v) in labels {
            pairs.push((id(n), id(v)));
        }
        pair_ends.push(pairs.len());
    }
    let too_large = |section| IndexError::TooLarge {
        path: path.to_path_buf(),
        section,
    };
    let n = u32::try_from(refs.len()).map_err(|_| too_large(Section::Series))?;
    u32::try_from(strings.len()).map_err(|_| too_large(Section::Symbols))?;

    // Final symbol ids follow string order, so comparing ids compares strings.
    let mut order: Vec<u32> = (0..strings.len() as u32).collect();
    order.sort_unstable_by_key(|&i| strings[i as usize]);
    let mut final_id = vec![0u32; strings.len()];
    for (new, &old) in order.iter().enumerate() {
        final_id[old as usize] = new as u32;
    }
    for p in &mut pairs {
        *p = (final_id[p.0 as usize], final_id[p.1 as usize]);
    }

    let symbols =
        encode_symbols(order.iter().map(|&i| strings[i as usize])).ok_or_else(|| too_large(Section::Symbols))?;
    let series = encode_series(n, &refs, &pairs, &pair_ends).ok_or_else(|| too_large(Section::Series))?;

    let mut by_ref: Vec<(SeriesRef, u32)> = refs.iter().copied().zip(0..n).collect();
    by_ref.sort_unstable();
    if let Some(w) = by_ref.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(IndexError::DuplicateRef {
            path: path.to_path_buf(),
            series_ref: w[0].0,
        });
    }
    let mut refs_section = Vec::with_capacity(by_ref.len() * format::REF_ENTRY_LEN);
    for (r, ord) in by_ref {
        refs_section.extend_from_slice(&r.0.to_le_bytes());
        refs_section.extend_from_slice(&ord.to_le_bytes());
    }

    let (postings, table) = encode_postings(n, &pairs, &pair_ends).ok_or_else(|| too_large(Section::Postings))?;
    Ok([symbols, series, refs_section, postings, table])
}

/// `count`, the end offset of each string in the data, then the data.
fn encode_symbols<'a>(sorted: impl ExactSizeIterator<Item = &'a str> + Clone) -> Option<Vec<u8>> {
    let count = sorted.len();
    let mut out = Vec::with_capacity(4 + 4 * count);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    let mut end = 0u32;
    for s in sorted.clone() {
        end = end.checked_add(u32::try_from(s.len()).ok()?)?;
        out.extend_from_slice(&end.to_le_bytes());
    }
    for s in sorted {
        out.extend_from_slice(s.as_bytes());
    }
    Some(out)
}

/// `count`, the end offset of each entry, then per ordinal the ref and its
/// (name id, value id) pairs.
fn encode_series(n: u32, refs: &[SeriesRef], pairs: &[(u32, u32)], pair_ends: &[usize]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(4 + 4 * refs.len());
    out.extend_from_slice(&n.to_le_bytes());
    let mut entries = Vec::with_capacity(refs.len() * format::SERIES_REF_LEN + pairs.len() * format::PAIR_LEN);
    let mut start = 0;
    for (r, &end) in refs.iter().zip(pair_ends) {
        entries.extend_from_slice(&r.0.to_le_bytes());
        for &(name, value) in &pairs[start..end] {
            entries.extend_from_slice(&name.to_le_bytes());
            entries.extend_from_slice(&value.to_le_bytes());
        }
        start = end;
        out.extend_from_slice(&u32::try_from(entries.len()).ok()?.to_le_bytes());
    }
    out.extend_from_slice(&entries);
    Some(out)
}

/// The postings section (every pair's ordinals, pairs in (name, value)
/// order) and the table that finds each pair's list.
fn encode_postings(n: u32, pairs: &[(u32, u32)], pair_ends: &[usize]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut lists: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    let mut start = 0;
    for (ord, &end) in (0..n).zip(pair_ends) {
        for &pair in &pairs[start..end] {
            // Ordinals arrive ascending, so every list is born sorted.
            lists.entry(pair).or_default().push(ord);
        }
        start = end;
    }
    let mut keys: Vec<(u32, u32)> = lists.keys().copied().collect();
    keys.sort_unstable();

    let mut postings = Vec::with_capacity(pairs.len() * 4);
    let mut table = Vec::with_capacity(4 + keys.len() * format::TABLE_ENTRY_LEN);
    table.extend_from_slice(&u32::try_from(keys.len()).ok()?.to_le_bytes());
    let mut first = 0u32;
    for key in keys {
        let list = &lists[&key];
        let len = u32::try_from(list.len()).ok()?;
        for v in [key.0, key.1, first, len] {
            table.extend_from_slice(&v.to_le_bytes());
        }
        for ord in list {
            postings.extend_from_slice(&ord.to_le_bytes());
        }
        first = first.checked_add(len)?;
    }
    Some((postings, table))
}

/// Header, sections, footer into `<path>.tmp`; fsync; rename over `path`;
/// fsync the directory so the rename itself survives a crash.
fn write_atomically(path: &Path, sections: &[Vec<u8>; 5]) -> Result<(), IndexError> {
    let tmp = temp_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| IndexError::io(&tmp, "create", e))?;
        let mut w = BufWriter::new(file);
        let header = format::encode_header();
        let mut offset = header.len() as u64;
        let mut entries = [SectionEntry {
            offset: 0,
            len: 0,
            crc: 0,
        }; SECTIONS.len()];
        let write_err = |e| IndexError::io(&tmp, "write", e);
        w.write_all(&header).map_err(write_err)?;
        for (entry, body) in entries.iter_mut().zip(sections) {
            *entry = SectionEntry {
                offset,
                len: body.len() as u64,
                crc: crc32fast::hash(body),
            };
            offset += body.len() as u64;
            w.write_all(body).map_err(write_err)?;
        }
        w.write_all(&format::encode_footer(&entries)).map_err(write_err)?;
        let file = w
            .into_inner()
            .map_err(|e| IndexError::io(&tmp, "write", e.into_error()))?;
        file.sync_all().map_err(|e| IndexError::io(&tmp, "fsync", e))?;
        fs::rename(&tmp, path).map_err(|e| IndexError::io(path, "rename into place", e))?;
        sync_dir(path)
    })();
    if result.is_err() {
        // Best effort: a leftover temporary file is also removed by `Index::open`.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename or removal in `path`'s directory durable.
pub(super) fn sync_dir(path: &Path) -> Result<(), IndexError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| IndexError::io(dir, "fsync directory", e))
}
