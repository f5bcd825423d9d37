import Foundation
import HarnessKit
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `StandardStream` in this process, on descriptors other than 1 and 2: a failed write is
/// dropped and remembered, never a trap; a write the descriptor takes in pieces arrives whole.
final class StandardStreamTests: XCTestCase {
    func testWriteToAClosedDescriptorIsDroppedAndRemembered() throws {
        let unused = try XCTUnwrap((900..<1000).first { fcntl($0, F_GETFD) == -1 }, "a descriptor number not in use")
        let stream = StandardStream(fileDescriptor: unused)
        XCTAssertFalse(stream.hasFailed)
        XCTAssertFalse(stream.write("lost\n"))
        XCTAssertTrue(stream.hasFailed)
    }

    func testWriteToAFullDeviceIsDroppedAndRemembered() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full here")
        let descriptor = open("/dev/full", O_WRONLY)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        let stream = StandardStream(fileDescriptor: descriptor)
        XCTAssertFalse(stream.writeLine("lost"))
        XCTAssertTrue(stream.hasFailed)
        XCTAssertTrue(StandardStream(fileDescriptor: descriptor).write(""), "nothing to write is no failure")
    }

    /// A non-blocking pipe read slowly takes a large write in many partial writes and
    /// EAGAINs; every byte arrives, in order.
    func testLargeWriteToASlowNonBlockingPipeArrivesWhole() throws {
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        XCTAssertEqual(fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK), 0)
        let text = (0..<40_000).map { "line \($0)\n" }.joined()
        nonisolated(unsafe) var received: [UInt8] = []
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 7000)
            while true {
                usleep(200)
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                received += buffer[..<count]
            }
        }
        reader.start()
        let stream = StandardStream(fileDescriptor: writeEnd)
        XCTAssertTrue(stream.write(text))
        XCTAssertFalse(stream.hasFailed)
        close(writeEnd)
        while !reader.isFinished { usleep(1000) }
        close(readEnd)
        XCTAssertEqual(received.count, text.utf8.count)
        XCTAssert(received.elementsEqual(text.utf8))
    }
}
