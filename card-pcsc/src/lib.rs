//! placeholder: the PC/SC backend moves here from hardware-tests.
