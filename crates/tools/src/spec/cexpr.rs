//! The C expressions of BCC's trace and argdist specifications, rewritten into scry's
//! language: `arg1`..`arg6` become `arg0`..`arg5`, signature parameters become the
//! arguments they name, `$pid`/`$tgid`/`$uid`/`$cpu`/`$task` become the builtins, `retval` and
//! `$retval` the return value, C casts scry's casts, `STRCMP("lit", e)` a string comparison,
//! and argdist's `$entry(param)`/`$latency` reads of what its entry probe saved.

/// A parameter of a function signature (`const char *path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// The C type, spaces normalised (`const char *`).
    pub c_type: String,
}

/// Parses a signature's parameter list (`int fd, const char *buf, size_t len`); `void` and
/// an empty list have no parameters.
pub fn parse_signature(signature: &str) -> Result<Vec<Param>, String> {
    let signature = signature.trim();
    if signature.is_empty() || signature == "void" {
        return Ok(Vec::new());
    }
    split_top_level(signature, ',')
        .into_iter()
        .map(|param| {
            let param = param.trim();
            // The name is the last identifier; the rest (with any `*`) is the type.
            let start = param
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let (ty, name) = param.split_at(start);
            let ty = normalise_type(ty);
            if name.is_empty() || ty.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!(
                    "invalid parameter '{param}' in signature '({signature})': \
                     expected TYPE NAME"
                ));
            }
            Ok(Param {
                name: name.to_string(),
                c_type: ty,
            })
        })
        .collect()
}

/// A C type with single spaces, and `*` written as ` *` (`char*` → `char *`).
pub fn normalise_type(ty: &str) -> String {
    let spaced = ty.replace('*', " * ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words.join(" ").replace("* *", "**")
}

/// Splits `text` at top-level occurrences of `sep` (outside parentheses, brackets and
/// quotes).
pub fn split_top_level(text: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// How a value of a C type is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueType {
    /// `char *`: a string, read with `str()`.
    Str,
    /// An integer, with the scry cast that gives it its width and sign (none for 64-bit
    /// unsigned and unknown types).
    Int(Option<&'static str>),
}

/// The scry cast of a C integer type (`unsigned int` → `uint32`), when known.
pub fn int_cast(ty: &str) -> Option<&'static str> {
    let ty = normalise_type(ty);
    let words: Vec<&str> = ty
        .split(' ')
        .filter(|w| !matches!(*w, "const" | "volatile" | "__user"))
        .collect();
    Some(match words.join(" ").as_str() {
        "char" | "signed char" | "s8" | "int8_t" | "__s8" => "int8",
        "unsigned char" | "u8" | "uint8_t" | "__u8" | "bool" | "_Bool" => "uint8",
        "short" | "short int" | "signed short" | "s16" | "int16_t" | "__s16" => "int16",
        "unsigned short" | "unsigned short int" | "u16" | "uint16_t" | "__u16" | "umode_t" => {
            "uint16"
        }
        "int" | "signed" | "signed int" | "s32" | "int32_t" | "__s32" | "pid_t" => "int32",
        "unsigned" | "unsigned int" | "u32" | "uint32_t" | "__u32" | "uid_t" | "gid_t"
        | "mode_t" | "gfp_t" | "dev_t" => "uint32",
        "long" | "long int" | "long long" | "long long int" | "signed long" | "s64" | "int64_t"
        | "__s64" | "ssize_t" | "off_t" | "loff_t" | "time_t" | "intptr_t" | "ptrdiff_t" => "int64",
        "unsigned long"
        | "unsigned long int"
        | "unsigned long long"
        | "unsigned long long int"
        | "u64"
        | "uint64_t"
        | "__u64"
        | "size_t"
        | "uintptr_t" => "uint64",
        _ => return None,
    })
}

/// Whether a C type is a (possibly const) `char *`.
pub fn is_string_type(ty: &str) -> bool {
    let ty = normalise_type(ty);
    let words: Vec<&str> = ty
        .split(' ')
        .filter(|w| !matches!(*w, "const" | "__user" | "signed" | "unsigned"))
        .collect();
    words == ["char", "*"]
}

/// How a value of C type `ty` is kept.
pub fn value_type(ty: &str) -> ValueType {
    if is_string_type(ty) {
        ValueType::Str
    } else if ty.trim_end().ends_with('*') {
        ValueType::Int(None)
    } else {
        ValueType::Int(int_cast(ty))
    }
}

/// The scry form of a C cast's type, `None` when `ty` is no type. `Some("")` drops the
/// cast (`char *`: strings are read with `str()` anyway).
fn cast(ty: &str) -> Option<String> {
    let ty = normalise_type(ty);
    let words: Vec<&str> = ty.split(' ').collect();
    let first = words
        .iter()
        .find(|w| !matches!(**w, "const" | "volatile"))?;
    if matches!(*first, "struct" | "union") {
        let name = words.iter().skip_while(|w| *w != first).nth(1)?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let stars = "*".repeat(words.iter().filter(|w| w.contains('*')).count());
        return Some(if stars.is_empty() {
            format!("{first} {name}")
        } else {
            format!("{first} {name} {stars}")
        });
    }
    if is_string_type(&ty) {
        return Some(String::new());
    }
    if ty.ends_with('*') {
        let base = ty.trim_end_matches(['*', ' ']);
        return (base == "void" || int_cast(base).is_some()).then(|| "uint64".to_string());
    }
    int_cast(&ty).map(str::to_string)
}

/// A reference to a value saved at function entry, for argdist's return probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// `$entry(param)`.
    Param(&'a str),
    /// `$latency`: nanoseconds since entry.
    Latency,
}

/// What expressions are rewritten for.
pub struct Context<'a> {
    /// The probe's signature parameters: a name becomes the argument it is.
    pub params: &'a [Param],
    /// Rename BCC's 1-based `argN` to scry's 0-based (uprobes and USDT).
    pub shift_args: bool,
    /// How `$entry(param)` and `$latency` are read; `None` refuses them.
    pub entry: Option<&'a dyn Fn(Entry) -> String>,
}

