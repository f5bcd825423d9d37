import Foundation

/// What is wrong with a path given for a database file, before anything opens it: SQLite
/// takes an empty path for a temporary database, and a path ending in "/" for the name of
/// a file to create, so both would fail late or not at all.
public enum DatabasePath {
    public enum Problem: Equatable, Sendable {
        case empty
        /// The path ends with "/" or names an existing directory; `suggestion` is a file in it.
        case directory(path: String, suggestion: String)

        /// "SUBJECT PATH is a directory; give a database file such as PATH/harness.sqlite".
        public func message(subject: String) -> String {
            switch self {
            case .empty:
                return "the \(subject) path is empty; give a database file such as \(Store.defaultPath)"
            case let .directory(path, suggestion):
                return "\(subject) \(path) is a directory; give a database file such as \(suggestion)"
            }
        }
    }

    public static func problem(_ path: String) -> Problem? {
        guard !path.isEmpty else { return .empty }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard path.hasSuffix("/") || (exists && isDirectory.boolValue) else { return nil }
        let file = URL(fileURLWithPath: Store.defaultPath).lastPathComponent
        return .directory(path: path, suggestion: path.hasSuffix("/") ? path + file : path + "/" + file)
    }
}
