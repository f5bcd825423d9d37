import Foundation

/// What a path is, for refusing anything but a regular file before opening it (opening a
/// FIFO for reading blocks until a writer comes).
enum FileKind {
    /// "a FIFO (named pipe)", "a directory", ...; nil for a regular file.
    static func nonRegular(_ info: stat) -> String? {
        switch info.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "of an unknown kind"
        }
    }
}
