/// Model checkpoints: every parameter's values (and pruning mask) as bytes, restored bit
/// for bit. The engine does no I/O; callers write and read the bytes.
///
/// Format, all integers little-endian:
///
///     "HNSCKPT1"                         8-byte magic (the 1 is the format version)
///     u64 total byte count               so a short file is reported as truncated
///     u32 field count, then per field:   config description, name=value strings
///         string name, string value      (string = u32 byte count + UTF-8)
///     u32 parameter count, then per parameter:
///         string name
///         u32 rank, u64 × rank dims
///         u8 flags                        bit 0: a mask follows the values
///         f32 × count values              raw IEEE-754 bits
///         f32 × count mask                when flagged
///     u64 FNV-1a 64 of every byte before it
///
/// Loading checks, in order: magic, length, checksum, then that the config and every
/// parameter's name and shape match the target model; nothing is written to the model
/// unless all checks pass.
///
/// The config fields are those of `checkpointConfigFields`. A model whose recurrent
/// layers differ in width (`ModelConfig.layerHidden`, a unit-pruned model) has one more,
/// "layerHidden"; every other model writes exactly the fields it always did, so its
/// checkpoints are the same bytes as before and old checkpoints load unchanged. A field
/// the target model does not have is a mismatch too, so such a checkpoint is refused by
/// name ("layerHidden") rather than by the first parameter shape that differs.

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case badMagic(found: [UInt8])
    case truncated(expected: Int, actual: Int)
    case trailingBytes(expected: Int, actual: Int)
    case checksumMismatch(stored: UInt64, computed: UInt64)
    case configMismatch(field: String, checkpoint: String, model: String)
    case parameterCountMismatch(checkpoint: Int, model: Int)
    case parameterMismatch(index: Int, checkpoint: String, model: String)
    /// Well-formed length and checksum but an unreadable structure: written by something else.
    case malformed(String)

    public var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        switch self {
        case .badMagic(let found):
            let shown = String(decoding: found.map { (32..<127).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            return "not a harness checkpoint: expected magic \"\(checkpointMagic)\", found \"\(shown)\""
        case let .truncated(expected, actual):
            return "checkpoint is truncated: expected \(expected) bytes, found \(actual)"
        case let .trailingBytes(expected, actual):
            return "checkpoint has trailing bytes: expected \(expected) bytes, found \(actual)"
        case let .checksumMismatch(stored, computed):
            return "checkpoint is corrupt: checksum expected \(hex(stored)) (stored), computed \(hex(computed))"
        case let .configMismatch(field, checkpoint, model):
            return "checkpoint is for another model: config \(field) is \(checkpoint) in the checkpoint, expected \(model)"
        case let .parameterCountMismatch(checkpoint, model):
            return "checkpoint has \(checkpoint) parameters, expected \(model)"
        case let .parameterMismatch(index, checkpoint, model):
            return "checkpoint parameter \(index) is \(checkpoint), expected \(model)"
        case .malformed(let what):
            return "checkpoint is malformed: \(what)"
        }
    }
}

let checkpointMagic = "HNSCKPT1"

/// The config as name=value pairs, in a fixed order; a loaded checkpoint must match all
/// of them and have no others. "layerHidden" is there only when the config sets it.
func checkpointConfigFields(_ config: ModelConfig) -> [(String, String)] {
    func list(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }
    let fields = [("kind", config.kind.rawValue), ("layers", String(config.layers)), ("hidden", String(config.hidden)),
                  ("activation", config.activation.rawValue), ("sequence", config.sequence.rawValue),
                  ("dense", list(config.dense)), ("dropout", String(config.dropout)), ("conv", list(config.conv)),
                  ("kernel", String(config.kernel)), ("pool", String(config.pool)), ("classes", String(config.classes)),
                  ("image", "\(config.imageHeight)x\(config.imageWidth)")]
    guard let layerHidden = config.layerHidden else { return fields }
    return fields + [("layerHidden", list(layerHidden))]
}

/// FNV-1a, 64-bit.
func fnv1a64(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
}

/// Serialises `model`: config, parameter names and shapes, values and masks.
public func checkpointData(_ model: Classifier) -> [UInt8] {
    var out: [UInt8] = Array(checkpointMagic.utf8)
    out += [UInt8](repeating: 0, count: 8)  // total length, patched below
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out += $0 } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func string(_ s: String) { u32(s.utf8.count); out += s.utf8 }
    func floats(_ buffer: FloatBuffer) {
        for i in 0..<buffer.count { withUnsafeBytes(of: buffer[i].bitPattern.littleEndian) { out += $0 } }
    }
    let fields = checkpointConfigFields(model.config)
    u32(fields.count)
    for (name, value) in fields { string(name); string(value) }
    let parameters = model.parameters
    u32(parameters.count)
    for parameter in parameters {
        string(parameter.name)
        u32(parameter.shape.count)
        for dim in parameter.shape { u64(UInt64(dim)) }
        out.append(parameter.mask != nil ? 1 : 0)
        floats(parameter.value)
        if let mask = parameter.mask { floats(mask) }
    }
    let total = out.count + 8
    withUnsafeBytes(of: UInt64(total).littleEndian) { out.replaceSubrange(8..<16, with: $0) }
    u64(out.withUnsafeBufferPointer(fnv1a64))
    return out
}

