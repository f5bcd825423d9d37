import Foundation

// Which spec file an experiment belongs to. Two spec files with the same "name" in one
// database used to replace each other's job list at every run, so the results of the one
// run first vanished from status and report. An experiment now records the file it was
// registered from (`experiments.spec_path`, schema version 3), and another file may not
// register under its name unless it holds the same spec.

extension Store {
    /// The form a spec path is recorded and compared in: absolute, symbolic links resolved.
    public static func canonicalSpecPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The rule, inside the caller's transaction. Returns whether `specPath` is to be recorded
    /// as the experiment's file; throws when the registration must be refused.
    ///
    /// - a new name, or one whose file is not known (registered before it was recorded): the
    ///   path is recorded;
    /// - the same file (an edit in place: grid values or seeds added, anything): accepted;
    /// - the recorded file no longer exists (the spec was moved or renamed): the new path is
    ///   recorded;
    /// - another file with the same spec (a copy): accepted, the experiment stays the first file's;
    /// - another file with another spec: refused, naming both files.
    func requireSpecOrigin(_ db: SQLiteConnection, name: String, specJSON: String, specPath: String) throws -> Bool {
        let canonical = Store.canonicalSpecPath(specPath)
        let rows = try db.query("SELECT spec_json, spec_path FROM experiments WHERE name = ?", [name]) {
            (specJSON: $0.string(0), path: $0.optionalString(1))
        }
        guard let stored = rows.first, let storedPath = stored.path else { return true }
        if storedPath == canonical { return false }
        guard FileManager.default.fileExists(atPath: storedPath) else { return true }
        if Store.sameSpec(stored.specJSON, specJSON) { return false }
        throw HarnessError("experiment \(name) in \(path) was registered from \(Store.shownPath(storedPath)); \(specPath) "
                           + "has the same name: rename one (\"name\") or use another --db")
    }

    /// Equal as JSON values (canonical text), else as text.
    static func sameSpec(_ a: String, _ b: String) -> Bool {
        guard let x = try? JSONValue.parse(a), let y = try? JSONValue.parse(b) else { return a == b }
        return x.canonicalText() == y.canonicalText()
    }

    /// A recorded (absolute) path, relative to the working directory when it lies under it.
    static func shownPath(_ path: String) -> String {
        let directory = canonicalSpecPath(FileManager.default.currentDirectoryPath)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
