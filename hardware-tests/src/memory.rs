//! Where a process's resident memory is, read from `/proc/<pid>/smaps` and
//! `/proc/<pid>/task` (issue #15's question "where does ecardd's RSS go"). For
//! the benches only; nothing here is asserted in a test.
//!
//! Anonymous mappings carry no name, so they are classified by shape, the way
//! glibc and Rust's `std::thread` lay them out:
//! - a thread stack is a read-write mapping right after an inaccessible guard
//!   (`---p`) mapping (std asks glibc for 2 MiB stacks unless told otherwise);
//! - a glibc malloc arena of a thread (not the main one) is a 64 MiB-aligned,
//!   64 MiB reservation: a read-write part followed by an inaccessible rest;
//! - the main arena is `[heap]`; everything else anonymous is memory that an
//!   allocator took with its own `mmap` (large allocations, SQLite, ring).
//!
//! The shapes are a heuristic: two adjacent inaccessible mappings merge, so a
//! read-write mapping after any `---p` one counts as a stack. The totals are exact.

use std::collections::BTreeMap;
use std::path::Path;

/// glibc's `HEAP_MAX_SIZE` on 64-bit: the reservation of a non-main arena.
const ARENA_RESERVATION: u64 = 64 << 20;

/// One mapping of `/proc/<pid>/smaps`.
#[derive(Debug, Clone)]
struct Mapping {
    start: u64,
    end: u64,
    readable_or_writable: bool,
    path: String,
    rss_kib: u64,
}

impl Mapping {
    fn size(&self) -> u64 {
        self.end - self.start
    }
    fn anonymous(&self) -> bool {
        self.path.is_empty()
    }
    fn inaccessible(&self) -> bool {
        !self.readable_or_writable
    }
}

/// Resident memory by where it is, in KiB, with the process's threads.
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    /// KiB resident per category, largest first when printed.
    pub categories: BTreeMap<&'static str, u64>,
    /// Threads by name (`comm`), with how many carry it.
    pub threads: BTreeMap<String, usize>,
    /// From `/proc/<pid>/status`.
    pub vm_rss_kib: u64,
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    pub vm_hwm_kib: u64,
}

impl Breakdown {
    pub fn thread_count(&self) -> usize {
        self.threads.values().sum()
    }

    /// The breakdown as lines of text, for a bench's output.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "VmRSS {} KiB (anonymous {} KiB, file-backed {} KiB), peak VmHWM {} KiB",
            self.vm_rss_kib, self.rss_anon_kib, self.rss_file_kib, self.vm_hwm_kib
        )];
        let mut cats: Vec<_> = self.categories.iter().collect();
        cats.sort_by(|a, b| b.1.cmp(a.1));
        for (name, kib) in cats {
            out.push(format!("  {name:<44} {kib:>7} KiB"));
        }
        let names: Vec<String> = self
            .threads
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect();
        out.push(format!(
            "  threads: {} ({})",
            self.thread_count(),
            names.join(", ")
        ));
        out
    }
}

/// Reads the breakdown of process `pid`.
pub fn breakdown(pid: u32) -> std::io::Result<Breakdown> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))?;
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    let maps = parse_smaps(&smaps);
    let mut b = Breakdown::default();
    for (i, m) in maps.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| maps.get(p));
        let next = maps.get(i + 1);
        let cat = classify(m, prev, next, &exe);
        *b.categories.entry(cat).or_default() += m.rss_kib;
    }
    b.categories.retain(|_, kib| *kib > 0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| status_field(&status, name).unwrap_or(0);
    b.vm_rss_kib = field("VmRSS");
    b.rss_anon_kib = field("RssAnon");
    b.rss_file_kib = field("RssFile");
    b.vm_hwm_kib = field("VmHWM");
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let task = task?;
        let name = std::fs::read_to_string(task.path().join("comm"))
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|_| "?".into());
        *b.threads.entry(name).or_default() += 1;
    }
    Ok(b)
}

fn classify(
    m: &Mapping,
    prev: Option<&Mapping>,
    next: Option<&Mapping>,
    exe: &Path,
) -> &'static str {
    if Path::new(&m.path) == exe {
        return "the ecardd binary (file: text, rodata, UI)";
    }
    match m.path.as_str() {
        "[heap]" => return "main malloc arena ([heap])",
        "[stack]" => return "main thread's stack",
        p if p.starts_with('[') => return "kernel ([vdso], [vvar]…)",
        p if !p.is_empty() => return "shared libraries and other files",
        _ => {}
    }
    if m.inaccessible() {
        return "reserved, inaccessible";
    }
    let adjacent = |a: &Mapping, b: &Mapping| a.end == b.start;
    let arena = next.is_some_and(|n| {
        adjacent(m, n)
            && n.anonymous()
            && n.inaccessible()
            && m.size() + n.size() == ARENA_RESERVATION
    }) || (m.size() == ARENA_RESERVATION && m.start.is_multiple_of(ARENA_RESERVATION));
    if arena {
        return "thread malloc arenas";
    }
    if prev.is_some_and(|p| adjacent(p, m) && p.anonymous() && p.inaccessible()) {
        return "thread stacks";
    }
    "other anonymous (large allocations, mmap)"
}

fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut maps: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
            {
                let perms = fields.next().unwrap_or("----");
                // offset, device, inode, then the path (may contain spaces).
                let path = fields.skip(3).collect::<Vec<_>>().join(" ");
                maps.push(Mapping {
                    start,
                    end,
                    readable_or_writable: perms.starts_with('r') || perms.get(1..2) == Some("w"),
                    path,
                    rss_kib: 0,
                });
                continue;
            }
        }
        if first == "Rss:" {
            if let (Some(m), Some(v)) = (maps.last_mut(), fields.next()) {
                m.rss_kib = v.parse().unwrap_or(0);
            }
        }
    }
    maps
}

/// `VmRSS` of process `pid` in KiB.
pub fn vm_rss_kib(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status_field(&status, "VmRSS")
        .ok_or_else(|| std::io::Error::other("no VmRSS in /proc/<pid>/status"))
}

/// A `Name:   value kB` line of `/proc/<pid>/status`.
fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_shapes_are_told_apart() {
        let text = "\
55d000000000-55d000001000 r--p 00000000 fd:00 42 /usr/bin/ecardd
Rss:                   4 kB
55d000002000-55d000010000 rw-p 00000000 00:00 0 [heap]
Rss:                  56 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0 
Rss:                 100 kB
7f0000100000-7f0004000000 ---p 00000000 00:00 0 
Rss:                   0 kB
7f1000000000-7f1000001000 ---p 00000000 00:00 0 
Rss:                   0 kB
7f1000001000-7f1000201000 rw-p 00000000 00:00 0 
Rss:                  16 kB
7f2000000000-7f2000300000 rw-p 00000000 00:00 0 
Rss:                3072 kB
";
        let maps = parse_smaps(text);
        assert_eq!(maps.len(), 7);
        let exe = Path::new("/usr/bin/ecardd");
        let cats: Vec<_> = (0..maps.len())
            .map(|i| {
                classify(
                    &maps[i],
                    i.checked_sub(1).and_then(|p| maps.get(p)),
                    maps.get(i + 1),
                    exe,
                )
            })
            .collect();
        assert_eq!(
            cats,
            [
                "the ecardd binary (file: text, rodata, UI)",
                "main malloc arena ([heap])",
                "thread malloc arenas",
                "reserved, inaccessible",
                "reserved, inaccessible",
                "thread stacks",
                "other anonymous (large allocations, mmap)",
            ]
        );
    }
}
