//! The module graph of a crate: which top-level module refers to which (`crate::m` paths in
//! code, comments and test files aside), and its cycles. `cargo xtask lint` keeps the `rmm`
//! crate's cycles from growing ([`check`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level module -> the top-level modules its non-test code names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            // Test modules (`tests/`, `tests.rs`) may use anything.
            if p.file_name().is_some_and(|n| n != "tests") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name()
                .is_some_and(|n| n != "tests.rs" && n != "test_support.rs")
        {
            out.push(p);
        }
    }
}

/// The code of a file without comments (line comments, doc comments, block comments).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        in_block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else {
                let line_c = rest.find("//");
                let block_c = rest.find("/*");
                match (line_c, block_c) {
                    (Some(l), b) if b.is_none_or(|b| l < b) => {
                        kept.push_str(&rest[..l]);
                        break;
                    }
                    (_, Some(b)) => {
                        kept.push_str(&rest[..b]);
                        in_block += 1;
                        rest = &rest[b + 2..];
                    }
                    _ => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// `code` up to an inline `#[cfg(test)] mod name { ... }` (such modules close the file, as
/// this project writes them; a `#[cfg(test)] mod name;` in another file is skipped by name).
fn without_test_module(code: &str) -> String {
    let mut out = String::new();
    let mut lines = code.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines.peek().map_or("", |l| l.trim());
            if next.starts_with("mod ") && next.ends_with('{') {
                break;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The graph of the crate whose `src/` is `src` (its `lib.rs` and `main.rs` aside).
pub fn graph(src: &Path) -> Graph {
    let mut modules = BTreeSet::new();
    for e in fs::read_dir(src).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if name.is_empty() || name == "lib" || name == "main" {
            continue;
        }
        if p.is_dir() || p.extension().is_some_and(|x| x == "rs") {
            modules.insert(name.to_string());
        }
    }
    let mut g = Graph::new();
    for m in &modules {
        let mut files = Vec::new();
        let file = src.join(format!("{m}.rs"));
        if file.exists() {
            files.push(file);
        }
        rust_files(&src.join(m), &mut files);
        let deps = g.entry(m.clone()).or_default();
        for f in files {
            let text = without_test_module(&code(&fs::read_to_string(&f).unwrap_or_default()));
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != *m && modules.contains(&name) {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

/// The strongly connected components of `g` with more than one module (Tarjan), each sorted.
pub fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct T<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(t: &mut T<'g>, v: &'g str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Fails if the crate at `src` has an import cycle among its top-level modules (a module that
/// names a module which names it back, directly or through others).
pub fn check(src: &Path) -> Result<(), String> {
    let g = graph(src);
    if g.is_empty() {
        return Err(format!("no modules found in {}", src.display()));
    }
    let found = cycles(&g);
    if found.is_empty() {
        Ok(())
    } else {
        let list: Vec<String> = found.iter().map(|c| c.join(" <-> ")).collect();
        Err(format!(
            "import cycles among the top-level modules of {}: {}",
            src.display(),
            list.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    }

    #[test]
    fn finds_cycles_and_only_cycles() {
        assert!(cycles(&g(&[("a", "b"), ("b", "c")])).is_empty());
        assert_eq!(
            cycles(&g(&[("a", "b"), ("b", "a"), ("b", "c")])),
            vec![vec!["a".to_string(), "b".to_string()]]
        );
        let two = cycles(&g(&[
            ("a", "b"),
            ("b", "a"),
            ("c", "d"),
            ("d", "e"),
            ("e", "c"),
        ]));
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn a_crate_with_a_cycle_fails_the_check() {
        let d = std::env::temp_dir().join(format!("modgraph-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("b")).unwrap();
        fs::write(d.join("a.rs"), "use crate::b::X;\n").unwrap();
        fs::write(d.join("b/mod.rs"), "pub struct X;\n").unwrap();
        assert_eq!(check(&d), Ok(()));
        fs::write(d.join("b/inner.rs"), "fn f() { crate::a::g() }\n").unwrap();
        assert!(check(&d).unwrap_err().contains("a <-> b"));
    }

    #[test]
    fn rmm_has_no_import_cycle() {
        assert_eq!(check(&tests_qemu::workspace_root().join("rmm/src")), Ok(()));
    }

    #[test]
    fn inline_test_modules_do_not_count() {
        let c =
            without_test_module("use crate::a;\n#[cfg(test)]\nmod tests {\n use crate::b;\n}\n");
        assert!(c.contains("crate::a") && !c.contains("crate::b"));
        let kept = without_test_module("#[cfg(test)]\nmod tests;\nuse crate::c;\n");
        assert!(kept.contains("crate::c"));
    }

    #[test]
    fn comments_do_not_count() {
        let c = code("use crate::a; // crate::b\n/* crate::c\n crate::d */ crate::e\n/// crate::f");
        assert!(c.contains("crate::a") && c.contains("crate::e"));
        assert!(!c.contains("crate::b") && !c.contains("crate::c") && !c.contains("crate::d"));
        assert!(!c.contains("crate::f"));
    }
}
