import CSQLite
import Foundation

// A thin wrapper over the SQLite C API: one connection, prepared statements with typed
// bind/column helpers, and transactions. It is deliberately not thread-safe (connections
// are opened with SQLITE_OPEN_NOMUTEX); `Store` serialises access with its own lock.

/// A failed SQLite call: the result code, `sqlite3_errmsg`, the database file and the
/// statement that failed, so a message printed to the user says where to look.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (e.g. 2067 = SQLITE_CONSTRAINT_UNIQUE, 5 = SQLITE_BUSY).
    public let code: Int32
    public let message: String
    public let path: String
    public let sql: String?

    public var description: String {
        var text = "SQLite error \(code) in database \(path): \(message)"
        if let sql { text += " (while running: \(sql))" }
        return text
    }

    /// True for SQLITE_BUSY and its extended codes: another connection held the lock for
    /// longer than the busy timeout.
    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY }

    /// True for SQLITE_NOTADB: the file is not an SQLite database (or is encrypted).
    public var isNotADatabase: Bool { code & 0xFF == SQLITE_NOTADB }
}

/// A value that can be bound to a statement parameter. Non-finite doubles: SQLite stores
/// NaN as NULL, which is how the store records undefined metrics (e.g. F1 of 0/0).
protocol SQLiteBindable {
    func bind(to statement: SQLiteStatement, at index: Int32) throws
}

/// Integers are stored as SQLite's 64-bit INTEGER.
extension SQLiteBindable where Self: BinaryInteger {
    func bind(to statement: SQLiteStatement, at index: Int32) throws {
        try statement.check(sqlite3_bind_int64(statement.handle, index, Int64(self)))
    }
}

extension Int: SQLiteBindable {}
extension Int64: SQLiteBindable {}
extension Int32: SQLiteBindable {}

extension Double: SQLiteBindable {
    func bind(to statement: SQLiteStatement, at index: Int32) throws {
        try statement.check(sqlite3_bind_double(statement.handle, index, self))
    }
}

/// Bytes are stored as a BLOB.
extension Data: SQLiteBindable {
    func bind(to statement: SQLiteStatement, at index: Int32) throws {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let code = withUnsafeBytes { bytes in
            sqlite3_bind_blob(statement.handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(count), transient)
        }
        try statement.check(code)
    }
}

extension String: SQLiteBindable {
    func bind(to statement: SQLiteStatement, at index: Int32) throws {
        // SQLITE_TRANSIENT is a macro Swift cannot import: it makes SQLite copy the bytes,
        // since the Swift string's storage does not outlive this call.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        try statement.check(sqlite3_bind_text(statement.handle, index, self, -1, transient))
    }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    func bind(to statement: SQLiteStatement, at index: Int32) throws {
        switch self {
        case .some(let value): try value.bind(to: statement, at: index)
        case .none: try statement.check(sqlite3_bind_null(statement.handle, index))
        }
    }
}

/// One open database connection.
final class SQLiteConnection {
    let path: String
    let handle: OpaquePointer

