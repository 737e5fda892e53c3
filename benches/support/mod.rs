//! What the benchmarks share.

/// Replaces the section between `<!-- name:start -->` and `<!-- name:end -->`
/// of `path`, or appends it.
pub fn write_section(path: &str, name: &str, body: &str) {
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let section = format!("{start}\n{body}{end}");
    let new = match (text.find(&start), text.find(&end)) {
        (Some(s), Some(e)) if e > s => {
            format!("{}{}{}", &text[..s], section, &text[e + end.len()..])
        }
        _ => format!("{}\n{}\n", text.trim_end(), section),
    };
    std::fs::write(path, new).unwrap();
}
