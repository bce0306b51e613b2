"""The store: journal and snapshot, the file backend, doctor; the only code that touches task bytes."""