impl Context<'_> {
    /// Rewrites `expr`; `$entry(param)` and `$latency` uses are added to `used`.
    pub fn rewrite(&self, expr: &str, used: &mut Used) -> Result<String, String> {
        let chars: Vec<char> = expr.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        // The previous token was `->` or `.`: the identifier that follows is a field.
        let mut member = false;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                out.push(c);
                i += 1;
                continue;
            }
            if c == '"' || c == '\'' {
                let end = literal_end(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
                member = false;
                continue;
            }
            if c.is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let number: String = chars[start..i].iter().collect();
                let hex = number.starts_with("0x") || number.starts_with("0X");
                let trimmed = number.trim_end_matches(['u', 'U', 'l', 'L']);
                out.push_str(if trimmed.is_empty() || (hex && trimmed.len() <= 2) {
                    &number
                } else {
                    trimmed
                });
                member = false;
                continue;
            }
            if c.is_ascii_alphabetic() || c == '_' || c == '$' {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let ident: String = chars[start..i].iter().collect();
                if chars[i..].starts_with(&['@', 'u', 's', 'e', 'r']) {
                    i += 5;
                }
                if member {
                    out.push_str(&ident);
                    member = false;
                    continue;
                }
                i = self.identifier(&ident, &chars, i, &mut out, used)?;
                continue;
            }
            if c == '(' {
                if let Some(close) = chars[i + 1..].iter().position(|&c| c == ')' || c == '(')
                    && chars[i + 1 + close] == ')'
                {
                    let inner: String = chars[i + 1..i + 1 + close].iter().collect();
                    let next = chars[i + 2 + close..].iter().find(|c| !c.is_whitespace());
                    let operand =
                        next.is_some_and(|&n| n.is_ascii_alphanumeric() || "_$(*-~!\"".contains(n));
                    let is_param = self.params.iter().any(|p| p.name == inner.trim());
                    if operand
                        && !is_param
                        && let Some(ty) = cast(&inner)
                    {
                        if !ty.is_empty() {
                            out.push_str(&format!("({ty})"));
                        }
                        i += close + 2;
                        member = false;
                        continue;
                    }
                }
                out.push('(');
                i += 1;
                member = false;
                continue;
            }
            if c == '-' && chars.get(i + 1) == Some(&'>') {
                out.push_str("->");
                i += 2;
                member = true;
                continue;
            }
            member = c == '.';
            out.push(c);
            i += 1;
        }
        Ok(out)
    }

    /// Rewrites identifier `ident` (which ends at `next`); returns where scanning resumes.
    fn identifier(
        &self,
        ident: &str,
        chars: &[char],
        next: usize,
        out: &mut String,
        used: &mut Used,
    ) -> Result<usize, String> {
        let call_args = || -> Option<(String, usize)> {
            let open = next + chars[next..].iter().position(|c| !c.is_whitespace())?;
            if chars[open] != '(' {
                return None;
            }
            let close = matching_paren(chars, open)?;
            Some((chars[open + 1..close].iter().collect(), close + 1))
        };
        let simple = match ident {
            "retval" | "$retval" => Some("retval"),
            "$pid" => Some("tid"),
            "$tgid" | "$PID" => Some("pid"),
            "$uid" => Some("uid"),
            "$gid" => Some("gid"),
            "$cpu" => Some("cpu"),
            "$task" => Some("curtask"),
            "$COMM" => Some("comm"),
            _ => None,
        };
        if let Some(s) = simple {
            out.push_str(s);
            return Ok(next);
        }
        match ident {
            "STRCMP" => {
                let (args, resume) =
                    call_args().ok_or("STRCMP needs arguments: STRCMP(\"text\", expr)")?;
                let parts = split_top_level(&args, ',');
                let [literal, expr] = parts.as_slice() else {
                    return Err(format!("STRCMP({args}) needs two arguments"));
                };
                let literal = literal.trim();
                if !literal.starts_with('"') {
                    return Err(format!(
                        "STRCMP's first argument must be a string: {literal}"
                    ));
                }
                let expr = self.rewrite(expr, used)?;
                out.push_str(&format!("(str({}) == {literal})", expr.trim()));
                return Ok(resume);
            }
            "$entry" | "$latency" => {
                let Some(entry) = self.entry else {
                    return Err(format!("{ident} is only for return probes (r:)"));
                };
                if ident == "$latency" {
                    used.latency = true;
                    out.push_str(&entry(Entry::Latency));
                    return Ok(next);
                }
                let (name, resume) = call_args().ok_or("$entry needs a parameter: $entry(name)")?;
                let name = name.trim();
                if !self.params.iter().any(|p| p.name == name) {
                    return Err(format!(
                        "$entry({name}): no parameter '{name}' in the signature"
                    ));
                }
                if !used.entries.iter().any(|e| e == name) {
                    used.entries.push(name.to_string());
                }
                out.push_str(&entry(Entry::Param(name)));
                return Ok(resume);
            }
            _ => {}
        }
        if let Some(n) = ident
            .strip_prefix("arg")
            .and_then(|n| n.parse::<usize>().ok())
        {
            if self.shift_args {
                if n == 0 {
                    return Err("arguments are numbered from arg1".into());
                }
                out.push_str(&format!("arg{}", n - 1));
            } else {
                out.push_str(ident);
            }
            return Ok(next);
        }
        if let Some(index) = self.params.iter().position(|p| p.name == ident) {
            let ty = &self.params[index].c_type;
            match cast(ty) {
                Some(c) if c.starts_with("struct") || c.starts_with("union") => {
                    out.push_str(&format!("(({c})arg{index})"))
                }
                _ => out.push_str(&format!("arg{index}")),
            }
            return Ok(next);
        }
        out.push_str(ident);
        Ok(next)
    }
}

