"""The log layer: the versioned JSONL schema, its writer and streaming reader, and the Recorder.

Everything else reads and writes runs through this package; it imports neither torch nor
matplotlib (tensors handed to the Recorder are converted where they arrive).
"""
