//! Capture writing (pcapng) and, later, reading.
