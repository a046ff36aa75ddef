//! The eBPF instruction set as scry's code generator and runtime see it.
//!
//! - [`insn`]: the 8-byte instruction, opcode constants and encoding.
//! - [`asm`]: an assembler with symbolic labels, map references and source origins,
//!   resolved late into a flat instruction vector.
//! - [`disasm`]: a readable listing (`--emit asm`) in the kernel verifier's notation.
//! - [`helper`]: the kernel helper function ids scry calls.
//!
//! This crate does no I/O and knows nothing of the kernel; `encode ∘ decode = id`.

pub mod asm;
pub mod disasm;
pub mod helper;
pub mod insn;

pub use asm::{Asm, AsmError, Label, Program};
pub use insn::{Insn, Reg};
