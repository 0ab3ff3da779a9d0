internal import CQRencode

/// A QR code (ISO/IEC 18004) as a square of modules, encoded by libqrencode, drawn for a terminal
/// (``terminalText(quietZone:)``) or a web page (``svg(moduleSize:quietZone:)``).
public struct QRCode: Sendable, Equatable {
    /// Error correction: how much of the symbol may be lost or dirty and still read.
    public enum Correction: Sendable {
        /// About 7 %.
        case low
        /// About 15 %: enough for a screen, and the smallest symbol that is.
        case medium
        case quartile
        case high

        var level: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// Modules per side (21 for version 1, 4 more for each version after).
    public let size: Int
    /// Row-major: true for a dark module.
    private let dark: [Bool]

    /// The smallest QR code that holds `text` (as 8-bit bytes, UTF-8) at `correction`.
    /// - Throws: ``QRCodeError`` when the text is empty, holds a NUL byte or does not fit a QR code.
    public init(encoding text: String, correction: Correction = .medium) throws(QRCodeError) {
        guard !text.isEmpty, !text.utf8.contains(0) else { throw QRCodeError(reason: "the text is empty or holds a NUL byte") }
        guard let code = QRcode_encodeString8bit(text, 0, correction.level) else {
            throw QRCodeError(reason: "\(text.utf8.count) bytes do not fit a QR code at this error correction")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        size = width
        // libqrencode's bit 0 of each byte is the module's colour; the other bits say what the module is for.
        dark = (0..<width * width).map { code.pointee.data[$0] & 1 == 1 }
    }

    /// Whether the module at `row`, `column` (from the top left, 0-based) is dark; outside the symbol
    /// (the quiet zone) it is light.
    public func isDark(row: Int, column: Int) -> Bool {
        guard (0..<size).contains(row), (0..<size).contains(column) else { return false }
        return dark[row * size + column]
    }

    /// The code for a terminal: two module rows per line in upper half blocks, with explicit ANSI colours
    /// (black on white) so that it reads the same on dark and light terminal themes, and `quietZone`
    /// light modules around it (the standard asks for 4; scanners read terminals with 2).
    public func terminalText(quietZone: Int = 2) -> String {
        let range = -quietZone..<(size + quietZone)
        var lines: [String] = []
        for top in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
            var line = ""
            for column in range {
                let upper = isDark(row: top, column: column)
                let lower = top + 1 < range.upperBound && isDark(row: top + 1, column: column)
                // Foreground paints the upper half, background the lower: 30/40 black, 97/107 white.
                line += "\u{1B}[\(upper ? 30 : 97);\(lower ? 40 : 107)m\u{2580}"
            }
            lines.append(line + "\u{1B}[0m")
        }
        return lines.joined(separator: "\n")
    }

    /// The code as a standalone SVG document (no script, no external reference) for inline use in a page:
    /// one path of unit squares over a white square, `moduleSize` pixels a module, with the standard's
    /// quiet zone of 4 modules.
    public func svg(moduleSize: Int = 4, quietZone: Int = 4) -> String {
        let side = size + 2 * quietZone
        var path = ""
        for row in 0..<size {
            for column in 0..<size where isDark(row: row, column: column) {
                path += "M\(column + quietZone) \(row + quietZone)h1v1h-1z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(side * moduleSize)" height="\(side * moduleSize)" \
            viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges" role="img" aria-label="QR code">\
            <rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}

/// Why a text could not be made into a QR code.
public struct QRCodeError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "cannot draw a QR code: \(reason)" }
}
