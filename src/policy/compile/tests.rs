//! Compiled conditions against the interpreter, construct by construct.