/// `$entry(param)` and `$latency` uses found while rewriting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Used {
    pub entries: Vec<String>,
    pub latency: bool,
}

/// The index after the string or character literal starting at `start`.
fn literal_end(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// The index of the `)` closing the `(` at `open`.
fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' => {
                i = literal_end(chars, i);
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sig: &str) -> Vec<Param> {
        parse_signature(sig).unwrap()
    }

    fn rewrite(expr: &str, sig: &str) -> String {
        let p = params(sig);
        let ctx = Context {
            params: &p,
            shift_args: true,
            entry: None,
        };
        ctx.rewrite(expr, &mut Used::default()).unwrap()
    }

    #[test]
    fn signatures() {
        assert_eq!(
            params("int fd, const char* buf, size_t len"),
            vec![
                Param {
                    name: "fd".into(),
                    c_type: "int".into()
                },
                Param {
                    name: "buf".into(),
                    c_type: "const char *".into()
                },
                Param {
                    name: "len".into(),
                    c_type: "size_t".into()
                },
            ]
        );
        assert!(params("").is_empty());
        assert!(params("void").is_empty());
        assert!(parse_signature("int").is_err());
        assert_eq!(
            params("struct timespec *req")[0].c_type,
            "struct timespec *"
        );
    }

    #[test]
    fn arguments_parameters_and_aliases() {
        assert_eq!(rewrite("arg1 > 20000 && arg2", ""), "arg0 > 20000 && arg1");
        assert_eq!(
            rewrite("n == 2 && s", "int n, char *s"),
            "arg0 == 2 && arg1"
        );
        assert_eq!(
            rewrite("$pid + $tgid + $uid + $cpu", ""),
            "tid + pid + uid + cpu"
        );
        assert_eq!(
            rewrite("retval == 0 || $retval", ""),
            "retval == 0 || retval"
        );
        assert_eq!(rewrite("arg2@user", ""), "arg1");
        assert_eq!(rewrite("args->filename", "int filename"), "args->filename");
        assert_eq!(rewrite("x.n", "int n"), "x.n");
        assert_eq!(rewrite("100000UL + 0xffUL", ""), "100000 + 0xff");
        assert_eq!(rewrite("\"n\" ", "int n"), "\"n\" ");
    }

    #[test]
    fn casts_and_structs() {
        assert_eq!(rewrite("(u32)arg1", ""), "(uint32)arg0");
        assert_eq!(rewrite("(char*)$retval", ""), "retval");
        assert_eq!(rewrite("(unsigned long) x", ""), "(uint64) x");
        assert_eq!(rewrite("(n) + 1", "int n"), "(arg0) + 1");
        assert_eq!(rewrite("(a + b)", ""), "(a + b)");
        assert_eq!(
            rewrite("req->tv_nsec", "struct timespec *req"),
            "((struct timespec *)arg0)->tv_nsec"
        );
        assert_eq!(
            rewrite("((struct sock *)arg1)->sk", ""),
            "((struct sock *)arg0)->sk"
        );
    }

    #[test]
    fn strcmp_and_entry_values() {
        assert_eq!(
            rewrite("STRCMP(\"bash\", arg1) && 1", ""),
            "(str(arg0) == \"bash\") && 1"
        );
        let p = params("int fd, size_t len");
        let entry = |e: Entry| match e {
            Entry::Param(name) => format!("@e_{name}[tid]"),
            Entry::Latency => "(nsecs - @ts[tid])".to_string(),
        };
        let ctx = Context {
            params: &p,
            shift_args: true,
            entry: Some(&entry),
        };
        let mut used = Used::default();
        assert_eq!(
            ctx.rewrite("$latency / $entry(len)", &mut used).unwrap(),
            "(nsecs - @ts[tid]) / @e_len[tid]"
        );
        assert_eq!(used.entries, ["len"]);
        assert!(used.latency);
        assert!(ctx.rewrite("$entry(nope)", &mut used).is_err());
        let no_entry = Context {
            params: &p,
            shift_args: true,
            entry: None,
        };
        assert!(no_entry.rewrite("$latency", &mut used).is_err());
    }

    #[test]
    fn types() {
        assert_eq!(value_type("char*"), ValueType::Str);
        assert_eq!(value_type("const char *"), ValueType::Str);
        assert_eq!(value_type("int"), ValueType::Int(Some("int32")));
        assert_eq!(value_type("size_t"), ValueType::Int(Some("uint64")));
        assert_eq!(value_type("void *"), ValueType::Int(None));
        assert_eq!(value_type("whatever_t"), ValueType::Int(None));
        assert_eq!(
            split_top_level("a, f(b, c), \"x,y\"", ','),
            ["a", " f(b, c)", " \"x,y\""]
        );
    }
}
