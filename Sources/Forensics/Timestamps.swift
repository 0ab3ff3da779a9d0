/// RFC 3339 timestamps for the log's microsecond times: written fast (export writes one per event) and
/// parsed from the command line, with relative times such as `-1h`.
public enum Timestamps {
    /// Appends `micros` (since the Unix epoch) as RFC 3339 UTC with six fractional digits,
    /// e.g. `2026-11-28T06:08:09.123456Z`.
    public static func append(micros: Int64, to bytes: inout [UInt8]) {
        let (days, microsOfDay) = floorDivide(micros, 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(truncatingIfNeeded: rest / divisor) &+ 0x30)
                rest %= divisor
                divisor /= 10
            }
        }
        if year < 0 || year > 9999 {
            // RFC 3339 has four-digit years only; such times do not come from a real clock.
            bytes.append(contentsOf: String(year).utf8)
        } else {
            digits(year, 4)
        }
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(seconds / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(seconds / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(seconds % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 6)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `micros` as RFC 3339 UTC with microseconds.
    public static func string(micros: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        append(micros: micros, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a time given on the command line, to microseconds since the Unix epoch.
    ///
    /// Accepted: RFC 3339 (`2026-11-28T06:08:09Z`, `2026-11-28T07:08:09.5+01:00`, `t`/`z` and a space
    /// for `T` allowed, up to nine fractional digits, truncated to microseconds); a date alone
    /// (`2026-11-28`, midnight UTC); a time relative to `nowMicros` (`-90s`, `-15m`, `-1h`, `-2d`,
    /// `-1w`; a leading `+` for the future); `now`.
    ///
    /// - Returns: the time, or nil if `text` is none of these.
    public static func parse(_ text: String, nowMicros: Int64) -> Int64? {
        let bytes = Array(text.utf8)
        if text == "now" { return nowMicros }
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            return parseRelative(bytes, nowMicros: nowMicros)
        }
        return parseRFC3339(bytes)
    }

    private static func parseRelative(_ bytes: [UInt8], nowMicros: Int64) -> Int64? {
        guard bytes.count >= 3, let unit = bytes.last else { return nil }
        let scale: Int64
        switch unit {
        case UInt8(ascii: "s"): scale = 1_000_000
        case UInt8(ascii: "m"): scale = 60_000_000
        case UInt8(ascii: "h"): scale = 3_600_000_000
        case UInt8(ascii: "d"): scale = 86_400_000_000
        case UInt8(ascii: "w"): scale = 604_800_000_000
        default: return nil
        }
        guard let amount = Int64(String(decoding: bytes[1..<(bytes.count - 1)], as: UTF8.self)), amount >= 0 else {
            return nil
        }
        let (offset, overflow) = amount.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        return bytes[0] == UInt8(ascii: "-") ? nowMicros - offset : nowMicros + offset
    }

    private static func parseRFC3339(_ bytes: [UInt8]) -> Int64? {
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        let midnight = days(fromCivil: year, month, day) * 86_400_000_000
        if index == bytes.count { return midnight }
        guard expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2), hour < 24, minute < 60, second < 61  // 60: a leap second, read as :59 + 1 s
        else { return nil }
        var micros = midnight + ((hour * 60 + minute) * 60 + second) * 1_000_000
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digitCount = 0
            var fraction: Int64 = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if digitCount < 6 { fraction = fraction * 10 + Int64(bytes[index] - 0x30) }
                digitCount += 1
                index += 1
            }
            guard digitCount >= 1, digitCount <= 9 else { return nil }
            for _ in digitCount..<max(digitCount, 6) { fraction *= 10 }
            micros += fraction
        }
        guard index < bytes.count else { return nil }  // RFC 3339 requires an offset
        if expect("Zz") { return index == bytes.count ? micros : nil }
        guard index < bytes.count else { return nil }
        let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
        guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
              index == bytes.count, offsetHours < 24, offsetMinutes < 60
        else { return nil }
        return micros - sign * (offsetHours * 60 + offsetMinutes) * 60_000_000
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let quotient = a / b
        let remainder = a % b
        return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
