import Foundation
import GRDB

/// An index run's writes streamed into one transaction on the store's connection (GRDB's writer
/// thread) while parsing goes on in other tasks: a cold index no longer parses first and writes
/// after. Nothing is visible to readers before ``finish(_:)`` commits.
final class SQLiteWriteSession: IndexWriteSession {
    private enum Item: Sendable {
        case upsert(IndexedFile)
        case finish(IndexChanges)
        case cancel
    }

    private let items = BlockingQueue<Item>()
    private let transaction: Task<Void, any Error>
    private let path: String

    init(writer store: SQLiteWriter) {
        path = store.path
        let items = items
        let database = store.connection.database
        transaction = Task {
            try await database.write { db in
                let writer = try SQLiteWriter.TransactionWriter(db, store: store)
                while true {
                    var item = items.nextIfReady()
                    if item == nil {
                        // Nothing parsed yet: spend the wait indexing the text written so far, so
                        // that little full-text work is left for the end, when parsing is over. At
                        // most 8,000 sections at a time: a longer pause lets parsed files pile up in
                        // memory (unbounded: +40 MB peak at 50 MB); much smaller ones make FTS5
                        // write many small segments (2,000: a 25% larger index).
                        try writer.indexWrittenText(minimumSections: 1_000, maximumSections: 8_000)
                        item = items.next()
                    }
                    switch item! {
                    case .upsert(let file): try writer.upsert(file)
                    case .finish(let changes):
                        try writer.finish(changes)
                        return
                    case .cancel: throw CancellationError()
                    }
                }
            }
        }
    }

    func upsert(_ file: IndexedFile) {
        items.append(.upsert(file))
    }

    func finish(_ changes: IndexChanges) async throws {
        items.append(.finish(changes))
        do {
            try await transaction.value
        } catch {
            throw SQLiteConnection.translate(error, path: path)
        }
    }

    func cancel() async {
        items.append(.cancel)
        _ = try? await transaction.value
    }
}

/// A FIFO whose reader blocks until an element arrives (the writer thread waits for parsed files).
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    // Every access to `elements` holds `condition`'s lock.
    private let condition = NSCondition()
    private var elements: [Element] = []
    private var head = 0

    func append(_ element: Element) {
        condition.lock()
        elements.append(element)
        condition.signal()
        condition.unlock()
    }

    /// The next element if one is waiting, without blocking.
    func nextIfReady() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        guard head < elements.count else { return nil }
        let element = elements[head]
        head += 1
        return element
    }

    func next() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while head == elements.count { condition.wait() }
        let element = elements[head]
        head += 1
        if head > 1024, head * 2 > elements.count {
            elements.removeFirst(head)
            head = 0
        }
        return element
    }
}
