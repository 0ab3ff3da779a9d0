import CSodium
import Foundation

/// The system's cryptographic generator (libsodium's randombytes, getrandom underneath), read 4 KiB at a
/// time.
///
/// `SystemRandomNumberGenerator` makes one getrandom call per 64-bit word, and a BB84 run draws hundreds
/// of thousands of words: the calls, not the randomness, dominated a key exchange. The bytes are the
/// same kernel CSPRNG output, only fetched in bulk; the buffer is wiped when the generator is dropped.
struct BufferedSystemRandom: RandomNumberGenerator {
    private let storage = Storage()

    mutating func next() -> UInt64 { storage.next() }

    private final class Storage {
        private var words = [UInt64](repeating: 0, count: 512)
        private var index = 512

        func next() -> UInt64 {
            if index == words.count {
                words.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
                index = 0
            }
            defer { index += 1 }
            return words[index]
        }

        deinit {
            words.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, $0.count) }
        }
    }
}
