import Foundation

/// MD5 (RFC 1321) and SHA-256 (FIPS 180-4), written here so the package needs no
/// crypto library. MD5 checks downloads against the official Fashion-MNIST sums;
/// SHA-256 fingerprints the decoded data set.
///
/// Both hashers are incremental (`update` any number of times, then `finalize`), so
/// tens of megabytes can be hashed without concatenating them first. The block
/// functions walk 64-byte blocks through unsafe pointers with one stack scratch
/// buffer per `update` call: no allocation per block.
public enum Digest {
    public static func md5Hex(_ data: Data) -> String {
        var hasher = MD5()
        hasher.update(data)
        return hex(hasher.finalize())
    }

    public static func sha256Hex(_ data: Data) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return hex(hasher.finalize())
    }

    /// Lower-case hexadecimal, two characters per byte.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public typealias MD5 = BlockHasher<MD5Compression>
    public typealias SHA256 = BlockHasher<SHA256Compression>

    // MARK: MD5

    /// MD5's initial state and block function: a little-endian length and digest.
    public enum MD5Compression: BlockCompression {
        public static let initialState: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476]
        public static let isBigEndian = false

        // Per-round left-rotation amounts and the sine-derived constants of RFC 1321 §3.4.
        private static let shifts: [UInt32] = [
            7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
            5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
        ]
        private static let constants: [UInt32] = [
            0xD76A_A478, 0xE8C7_B756, 0x2420_70DB, 0xC1BD_CEEE, 0xF57C_0FAF, 0x4787_C62A, 0xA830_4613, 0xFD46_9501,
            0x6980_98D8, 0x8B44_F7AF, 0xFFFF_5BB1, 0x895C_D7BE, 0x6B90_1122, 0xFD98_7193, 0xA679_438E, 0x49B4_0821,
            0xF61E_2562, 0xC040_B340, 0x265E_5A51, 0xE9B6_C7AA, 0xD62F_105D, 0x0244_1453, 0xD8A1_E681, 0xE7D3_FBC8,
            0x21E1_CDE6, 0xC337_07D6, 0xF4D5_0D87, 0x455A_14ED, 0xA9E3_E905, 0xFCEF_A3F8, 0x676F_02D9, 0x8D2A_4C8A,
            0xFFFA_3942, 0x8771_F681, 0x6D9D_6122, 0xFDE5_380C, 0xA4BE_EA44, 0x4BDE_CFA9, 0xF6BB_4B60, 0xBEBF_BC70,
            0x289B_7EC6, 0xEAA1_27FA, 0xD4EF_3085, 0x0488_1D05, 0xD9D4_D039, 0xE6DB_99E5, 0x1FA2_7CF8, 0xC4AC_5665,
            0xF429_2244, 0x432A_FF97, 0xAB94_23A7, 0xFC93_A039, 0x655B_59C3, 0x8F0C_CC92, 0xFFEF_F47D, 0x8584_5DD1,
            0x6FA8_7E4F, 0xFE2C_E6E0, 0xA301_4314, 0x4E08_11A1, 0xF753_7E82, 0xBD3A_F235, 0x2AD7_D2BB, 0xEB86_D391,
        ]

        /// `blocks.count` is a multiple of 64.
        public static func compress(_ h: inout [UInt32], blocks: UnsafeRawBufferPointer) {
            var a0 = h[0], b0 = h[1], c0 = h[2], d0 = h[3]
            shifts.withUnsafeBufferPointer { s in
                constants.withUnsafeBufferPointer { k in
                    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { m in
                        var offset = 0
                        while offset < blocks.count {
                            for i in 0..<16 {
                                m[i] = UInt32(littleEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self))
                            }
                            var a = a0, b = b0, c = c0, d = d0
                            for i in 0..<64 {
                                var f: UInt32
                                let g: Int
                                switch i >> 4 {
                                case 0: f = (b & c) | (~b & d); g = i
                                case 1: f = (d & b) | (~d & c); g = (5 &* i &+ 1) & 15
                                case 2: f = b ^ c ^ d; g = (3 &* i &+ 5) & 15
                                default: f = c ^ (b | ~d); g = (7 &* i) & 15
                                }
                                f = f &+ a &+ k[i] &+ m[g]
                                a = d; d = c; c = b
                                b = b &+ ((f &<< s[i]) | (f &>> (32 &- s[i])))
                            }
                            a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
                            offset += 64
                        }
                    }
                }
            }
            h[0] = a0; h[1] = b0; h[2] = c0; h[3] = d0
        }
    }

    // MARK: SHA-256

    /// SHA-256's initial state and block function: a big-endian length and digest.
    public enum SHA256Compression: BlockCompression {
        public static let initialState: [UInt32] = [
            0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
        ]
        public static let isBigEndian = true

        // FIPS 180-4 §4.2.2: fractional parts of the cube roots of the first 64 primes.
        private static let constants: [UInt32] = [
            0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
            0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
            0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
            0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
            0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
            0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
            0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
            0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
        ]

        @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }

        /// `blocks.count` is a multiple of 64.
        public static func compress(_ h: inout [UInt32], blocks: UnsafeRawBufferPointer) {
            var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7]
            constants.withUnsafeBufferPointer { k in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    var offset = 0
                    while offset < blocks.count {
                        for t in 0..<16 {
                            w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                        }
                        for t in 16..<64 {
                            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] &>> 3)
                            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] &>> 10)
                            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                        }
                        var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7
                        for t in 0..<64 {
                            let sigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                            let choose = (e & f) ^ (~e & g)
                            let t1 = hh &+ sigma1 &+ choose &+ k[t] &+ w[t]
                            let sigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                            let majority = (a & b) ^ (a & c) ^ (b & c)
                            let t2 = sigma0 &+ majority
                            hh = g; g = f; f = e; e = d &+ t1
                            d = c; c = b; b = a; a = t1 &+ t2
                        }
                        h0 = h0 &+ a; h1 = h1 &+ b; h2 = h2 &+ c; h3 = h3 &+ d
                        h4 = h4 &+ e; h5 = h5 &+ f; h6 = h6 &+ g; h7 = h7 &+ hh
                        offset += 64
                    }
                }
            }
            h = [h0, h1, h2, h3, h4, h5, h6, h7]
        }
    }
}

