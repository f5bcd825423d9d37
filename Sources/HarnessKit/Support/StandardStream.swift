import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output or standard error, for everything harness prints: progress, results,
/// help and errors. Output never stops a run: a write that fails (stream closed, disk or
/// `/dev/full` full, the reader of a pipe gone, any other error) is dropped silently and
/// remembered in `hasFailed`, where `FileHandle.write(_:)` would trap and a default
/// SIGPIPE would kill the process (`prepareProcess()` disarms it).
///
/// Writes go straight to the descriptor with `write(2)`, without a buffer, retrying
/// partial writes and EINTR, so what was printed is out before a crash or `exit`. One
/// message is written whole before another starts, so lines from different threads do
/// not interleave.
public final class StandardStream: Sendable {
    public static let output = StandardStream(fileDescriptor: STDOUT_FILENO)
    public static let error = StandardStream(fileDescriptor: STDERR_FILENO)

    public let fileDescriptor: Int32
    /// Held for a whole message; true once a write has failed.
    private let failed = Mutex(false)

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Whether some output to this stream was dropped.
    public var hasFailed: Bool { failed.withLock { $0 } }

    /// Writes all of `text`, or drops what the stream does not take. Returns whether
    /// everything was written.
    @discardableResult
    public func write(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            failed.withLock { failed in
                let written = Self.writeAll(bytes, to: fileDescriptor)
                if !written { failed = true }
                return written
            }
        }
    }

    /// `text` and a line break.
    @discardableResult
    public func writeLine(_ text: String) -> Bool { write(text + "\n") }

    /// Writes `bytes` to `descriptor`: loops over partial writes and EINTR; on a
    /// non-blocking descriptor that is full, waits for room, giving up after a second
    /// without any; gives up at once on any other error.
    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32) -> Bool {
        guard var next = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            let count = systemWrite(descriptor, next, remaining)
            if count > 0 {
                next += count
                remaining -= count
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&waiting, 1, 1000)
                if ready > 0 || (ready < 0 && errno == EINTR) { continue }
            }
            return false // EPIPE, ENOSPC, EBADF, EIO, a stream that stays full, or 0 bytes taken
        }
        return true
    }

    /// Once, before anything is written or opened:
    ///
    /// - SIGPIPE no longer kills the process, so writing to a pipe whose reader has gone
    ///   (`| head`) fails with EPIPE and is dropped. The signal is caught by a handler
    ///   that does nothing rather than ignored: an ignored signal stays ignored in the
    ///   programs harness starts (Foundation's `Process` on Linux does not reset it, so
    ///   sbatch would inherit it), while a caught one is back to its default after exec.
    /// - Whichever of descriptors 0, 1 and 2 is closed (as after `2>&-`) is opened on
    ///   /dev/null, so that no file opened later (a report, a temporary file) gets
    ///   descriptor 1 or 2 and receives the output meant for the terminal.
    public static func prepareProcess() {
        signal(SIGPIPE, { _ in })
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO]
        where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", descriptor == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            // open returns the lowest free descriptor, which is this one unless a lower one was
            // closed too; those are handled first, so only a failed open can leave it closed.
            if opened >= 0 && opened != descriptor {
                _ = dup2(opened, descriptor)
                _ = close(opened)
            }
        }
    }
}

/// write(2), named apart from `StandardStream.write(_:)`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, bytes, count)
    #elseif canImport(Musl)
    Musl.write(descriptor, bytes, count)
    #else
    Darwin.write(descriptor, bytes, count)
    #endif
}
