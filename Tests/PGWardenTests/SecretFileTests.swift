import Foundation
import Testing
@testable import PGWarden

/// readSecretFile: the secret without surrounding whitespace, or a message naming flag and file.
@Suite("readSecretFile")
struct SecretFileTests {
    /// A fresh directory for one test, removed afterwards.
    final class Scratch {
        let path: String

        init() throws {
            path = NSTemporaryDirectory() + "pgwarden-secret-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Writes `bytes` to `name` in the directory; its path.
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let file = path + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            return file
        }
    }

    static func message(_ path: String) -> String? {
        do {
            _ = try readSecretFile(path, flag: "--webhook.token-file")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        ("s3cret", "s3cret"),
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("  pa:ss-word! \t\n\n", "pa:ss-word!"),
        ("\n\ntoken\n", "token"),
        ("!~\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}\n", "!~\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}"),
    ])
    func readsTheSecretWithoutSurroundingWhitespace(content: String, expected: String) throws {
        let scratch = try Scratch()
        #expect(try readSecretFile(try scratch.file("secret", Array(content.utf8)), flag: "--x") == expected)
    }

    /// Larger than one read: every chunk arrives.
    @Test func readsAFileLargerThanOneRead() throws {
        let scratch = try Scratch()
        let secret = String(repeating: "0123456789abcdef", count: 1250)
        #expect(try readSecretFile(try scratch.file("big", Array((secret + "\n").utf8)), flag: "--x") == secret)
    }

    @Test(arguments: ["", "\n", " \t\r\n "])
    func emptyFile(content: String) throws {
        let scratch = try Scratch()
        let path = try scratch.file("empty", Array(content.utf8))
        #expect(Self.message(path) == "--webhook.token-file \(path): the file is empty; put the secret in it")
    }

    /// A secret must be printable ASCII without blanks (0x21-0x7E): what compares the same as
    /// bytes and as text, and what an HTTP header carries unchanged. The message says where,
    /// never what.
    @Test(arguments: [
        ("pa ss", 3), ("pa\tss", 3), ("ró", 2), ("データ", 1), ("tok\u{FFFD}", 4), ("tok\u{2028}en", 4),
        ("tok\u{A0}", 4), ("t\u{7F}", 2), ("t\u{0}k", 2), ("a\u{1B}[31m", 2), ("x\ry", 2), ("x\ny", 2),
    ])
    func secretThatIsNotPrintableASCIIIsRefused(content: String, at byte: Int) throws {
        let scratch = try Scratch()
        let path = try scratch.file("secret", Array(content.utf8))
        #expect(Self.message(path) == "--webhook.token-file \(path): the secret has a blank, a control character or a non-ASCII byte "
            + "(at byte \(byte) of the secret); it must be printable ASCII without blanks (0x21-0x7E)")
    }

    /// Invalid UTF-8 is refused too (decoded, two different such files would give one secret).
    @Test(arguments: [[0x74, 0xFF], [0x74, 0xFE], [0xC3, 0x28], [0x80]] as [[UInt8]])
    func secretThatIsNotUTF8IsRefused(bytes: [UInt8]) throws {
        let scratch = try Scratch()
        let path = try scratch.file("secret", bytes + [0x0A])
        #expect(Self.message(path)?.contains("printable ASCII without blanks") == true)
    }

    @Test func missingFile() throws {
        let scratch = try Scratch()
        let path = scratch.path + "/nope"
        #expect(Self.message(path) == "--webhook.token-file \(path): cannot read the file (No such file or directory); check that it exists, is a regular file and is readable by pgwarden")
    }

    @Test func directory() throws {
        let scratch = try Scratch()
        #expect(Self.message(scratch.path)
            == "--webhook.token-file \(scratch.path): cannot read the file (it is a directory); check that it exists, is a regular file and is readable by pgwarden")
    }

    /// The system's reason reaches the message. (A permission error would need a user other than
    /// root, which reads any file; a symbolic link loop fails for every user.)
    @Test func theSystemsReasonIsShown() throws {
        let scratch = try Scratch()
        let path = scratch.path + "/loop"
        #expect(symlink(path, path) == 0)
        #expect(Self.message(path) == "--webhook.token-file \(path): cannot read the file (Too many levels of symbolic links); check that it exists, is a regular file and is readable by pgwarden")
    }

    @Test func tooLargeOrNotARegularFile() throws {
        let scratch = try Scratch()
        let big = try scratch.file("big", [UInt8](repeating: 0x61, count: 64 * 1024 + 1))
        #expect(Self.message(big) == "--webhook.token-file \(big): cannot read the file (larger than 64 KiB); check that it exists, is a regular file and is readable by pgwarden")
        let limit = try scratch.file("limit", [UInt8](repeating: 0x61, count: 64 * 1024))
        #expect(Self.message(limit) == nil, "exactly 64 KiB is read")
        #expect(Self.message("/dev/zero") == "--webhook.token-file /dev/zero: cannot read the file (it is not a regular file); check that it exists, is a regular file and is readable by pgwarden")
        let fifo = scratch.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(Self.message(fifo) == "--webhook.token-file \(fifo): cannot read the file (it is not a regular file); check that it exists, is a regular file and is readable by pgwarden", "a FIFO is refused without blocking")
    }
}
