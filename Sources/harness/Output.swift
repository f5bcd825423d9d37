import HarnessKit

// Everything the executable prints goes through these two, never `print` or
// `FileHandle.standard*.write`: a write that fails (stream closed, full, a pipe whose
// reader has gone) is dropped, so output never stops a command or a run. See
// `StandardStream`.

/// `text` and a line break on standard error.
func standardError(_ text: String) {
    StandardStream.error.write(text + "\n")
}

/// `text` and `terminator` on standard output.
func standardOutput(_ text: String, terminator: String = "\n") {
    StandardStream.output.write(text + terminator)
}
