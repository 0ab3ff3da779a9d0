/// A recursive-descent parser for the Varlink interface definition language (varlink.org/Interface-Definition).
struct IDLParser {
    private enum Token: Equatable {
        case word(String)
        case symbol(String)
        case end
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var peeked: Token?
    private var peekedLine = 1

    init(text: String) {
        self.scalars = Array(text.unicodeScalars)
    }

    struct Parsed {
        var name: String
        var types: [String: VarlinkType] = [:]
        var methods: [VarlinkMethodDefinition] = []
        var errors: [VarlinkErrorDefinition] = []
    }

    mutating func parseInterface() throws(VarlinkIDLError) -> Parsed {
        try expectWord("interface")
        let name = try word()
        guard Self.isInterfaceName(name) else { throw failure("invalid interface name '\(name)'") }
        var parsed = Parsed(name: name)
        var memberNames: Set<String> = []
        while true {
            let token = try next()
            if token == .end { break }
            guard case .word(let keyword) = token else { throw failure("expected type, method or error") }
            let member = try word()
            guard Self.isMemberName(member) else { throw failure("invalid name '\(member)'") }
            guard memberNames.insert(member).inserted else { throw failure("'\(member)' declared twice") }
            switch keyword {
            case "type":
                try expectSymbol("(")
                parsed.types[member] = try parseParenthesised()
            case "method":
                let input = try parseFields()
                try expectSymbol("->")
                let output = try parseFields()
                parsed.methods.append(VarlinkMethodDefinition(name: member, input: input, output: output))
            case "error":
                parsed.errors.append(VarlinkErrorDefinition(name: member, parameters: try parseFields()))
            default: throw failure("expected type, method or error, found '\(keyword)'")
            }
        }
        guard !parsed.methods.isEmpty else { throw failure("an interface needs at least one method") }
        try checkReferences(parsed)
        return parsed
    }

    // MARK: Grammar

    private mutating func parseFields() throws(VarlinkIDLError) -> [VarlinkField] {
        try expectSymbol("(")
        guard case .structure(let fields) = try parseParenthesised() else { throw failure("expected a structure") }
        return fields
    }

    /// Parses what follows an opening parenthesis: a structure or an enum.
    private mutating func parseParenthesised() throws(VarlinkIDLError) -> VarlinkType {
        if try peek() == .symbol(")") {
            _ = try next()
            return .structure([])
        }
        let first = try word()
        if try peek() == .symbol(":") {
            var fields: [VarlinkField] = []
            var name = first
            while true {
                guard Self.isFieldName(name) else { throw failure("invalid field name '\(name)'") }
                try expectSymbol(":")
                fields.append(VarlinkField(name: name, type: try parseType()))
                if try nextIsClosing() { break }
                name = try word()
            }
            guard Set(fields.map(\.name)).count == fields.count else { throw failure("duplicate field") }
            return .structure(fields)
        }
        var cases = [first]
        while true {
            guard Self.isFieldName(cases[cases.count - 1]) else { throw failure("invalid enum value") }
            if try nextIsClosing() { break }
            cases.append(try word())
        }
        return .enumeration(cases)
    }

    /// Consumes `,` (returning false) or `)` (returning true).
    private mutating func nextIsClosing() throws(VarlinkIDLError) -> Bool {
        switch try next() {
        case .symbol(","): return false
        case .symbol(")"): return true
        default: throw failure("expected ',' or ')'")
        }
    }

    private mutating func parseType(allowOptional: Bool = true) throws(VarlinkIDLError) -> VarlinkType {
        switch try next() {
        case .symbol("?"):
            guard allowOptional else { throw failure("'?' cannot follow '?'") }
            return .optional(try parseType(allowOptional: false))
        case .symbol("["):
            if try peek() == .symbol("]") {
                _ = try next()
                return .array(try parseType())
            }
            try expectWord("string")
            try expectSymbol("]")
            return .dictionary(try parseType())
        case .symbol("("): return try parseParenthesised()
        case .word("bool"): return .bool
        case .word("int"): return .int
        case .word("float"): return .float
        case .word("string"): return .string
        case .word("object"): return .object
        case .word(let name) where Self.isMemberName(name): return .named(name)
        default: throw failure("expected a type")
        }
    }

    private func checkReferences(_ parsed: Parsed) throws(VarlinkIDLError) {
        var pending: [VarlinkType] = Array(parsed.types.values)
        for method in parsed.methods { pending += (method.input + method.output).map(\.type) }
        for error in parsed.errors { pending += error.parameters.map(\.type) }
        while let type = pending.popLast() {
            switch type {
            case .named(let name):
                guard parsed.types[name] != nil else { throw failure("unknown type '\(name)'") }
            case .optional(let inner), .array(let inner), .dictionary(let inner): pending.append(inner)
            case .structure(let fields): pending += fields.map(\.type)
            default: break
            }
        }
    }

    // MARK: Names

    static func isInterfaceName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return false }
        return parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, isLetter(first) else { return false }
            return part.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" }
                && part.last != "-"
        }
    }

    static func isMemberName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) }
    }

    static func isFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" } && !name.hasSuffix("_")
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    // MARK: Tokens

    private func failure(_ message: String) -> VarlinkIDLError { VarlinkIDLError(message: message, line: peekedLine) }

    private mutating func word() throws(VarlinkIDLError) -> String {
        guard case .word(let text) = try next() else { throw failure("expected a name") }
        return text
    }

    private mutating func expectWord(_ expected: String) throws(VarlinkIDLError) {
        guard try next() == .word(expected) else { throw failure("expected '\(expected)'") }
    }

    private mutating func expectSymbol(_ expected: String) throws(VarlinkIDLError) {
        guard try next() == .symbol(expected) else { throw failure("expected '\(expected)'") }
    }

    private mutating func peek() throws(VarlinkIDLError) -> Token {
        if let peeked { return peeked }
        let token = try scan()
        peeked = token
        return token
    }

    private mutating func next() throws(VarlinkIDLError) -> Token {
        let token = try peek()
        peeked = nil
        return token
    }

    private mutating func scan() throws(VarlinkIDLError) -> Token {
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "\n" {
                line += 1
                position += 1
            } else if scalar == " " || scalar == "\t" || scalar == "\r" {
                position += 1
            } else if scalar == "#" {
                while position < scalars.count && scalars[position] != "\n" { position += 1 }
            } else {
                break
            }
        }
        peekedLine = line
        guard position < scalars.count else { return .end }
        let scalar = scalars[position]
        if Self.isLetter(scalar) || Self.isDigit(scalar) || scalar == "_" {
            var text = ""
            while position < scalars.count {
                let c = scalars[position]
                guard Self.isLetter(c) || Self.isDigit(c) || c == "_" || c == "." || c == "-" else { break }
                if c == "-" && position + 1 < scalars.count && scalars[position + 1] == ">" { break }
                text.unicodeScalars.append(c)
                position += 1
            }
            return .word(text)
        }
        if scalar == "-" {
            guard position + 1 < scalars.count, scalars[position + 1] == ">" else { throw failure("expected '->'") }
            position += 2
            return .symbol("->")
        }
        guard "():,?[]".unicodeScalars.contains(scalar) else { throw failure("unexpected character '\(scalar)'") }
        position += 1
        return .symbol(String(scalar))
    }
}
