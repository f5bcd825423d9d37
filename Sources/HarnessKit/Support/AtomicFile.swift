import Foundation

/// Writes `data` to `path`, creating its directory, through a temporary file in that
/// directory renamed over the target (Foundation's atomic write): a reader sees the old
/// file or the new one, never a partial one. `what` names the file in errors.
func writeFileAtomically(_ data: Data, to path: String, what: String = "") throws {
    let url = URL(fileURLWithPath: path)
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    } catch {
        throw HarnessError("cannot write \(what.isEmpty ? "" : what + " ")\(path): \(error.localizedDescription)")
    }
}
