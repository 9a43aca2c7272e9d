//! Glob patterns (suppressions' objects and files, `[criticality]`'s namespaces): `*` (any run of characters, not crossing `/`), `**` (any run,
//! crossing `/`) and `?` (one character).

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with backtracking points for `*` and `**`; linear-ish on real patterns
    // and never recursive, so hostile patterns cannot overflow the stack.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize, bool)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            let double = p.get(pi + 1) == Some(&'*');
            pi += if double { 2 } else { 1 };
            if double && p.get(pi) == Some(&'/') && !t[ti..].contains(&'/') {
                // `**/x` also matches `x` at the top.
                pi += 1;
            }
            star = Some((pi, ti, double));
            continue;
        }
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) && !(p[pi] == '?' && t[ti] == '/') {
            pi += 1;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st, double)) if double || t[st] != '/' => {
                star = Some((sp, st + 1, double));
                pi = sp;
                ti = st + 1;
            }
            _ => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn matches_names_and_paths() {
        assert!(matches("kube-*", "kube-system"));
        assert!(!matches("kube-*", "default"));
        assert!(matches("*", ""));
        assert!(matches("web-?", "web-1"));
        assert!(matches("deploy/**", "deploy/a/b.yaml"));
        assert!(!matches("deploy/*", "deploy/a/b.yaml"));
        assert!(matches("deploy/*", "deploy/b.yaml"));
        assert!(matches("**/agents/*.yaml", "x/y/agents/n.yaml"));
        assert!(matches("**/agents.yaml", "agents.yaml"));
        assert!(!matches("a*b", "acd"));
    }
}