/// Restores a checkpoint written by `checkpointData` into `model`, whose config and
/// parameters must match the checkpoint's. Masks are installed or cleared as stored.
public func loadCheckpoint(_ bytes: [UInt8], into model: Classifier) throws {
    let magic = Array(checkpointMagic.utf8)
    let header = magic.count + 8, checksumSize = 8
    guard bytes.starts(with: magic) else {
        if magic.starts(with: bytes) { throw CheckpointError.truncated(expected: header + checksumSize, actual: bytes.count) }
        throw CheckpointError.badMagic(found: Array(bytes.prefix(magic.count)))
    }
    guard let declared = declaredLength(bytes), bytes.count >= header + checksumSize else {
        throw CheckpointError.truncated(expected: max(header + checksumSize, declaredLength(bytes) ?? 0), actual: bytes.count)
    }
    if bytes.count < declared { throw CheckpointError.truncated(expected: declared, actual: bytes.count) }
    if bytes.count > declared { throw CheckpointError.trailingBytes(expected: declared, actual: bytes.count) }
    let body = bytes.count - checksumSize
    var reader = ByteReader(bytes: bytes, offset: body)
    let stored = try reader.u64("checksum")
    let computed = bytes.withUnsafeBufferPointer { fnv1a64(UnsafeBufferPointer(rebasing: $0[0..<body])) }
    guard stored == computed else { throw CheckpointError.checksumMismatch(stored: stored, computed: computed) }
    reader = ByteReader(bytes: bytes, offset: header, end: body)

    var fields: [(String, String)] = []
    for _ in 0..<(try reader.count("config field count")) {
        fields.append((try reader.string("config field name"), try reader.string("config field value")))
    }
    let expectedFields = checkpointConfigFields(model.config)
    let storedFields = Dictionary(fields, uniquingKeysWith: { first, _ in first })
    for (name, value) in expectedFields where storedFields[name] != value {
        throw CheckpointError.configMismatch(field: name, checkpoint: storedFields[name] ?? "missing", model: value)
    }
    let expectedNames = Set(expectedFields.map(\.0))
    if let (name, value) = fields.first(where: { !expectedNames.contains($0.0) }) {
        throw CheckpointError.configMismatch(field: name, checkpoint: value, model: "missing")
    }

    let parameters = model.parameters
    let count = try reader.count("parameter count")
    guard count == parameters.count else {
        throw CheckpointError.parameterCountMismatch(checkpoint: count, model: parameters.count)
    }
    // Read and check everything first, so a mismatch leaves the model untouched.
    var loaded: [(values: Int, mask: Int?)] = []  // byte offsets of each parameter's floats
    for (index, parameter) in parameters.enumerated() {
        let name = try reader.string("name of parameter \(index)")
        let rank = try reader.count("rank of \(name)")
        var shape: [Int] = []
        for _ in 0..<rank { shape.append(Int(clamping: try reader.u64("shape of \(name)"))) }
        guard name == parameter.name, shape == parameter.shape else {
            throw CheckpointError.parameterMismatch(index: index, checkpoint: "\(name) \(shape)",
                                                    model: "\(parameter.name) \(parameter.shape)")
        }
        let flags = try reader.u8("flags of \(name)")
        guard flags & ~1 == 0 else { throw CheckpointError.malformed("unknown flags \(flags) for \(name)") }
        let values = try reader.skip(4 * parameter.count, "values of \(name)")
        let mask = flags & 1 == 1 ? try reader.skip(4 * parameter.count, "mask of \(name)") : nil
        loaded.append((values, mask))
    }
    guard reader.offset == reader.end else {
        throw CheckpointError.malformed("\(reader.end - reader.offset) unread bytes before the checksum")
    }

    func read(_ offset: Int, count: Int) -> [Float] {
        (0..<count).map { i in
            let o = offset + 4 * i
            return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }
    for (parameter, place) in zip(parameters, loaded) {
        // setMask multiplies the values by the mask; the stored values are written after
        // it, so they come back exactly (a pruned -0.0 stays -0.0).
        if let mask = place.mask { parameter.setMask(read(mask, count: parameter.count)) } else { parameter.clearMask() }
        let values = read(place.values, count: parameter.count)
        for i in 0..<parameter.count { parameter.value[i] = values[i] }
    }
}

/// The total length in the header, if the header is there.
private func declaredLength(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 16 else { return nil }
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
    return Int(clamping: value)
}

/// Bounds-checked little-endian reads; a read past `end` is a malformed checkpoint.
private struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    var end: Int

    init(bytes: [UInt8], offset: Int, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    /// Advances over `count` bytes and returns where they start.
    mutating func skip(_ count: Int, _ what: String) throws -> Int {
        guard count >= 0, count <= end - offset else {
            throw CheckpointError.malformed("\(what) needs \(count) bytes at offset \(offset), \(end - offset) remain")
        }
        defer { offset += count }
        return offset
    }

    mutating func u8(_ what: String) throws -> UInt8 { bytes[try skip(1, what)] }

    mutating func u32(_ what: String) throws -> UInt32 {
        let o = try skip(4, what)
        return (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        let o = try skip(8, what)
        return (0..<8).reduce(0) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) }
    }

    mutating func count(_ what: String) throws -> Int { Int(try u32(what)) }

    mutating func string(_ what: String) throws -> String {
        let length = try count(what)
        let o = try skip(length, what)
        guard let text = String(validating: bytes[o..<(o + length)], as: UTF8.self) else {
            throw CheckpointError.malformed("\(what) is not UTF-8")
        }
        return text
    }
}
