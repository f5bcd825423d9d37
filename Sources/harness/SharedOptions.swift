import HarnessKit

/// Options several commands take, declared once so they read and print the same everywhere.
enum SharedOptions {
    /// The main results database: a file path, refused when empty or a directory (SQLite
    /// would open a temporary database, or create a file named after the directory).
    static let db = Option<String>("db", "PATH", help: "the results database", default: Store.defaultPath) { text in
        switch DatabasePath.problem(text) {
        case nil: return text
        case .empty: throw InvalidValue(reason: "needs a path")
        case let .directory(path, suggestion):
            throw InvalidValue(reason: "\(path) is a directory; give a database file such as \(suggestion)")
        }
    }

    static let data = Option<String>.text(
        "data", "DIR", help: "the directory holding the four Fashion-MNIST files",
        defaultText: "$HARNESS_DATA, else the spec's dataset.path, else the download cache ~/.cache/harness/fashion-mnist")

    /// Concurrent jobs of one process (`run`, and `worker` inside an array task).
    static let jobs = Option<Int>.integer("jobs", range: 1...256, help: "jobs run at once",
                                          defaultText: "chosen from the cores and the pending jobs")

    static let threads = Option<Int>.integer("threads", range: 1...256, help: "engine threads per job",
                                             defaultText: "the spec's training.threads, else chosen from the cores")

    static let json = Flag("json", help: "print one JSON object instead of text")
}