    /// Opens (creating if needed, along with its parent directory) the database at `path`
    /// configured for several concurrent processes: WAL journal (readers never block the
    /// writer), a busy timeout so writers queue instead of failing, enforced foreign keys,
    /// and synchronous=FULL so a committed transaction survives a power cut.
    ///
    /// `beforeWriting` runs first, on the file as it was found: switching to WAL rewrites
    /// the file's header, so a file that is to be refused must be refused there, by reads
    /// alone. A busy lock (another process creating or migrating the file) is waited out.
    init(path: String, busyTimeout: TimeInterval = 30,
         beforeWriting check: ((SQLiteConnection) throws -> Void)? = nil) throws {
        self.path = path
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("cannot create directory \(parent.path) for database \(path): \(error.localizedDescription)")
        }

        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(db)
            throw SQLiteError(code: code, message: "cannot open: \(message)", path: path, sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        // The timeout must be in place before the journal-mode switch, which needs a lock.
        sqlite3_busy_timeout(db, Int32(busyTimeout * 1000))

        // Switching a new file to WAL needs an exclusive lock, and SQLite reports that
        // lock as busy without calling the busy handler (seen when several processes
        // create the database at once), so the wait is done here.
        let deadline = Date().addingTimeInterval(busyTimeout)
        func waitingOutBusy<T>(_ body: () throws -> T) throws -> T {
            while true {
                do {
                    return try body()
                } catch let error as SQLiteError where error.isBusy && Date() < deadline {
                    usleep(5_000)
                }
            }
        }
        if let check { try waitingOutBusy { try check(self) } }
        let mode = try waitingOutBusy { try query("PRAGMA journal_mode=WAL") { $0.string(0) }.first }
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR,
                              message: "cannot switch to WAL journal mode (got \(mode ?? "nothing")); "
                                  + "the store needs a local file system that supports shared memory",
                              path: path, sql: "PRAGMA journal_mode=WAL")
        }
        try execute("PRAGMA foreign_keys=ON")
        try execute("PRAGMA synchronous=FULL")
    }

    deinit {
        // Statements hold a strong reference to their connection, so none is left here.
        sqlite3_close_v2(handle)
    }

    func error(code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), path: path,
                    sql: sql.map(SQLiteConnection.abbreviate))
    }

    /// Runs a script of one or more statements without parameters (migrations, pragmas).
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, path: path,
                              sql: SQLiteConnection.abbreviate(sql))
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(connection: self, sql: sql)
    }

    /// Runs one statement to completion and returns how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [any SQLiteBindable] = []) throws -> Int {
        let statement = try prepare(sql)
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs one query and maps every row.
    func query<T>(_ sql: String, _ values: [any SQLiteBindable] = [],
                  _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        let statement = try prepare(sql)
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it
    /// throws. `immediate` takes the write lock up front (BEGIN IMMEDIATE): a transaction
    /// that reads and then writes must do so, or two of them can each hold a read snapshot,
    /// and the second to write fails with SQLITE_BUSY without waiting for the timeout.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // Some errors (e.g. SQLITE_FULL) already rolled the transaction back.
            if sqlite3_get_autocommit(handle) == 0 {
                sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            }
            throw error
        }
    }

    /// Long statements (the schema) are cut so that an error message stays readable.
    private static func abbreviate(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count <= 200 ? flat : String(flat.prefix(200)) + "…"
    }
}

/// A prepared statement. Parameters are 1-based and columns 0-based, as in the C API.
final class SQLiteStatement {
    let connection: SQLiteConnection
    let handle: OpaquePointer
    let sql: String

    init(connection: SQLiteConnection, sql: String) throws {
        self.connection = connection
        self.sql = sql
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let (code, rest): (Int32, String) = sql.withCString { text in
            let code = sqlite3_prepare_v2(connection.handle, text, -1, &statement, &tail)
            return (code, tail.map { String(cString: $0) } ?? "")
        }
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw connection.error(code: code, sql: sql)
        }
        handle = statement
        // sqlite3_prepare compiles only the first statement; silently dropping the rest
        // would hide a bug, so scripts must go through `execute`.
        guard rest.allSatisfy(\.isWhitespace) else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "more than one statement given to prepare",
                              path: connection.path, sql: sql)
        }
    }

    deinit { sqlite3_finalize(handle) }

    func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw connection.error(code: code, sql: sql) }
    }

    /// Resets the statement and binds `values` to parameters 1, 2, ...
    func bind(_ values: [any SQLiteBindable]) throws {
        sqlite3_reset(handle)
        try check(sqlite3_clear_bindings(handle))
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(values.count) values bound to \(expected) parameters",
                              path: connection.path, sql: sql)
        }
        for (offset, value) in values.enumerated() {
            try value.bind(to: self, at: Int32(offset + 1))
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(code: sqlite3_extended_errcode(connection.handle), sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    var columnCount: Int32 { sqlite3_column_count(handle) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// Result column name -> index, for reading a row by column name.
    private(set) lazy var columnIndex: [String: Int32] = {
        var index: [String: Int32] = [:]
        for column in 0..<sqlite3_column_count(handle) {
            if let name = sqlite3_column_name(handle, column) { index[String(cString: name)] = column }
        }
        return index
    }()

    /// The index of the result column called `name`.
    func column(_ name: String) throws -> Int32 {
        guard let column = columnIndex[name] else {
            throw SQLiteError(code: SQLITE_ERROR, message: "no result column \(name)", path: connection.path, sql: sql)
        }
        return column
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: text)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }
    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }
    func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }
}
