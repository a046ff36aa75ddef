//! Byte-offset source spans.

/// A half-open byte range `start..end` into a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (swapped if reversed).
    pub fn new(start: u32, end: u32) -> Self {
        if end < start {
            Self {
                start: end,
                end: start,
            }
        } else {
            Self { start, end }
        }
    }

    /// An empty span at `pos`.
    pub fn point(pos: u32) -> Self {
        Self {
            start: pos,
            end: pos,
        }
    }

    /// The smallest span covering both `self` and `other`.
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> u32 {
        self.end - self.start
    }

    /// True for zero-length spans.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The span as a `usize` range (for slicing).
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// True when `pos` lies inside the span.
    pub fn contains(self, pos: u32) -> bool {
        self.start <= pos && pos < self.end
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Self {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Span::new(clamp(r.start), clamp(r.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_len() {
        let a = Span::new(3, 5);
        let b = Span::new(8, 10);
        assert_eq!(a.to(b), Span::new(3, 10));
        assert_eq!(b.to(a), Span::new(3, 10));
        assert_eq!(a.len(), 2);
        assert!(Span::point(4).is_empty());
        assert_eq!(Span::new(5, 3), Span::new(3, 5));
        assert!(a.contains(4) && !a.contains(5));
        assert_eq!(Span::from(2..4usize).range(), 2..4);
    }
}
