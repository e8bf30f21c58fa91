//! PC/SC readers through pcscd: built in the reader-manager work (see docs/ARCHITECTURE.md).
