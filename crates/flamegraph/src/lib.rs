//! Flame graphs for scry: folded stacks and SVG rendering.
//!
//! * [`fold`] / [`fold_with`]: Brendan Gregg's folded format (`root;…;leaf count`),
//!   merging identical stacks, sorted for reproducible output.
//! * [`sample_frames`]: the frames of one map entry keyed by `comm`/`pid`, user and
//!   kernel stacks, laid out root first like BCC's `profile -f`.
//! * [`svg`] / [`svg_with`]: an interactive SVG flame graph rendered by inferno.

mod fold;
mod render;

pub use fold::{FoldOptions, FrameOrder, SampleFrames, fold, fold_with, sample_frames};
pub use render::{SvgOptions, svg, svg_with};

/// Errors from rendering.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folded text holds no stack with a positive count.
    #[error("no stack counts to draw")]
    NoStacks,
    /// inferno failed to render.
    #[error("cannot render flame graph: {0}")]
    Render(#[source] std::io::Error),
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;
