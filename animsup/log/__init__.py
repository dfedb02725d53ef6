"""The log layer: the versioned JSONL schema, its writer and streaming reader, and the Recorder.

``schema`` (header, field checks, migrations) < ``files`` (gzip, byte-order marks, whole lines)
< ``writer`` (LogWriter, record builders) < ``fastpath`` (plain records straight to float32)
< ``reader`` (LogReader, Run, read_log) < ``recorder`` (Recorder, from_arrays, layouts).

Everything else reads and writes runs through this package; it imports neither torch nor
matplotlib (tensors handed to the Recorder are converted where they arrive).
"""
