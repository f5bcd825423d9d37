import Foundation

/// The jobs file of one Slurm submission, `submission.json` in its directory
/// (`<database dir>/slurm/<experiment>-<UTC timestamp>/`). It tells each array task which
/// jobs to run and tells `harness merge` which database the submission's shards belong to.
///
/// Paths are absolute (compute nodes do not share the submitting shell's working
/// directory), except `spec`, which names the copy of the spec inside the submission
/// directory: tasks read that copy, so editing the spec after submitting changes nothing.
public struct SlurmManifest: Codable, Sendable, Equatable {
    public static let fileName = "submission.json"
    public static let specFileName = "spec.json"

    public var experiment: String
    /// The main database the shards are merged into.
    public var database: String
    public var spec: String
    public var dataDirectory: String
    /// The data the job ids were computed on; a task refuses other data.
    public var dataFingerprint: String
    public var createdAt: String
    /// Array task i runs the job ids `tasks[i]`.
    public var tasks: [[String]]
    /// Slurm's ids, filled in once sbatch has accepted the jobs (nil for --dry-run).
    public var arrayJobID: String?
    public var mergeJobID: String?

    public init(experiment: String, database: String, spec: String, dataDirectory: String, dataFingerprint: String,
                createdAt: String, tasks: [[String]], arrayJobID: String? = nil, mergeJobID: String? = nil) {
        self.experiment = experiment
        self.database = database
        self.spec = spec
        self.dataDirectory = dataDirectory
        self.dataFingerprint = dataFingerprint
        self.createdAt = createdAt
        self.tasks = tasks
        self.arrayJobID = arrayJobID
        self.mergeJobID = mergeJobID
    }

    enum CodingKeys: String, CodingKey {
        case experiment, database, spec, tasks
        case dataDirectory = "data_directory"
        case dataFingerprint = "data_fingerprint"
        case createdAt = "created_at"
        case arrayJobID = "array_job_id"
        case mergeJobID = "merge_job_id"
    }

    /// Reads a jobs file; every error starts "cannot read Slurm jobs file PATH: " and says
    /// what is wrong (a JSON syntax error with its line and column, a missing field, ...).
    public static func load(path: String) throws -> SlurmManifest {
        let failure = "cannot read Slurm jobs file \(path)"
        let expected = "expected a \(fileName) written by harness submit"
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw HarnessError("\(failure): \(error.localizedDescription)")
        }
        // The project's own JSON reader first, for a syntax error a person can find.
        do {
            _ = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        } catch let error as JSONSyntaxError {
            throw HarnessError("\(failure): \(error.line):\(error.column): \(error.message) (\(expected))")
        }
        /// `tasks[2]`, `created_at`: where in the file the decoder stopped.
        func field(_ codingPath: [CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text
        }
        do {
            return try JSONDecoder().decode(SlurmManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let parent = field(context.codingPath)
            throw HarnessError("\(failure): missing field \"\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)\" (\(expected))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let at = field(context.codingPath)
            throw HarnessError("\(failure): \(at.isEmpty ? "" : "field \"\(at)\": ")\(context.debugDescription) (\(expected))")
        } catch {
            throw HarnessError("\(failure): \(error) (\(expected))")
        }
    }

    /// Written to a temporary name and renamed, so a reader never sees half a file.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw HarnessError("cannot encode Slurm jobs file \(path): \(error.localizedDescription)")
        }
        try writeFileAtomically(data, to: path, what: "Slurm jobs file")
    }

    /// The spec copy's path, given the directory holding this file.
    public func specPath(in directory: String) -> String {
        spec.hasPrefix("/") ? spec : URL(fileURLWithPath: directory).appendingPathComponent(spec).path
    }
}
