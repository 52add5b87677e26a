import Foundation

/// Reading a policy from `name=value` pairs, so the benchmark can re-measure a constant without a rebuild:
/// `ctxmem-bench --relevance Bench/relevance-cases.json --policy documentWeight=0.3,mostRelevantFirst=10`.
extension PackingPolicy {
    /// A field as overrides name it: a weight or threshold, or a whole number with its least value.
    private enum Field {
        case real(WritableKeyPath<PackingPolicy, Double>)
        case whole(WritableKeyPath<PackingPolicy, Int>, minimum: Int)
    }

    /// Every field, by its name in Swift (a computed list: key paths are not `Sendable` statics).
    private static var fields: KeyValuePairs<String, Field> {
        [
            "rankLimit": .whole(\.rankLimit, minimum: 0),
            "budgetTokensPerRanked": .whole(\.budgetTokensPerRanked, minimum: 1),
            "rankFloor": .whole(\.rankFloor, minimum: 1),
            "includeLimit": .whole(\.includeLimit, minimum: 0),
            "answeringDocuments": .whole(\.answeringDocuments, minimum: 0),
            "taskWeight": .real(\.taskWeight),
            "roleWeight": .real(\.roleWeight),
            "roleWeightWithoutTask": .real(\.roleWeightWithoutTask),
            "documentWeight": .real(\.documentWeight),
            "includeBoost": .real(\.includeBoost),
            "linkBoost": .real(\.linkBoost),
            "contentThreshold": .real(\.contentThreshold),
            "strongTaskMatch": .real(\.strongTaskMatch),
            "linkedDocumentTaskMatch": .real(\.linkedDocumentTaskMatch),
            "relatedReportBoost": .real(\.relatedReportBoost),
            "relatedReportOverlap": .real(\.relatedReportOverlap),
            "supersededReportFactor": .real(\.supersededReportFactor),
            "mostRelevantFirst": .whole(\.mostRelevantFirst, minimum: 0),
            "minimumRankingTokens": .real(\.minimumRankingTokens),
            "minimumTrimTokens": .whole(\.minimumTrimTokens, minimum: 0),
            "maximumTrims": .whole(\.maximumTrims, minimum: 0),
            "duplicateMinimumTokens": .whole(\.duplicateMinimumTokens, minimum: 0),
            "slackTokens": .whole(\.slackTokens, minimum: 0),
            "slackDivisor": .whole(\.slackDivisor, minimum: 1),
            "pointerReserveDivisor": .whole(\.pointerReserveDivisor, minimum: 1),
            "pointerReserveLimit": .whole(\.pointerReserveLimit, minimum: 0),
            "hookPointerReserveDivisor": .whole(\.hookPointerReserveDivisor, minimum: 1),
            "maximumRefills": .whole(\.maximumRefills, minimum: 0),
            "refillRoomInSlacks": .whole(\.refillRoomInSlacks, minimum: 0),
            "pointerDropLimit": .whole(\.pointerDropLimit, minimum: 0),
        ]
    }

    /// The names ``overriding(_:)`` accepts, in the order the fields are declared.
    public static var fieldNames: [String] { fields.map(\.key) }

    /// This policy with `overrides` applied: comma-separated `name=value` pairs, names as the
    /// fields' (`documentWeight=0.3,mostRelevantFirst=10`). An empty string changes nothing.
    /// - Throws: ``PackingPolicyError`` naming the pair at fault and what is accepted.
    public func overriding(_ overrides: String) throws -> PackingPolicy {
        var policy = self
        for pair in overrides.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw PackingPolicyError(description: "'\(pair)' is not name=value")
            }
            guard let field = Self.fields.first(where: { $0.key == parts[0] })?.value else {
                let known = Self.fieldNames.joined(separator: ", ")
                throw PackingPolicyError(description: "no packing policy field named '\(parts[0])' (known: \(known))")
            }
            switch field {
            case .real(let path):
                guard let value = Double(parts[1]), value.isFinite else {
                    throw PackingPolicyError(description: "\(parts[0]) takes a number, not '\(parts[1])'")
                }
                policy[keyPath: path] = value
            case .whole(let path, let minimum):
                guard let value = Int(parts[1]), value >= minimum else {
                    throw PackingPolicyError(
                        description: "\(parts[0]) takes a whole number of \(minimum) or more, "
                            + "not '\(parts[1])'")
                }
                policy[keyPath: path] = value
            }
        }
        return policy
    }

    /// The fields that differ from `base`, as `name=value` pairs ``overriding(_:)`` reads back;
    /// empty for the same policy. What a measurement states it was made with.
    public func differences(from base: PackingPolicy = .default) -> String {
        Self.fields.compactMap { name, field in
            switch field {
            case .real(let path): self[keyPath: path] == base[keyPath: path] ? nil : "\(name)=\(self[keyPath: path])"
            case .whole(let path, _):
                self[keyPath: path] == base[keyPath: path] ? nil : "\(name)=\(self[keyPath: path])"
            }
        }.joined(separator: ",")
    }
}

/// An override ``PackingPolicy/overriding(_:)`` cannot apply.
public struct PackingPolicyError: Error, CustomStringConvertible, Equatable {
    public var description: String
}
