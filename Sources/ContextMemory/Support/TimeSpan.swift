public import Foundation

/// Ages and moments as people type them: `30d`, `12h`, `45m`, `2w`, `90s` for an age;
/// `2026-12-01` or `2026-12-01T09:00:00Z` for a moment (`ctxmem status --since`, `ctxmem handoffs
/// prune --older-than`, `GET /v1/status?since=`).
public enum TimeSpan {
    /// The seconds of an age such as `30d`; nil when `text` is not one.
    public static func seconds(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = trimmed.last, let count = Double(trimmed.dropLast()), count >= 0, count.isFinite else {
            return nil
        }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3_600
        case "d": return count * 86_400
        case "w": return count * 7 * 86_400
        default: return nil
        }
    }

    /// The moment `text` names: an age before `now` (`2d`), a date (midnight UTC) or an ISO 8601 time.
    public static func moment(_ text: String, now: Date = Date()) -> Date? {
        if let seconds = seconds(text) { return now.addingTimeInterval(-seconds) }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: trimmed)
    }

    /// What the options accept, for messages.
    public static let accepted =
        "an age such as 30d, 12h, 45m or 2w, a date such as 2026-12-01, or a time such as 2026-12-01T09:00:00Z"
}
