import Foundation
import HarnessKit
import TestSupport
import XCTest

final class DigestTests: XCTestCase {
    private func md5(_ text: String) -> String { Digest.md5Hex(Data(text.utf8)) }
    private func sha256(_ text: String) -> String { Digest.sha256Hex(Data(text.utf8)) }

    /// RFC 1321 appendix A.5 test suite, plus the one-million-'a' message.
    func testMD5KnownAnswers() {
        XCTAssertEqual(md5(""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(md5("a"), "0cc175b9c0f1b6a831c399e269772661")
        XCTAssertEqual(md5("abc"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(md5("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b")
        XCTAssertEqual(md5(String(repeating: "1234567890", count: 8)), "57edf4a22be3c955ac49da2e2107b67a")
        XCTAssertEqual(Digest.md5Hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "7707d6ae4e027c70eea2a935c2296f21")
    }

    /// FIPS 180-2 appendix B examples (one block, two blocks, one million 'a') and the
    /// 896-bit message of the NIST example set.
    func testSHA256KnownAnswers() {
        XCTAssertEqual(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(Digest.sha256Hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (55/56 bytes fit one final block or
    /// not; 64 is exactly one block), checked against Python's hashlib.
    func testPaddingBoundaries() {
        let expected: [(Int, String, String)] = [
            (55, "52c0e574e1198de5fe3f8f11440dcb1b", "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
            (56, "46c9907fc908ee68b1e7b8e71286a518", "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
            (63, "a62f6d59e837867693f042f5b8f5a236", "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
            (64, "7160b8fb5e9e4023d549c3971fbaeead", "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
            (65, "70bd662e7aefbda85a0f7244167b7897", "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
            (119, "e84905d4214f4d1ca56c2cdcc152b143", "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
            (120, "e3eb5a6c8669ea01a8c185b8abc8a5dc", "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
        ]
        for (length, md5, sha) in expected {
            let data = Data((0..<length).map { UInt8(($0 * 7 + 3) % 256) })
            XCTAssertEqual(Digest.md5Hex(data), md5, "MD5 of \(length) bytes")
            XCTAssertEqual(Digest.sha256Hex(data), sha, "SHA-256 of \(length) bytes")
        }
    }

    /// Feeding the input in uneven pieces gives the same digest as feeding it at once.
    func testIncrementalUpdatesMatchOneShot() {
        let data = Data((0..<1000).map { UInt8(($0 * 31 + 7) % 256) })
        var md5 = Digest.MD5(), sha = Digest.SHA256()
        var offset = 0
        for piece in [0, 1, 62, 1, 64, 65, 3, 200, 128, 476] {
            md5.update(data[offset..<offset + piece])
            sha.update(data[offset..<offset + piece])
            offset += piece
        }
        XCTAssertEqual(offset, data.count)
        XCTAssertEqual(Digest.hex(md5.finalize()), Digest.md5Hex(data))
        XCTAssertEqual(Digest.hex(sha.finalize()), Digest.sha256Hex(data))
        // finalize leaves the hasher usable: more input changes the digest.
        sha.update([1])
        XCTAssertNotEqual(Digest.hex(sha.finalize()), Digest.sha256Hex(data))
    }

    /// Checks the real data's `.gz` files against the SHA256SUMS shipped with them.
    /// Runs only when HARNESS_TEST_DATA names that directory.
    func testRealFilesMatchTheirSHA256SUMS() throws {
        guard let directory = ProcessInfo.processInfo.environment["HARNESS_TEST_DATA"] else {
            throw XCTSkip("HARNESS_TEST_DATA is not set")
        }
        let sums = URL(fileURLWithPath: directory).appendingPathComponent("SHA256SUMS")
        guard let text = try? String(contentsOf: sums, encoding: .utf8) else {
            throw XCTSkip("no SHA256SUMS in \(directory)")
        }
        var checked = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2 else { continue }
            let name = String(fields[1]).trimmingCharacters(in: CharacterSet(charactersIn: "*"))
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            XCTAssertEqual(Digest.sha256Hex(data), String(fields[0]), name)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0)
    }
}
