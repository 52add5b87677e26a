/// Every weight, threshold and limit the packing stages use, in one value that tests and
/// `ctxmem-bench --policy` can vary. ``default`` is what ctxmem ships; docs/packing.md ("Tuning:
/// what each constant does and what was measured") gives the recall measured for the values tried.
///
/// Limits are whole numbers; shares of the budget are divisors (`budget / 200`), so the default
/// arithmetic is exact and packs stay byte for byte what they were.
public struct PackingPolicy: Sendable, Equatable {
    // MARK: Candidates (stage 2)

    /// How many sections BM25 ranks for the task, and as many for the role...
    public var rankLimit = 2_000
    /// ...but no more than one per this many tokens of budget (at least ``rankFloor``): a small pack
    /// (a hook's, 2,700 tokens) holds a few dozen sections, and ranking and reading 2,000 candidates
    /// was most of its time on a large memory. Packs of 10,000 tokens and more rank ``rankLimit``.
    public var budgetTokensPerRanked = 5
    /// The fewest sections ranked, whatever the budget.
    public var rankFloor = 250
    /// How many sections the profile's `include` globs bring in as candidates.
    public var includeLimit = 5_000
    /// How many of the documents that match the task best come in whole as candidates: the
    /// neighbours of an answer are usually part of it, even when their own words rank low.
    public var answeringDocuments = 10

    // MARK: Ranking: a candidate's score (stage 3)

    /// Weight of the task's BM25 score, normalised by its best match: the task counts most.
    public var taskWeight = 1.0
    /// Weight of the role's score (name, description and keywords) when there is a task.
    public var roleWeight = 0.5
    /// Weight of the role's score when there is no task: the role is then all there is to go by.
    public var roleWeightWithoutTask = 1.0
    /// Share of the gap to the best task match in its document a section gets: a section of a
    /// document that answers the task is worth more than its own words say.
    public var documentWeight = 0.6
    /// Added when the path matches the profile's `include` globs.
    public var includeBoost = 0.3
    /// Added when an essential file links to or imports the section's document.
    public var linkBoost = 0.15

    // MARK: Ranking: content or pointer (stage 3)

    /// Below this score a candidate is at most a pointer.
    public var contentThreshold = 0.12
    /// A task match this strong (a share of the best) lets in a tier the profile does not list;
    /// a candidate whose whole score is this strong may be trimmed to fit.
    public var strongTaskMatch = 0.35
    /// A document the essentials link to lets in a tier the profile does not list when the task
    /// matches one of its sections this well (a share of the best): the project points there.
    public var linkedDocumentTaskMatch = 0.25
    /// Added to the sections of an agent's latest report (a handoff) that bears on the task, for
    /// the agents the pack hears from (its own type, and those its definition names).
    public var relatedReportBoost = 0.5
    /// A report bears on the task when the index ranks it for the task, or when its recorded task
    /// has at least this share of the task's words.
    public var relatedReportOverlap = 0.5
    /// A report's score is multiplied by this once for each newer report of the same agent type.
    public var supersededReportFactor = 0.5

    // MARK: Fill (stage 5)

    /// How many of the most relevant sections go first, best first, whatever their size, before
    /// the fill by value per token (which alone let small, loosely related sections crowd them out).
    public var mostRelevantFirst = 20
    /// Sections shorter than this count as this long in the value per token, so that a heading
    /// with one line does not outrank the section that answers the task.
    public var minimumRankingTokens = 120.0
    /// A trimmed section keeps at least this many tokens, or it is only pointed to.
    public var minimumTrimTokens = 100
    /// At most this many sections are trimmed in one pack; what else does not fit is pointed to.
    public var maximumTrims = 8
    /// Sections at least this long are skipped when their content is already in; shorter ones
    /// never are (`## Notes` alone is not content).
    public var duplicateMinimumTokens = 16

    // MARK: Budget (stages 4 to 7)

    /// The slack, kept back from the fill for what costing section by section misses, is this
    /// many tokens plus the budget divided by ``slackDivisor``.
    public var slackTokens = 16
    /// The slack grows by one token per this many tokens of budget.
    public var slackDivisor = 200
    /// The fill leaves room for pointers: the budget divided by this, at most ``pointerReserveLimit``.
    public var pointerReserveDivisor = 20
    /// The most tokens the fill leaves for pointers.
    public var pointerReserveLimit = 3_000
    /// A hook's pack leaves the budget divided by this for pointers: in 10,000 characters a handle
    /// (a line) says more per token than a section's text, and the agent reads it with read_memory.
    public var hookPointerReserveDivisor = 4
    /// Rounds of filling the room a render leaves (consecutive sections share one source line, so
    /// the render is smaller than the sum of the costs) with what did not fit.
    public var maximumRefills = 3
    /// A refill round runs only when the render leaves more than this many slacks unused.
    public var refillRoomInSlacks = 2
    /// A render over the budget by at most this many tokens gives back its last pointer; by more,
    /// its least valuable section.
    public var pointerDropLimit = 64

    /// What ctxmem ships.
    public static let `default` = PackingPolicy()

    /// The default policy: the fields' initial values.
    public init() {}
}