/// What sets a 64-byte-block hash apart: its initial state, its block function, and the
/// byte order of its length field and digest words.
public protocol BlockCompression {
    static var initialState: [UInt32] { get }
    static var isBigEndian: Bool { get }
    /// Advances the state over `blocks`, whose count is a multiple of 64.
    static func compress(_ h: inout [UInt32], blocks: UnsafeRawBufferPointer)
}

/// An incremental hasher: `update` any number of times, then `finalize`.
public struct BlockHasher<Compression: BlockCompression>: Sendable {
    private var state = Compression.initialState
    private var buffer = BlockBuffer()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var h = state
        buffer.feed(bytes) { Compression.compress(&h, blocks: $0) }
        state = h
    }

    public mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything fed so far (the hasher itself is unchanged).
    public func finalize() -> [UInt8] {
        var h = state
        buffer.finish(lengthIsBigEndian: Compression.isBigEndian) { Compression.compress(&h, blocks: $0) }
        return h.flatMap { word in
            withUnsafeBytes(of: Compression.isBigEndian ? word.bigEndian : word.littleEndian) { Array($0) }
        }
    }
}

/// The buffering and padding MD5 and SHA-256 share: both consume 64-byte blocks and
/// end the message with 0x80, zeros, and the message length in bits as 8 bytes
/// (little-endian for MD5, big-endian for SHA-256).
struct BlockBuffer: Sendable {
    /// The tail of the input that does not yet fill a block (0..<64 bytes).
    private var pending: [UInt8] = []
    private var totalBytes: UInt64 = 0

    /// Hands every complete 64-byte block to `compress`, whole runs of blocks at once
    /// straight from `bytes`, and keeps the remainder.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, compress: (UnsafeRawBufferPointer) -> Void) {
        totalBytes &+= UInt64(bytes.count)
        var rest = bytes[...]
        if !pending.isEmpty {
            let take = min(64 - pending.count, rest.count)
            pending.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes(compress)
            pending.removeAll(keepingCapacity: true)
        }
        let whole = rest.count / 64 * 64
        if whole > 0 { compress(UnsafeRawBufferPointer(rebasing: rest.prefix(whole))) }
        pending.append(contentsOf: rest.dropFirst(whole))
    }

    /// Compresses the padded final block(s) (one or two) without changing `self`.
    func finish(lengthIsBigEndian: Bool, compress: (UnsafeRawBufferPointer) -> Void) {
        let bitLength = totalBytes &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        withUnsafeBytes(of: lengthIsBigEndian ? bitLength.bigEndian : bitLength.littleEndian) {
            tail.append(contentsOf: $0)
        }
        tail.withUnsafeBytes(compress)
    }
}
