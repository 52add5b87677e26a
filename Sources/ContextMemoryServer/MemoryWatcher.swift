import ContextMemory
import Foundation
import Synchronization

/// Keeps the index in step with the files: inotify events, debounced, trigger an incremental
/// refresh; a full rescan runs periodically as a safety net (and replaces inotify where it is not
/// available or the kernel's watch limit is reached). A reader that stops beating is restarted.
///
/// Every duration (debounce, rescan interval, heartbeat silence, lag) is measured on the clock the
/// watcher is given, as Hummingbird's `MemoryPersistDriver<C: Clock>` does: `ContinuousClock` in
/// `ctxmem serve`, a clock the test moves by hand in the tests, which therefore never sleep.
///
/// ```swift
/// let watcher = MemoryWatcher(coordinator: coordinator)  // on ContinuousClock
/// let watching = Task { await watcher.run() }
/// // ... watching.cancel() stops it
/// ```
public actor MemoryWatcher<C: Clock> where C.Duration == Duration {
    public struct Timing: Sendable {
        /// Quiet time after the last event before refreshing (a save writes several events).
        public var debounce: Duration
        /// Longest wait under a continuous stream of events.
        public var maximumDelay: Duration
        /// Full rescan interval, whatever inotify says.
        public var rescanInterval: Duration
        /// A reader silent for this long is considered stalled and restarted.
        public var stallTimeout: Duration

        /// The defaults are what `ctxmem serve` uses (docs/service.md).
        public init(
            debounce: Duration = .milliseconds(150), maximumDelay: Duration = .seconds(1),
            rescanInterval: Duration = .seconds(60), stallTimeout: Duration = .seconds(5)
        ) {
            self.debounce = debounce
            self.maximumDelay = maximumDelay
            self.rescanInterval = rescanInterval
            self.stallTimeout = stallTimeout
        }
    }

    /// How often the loop looks at pending events, the reader's heartbeat and the rescan.
    static var tick: Duration { .milliseconds(50) }
    /// The rescan interval in polling mode (no reader).
    static var pollingInterval: Duration { .seconds(2) }

    /// Starts the event reader for a root, ignoring some folders, calling back with event counts;
    /// throws when it cannot (the watcher then polls).
    typealias ReaderFactory =
        @Sendable (
            _ root: String, _ ignoring: [String],
            _ onEvents: @escaping @Sendable (Int) -> Void
        ) throws -> any EventReader<C.Instant>

    private let coordinator: IndexCoordinator
    private let timing: Timing
    private let clock: C
    private let wallClock: @Sendable () -> Date
    private let makeReader: ReaderFactory
    private var reader: (any EventReader<C.Instant>)?
    private var mode = "inotify"
    private var firstPendingEvent: C.Instant?
    private var lastPendingEvent: C.Instant?
    private var pendingEvents = 0
    private var lastEventAt: Date?
    private var lagSeconds: Double?
    private var restarts = 0
    private var lastRescan: C.Instant
    private var lastRescanAt: Date?
    private var running = false

    /// A watcher on `ContinuousClock`, as `ctxmem serve` runs it.
    public init(coordinator: IndexCoordinator, timing: Timing = Timing()) where C == ContinuousClock {
        self.init(coordinator: coordinator, timing: timing, clock: .continuous)
    }

    /// A watcher on `clock`, which measures the debounce, the rescan interval, the reader's
    /// silence and the lag (the timestamps `/healthz` shows stay wall-clock time).
    public init(coordinator: IndexCoordinator, timing: Timing = Timing(), clock: C) {
        let wallClock: @Sendable () -> Date = { Date() }
        self.init(coordinator: coordinator, timing: timing, clock: clock, wallClock: wallClock) {
            root, ignoring, onEvents in
            try InotifyReader(root: root, ignoring: ignoring, clock: clock, wallClock: wallClock, onEvents: onEvents)
        }
    }

    /// A watcher whose events come from the reader `makeReader` starts (tests pass a stand-in,
    /// or a factory that throws to get polling), with the timestamps of `wallClock`.
    init(
        coordinator: IndexCoordinator, timing: Timing, clock: C, wallClock: @escaping @Sendable () -> Date,
        makeReader: @escaping ReaderFactory
    ) {
        self.coordinator = coordinator
        self.timing = timing
        self.clock = clock
        self.wallClock = wallClock
        self.makeReader = makeReader
        self.lastRescan = clock.now
    }

    /// Watches until the task is cancelled.
    public func run() async {
        running = true
        defer {
            running = false
            reader?.stop()
            reader = nil
        }
        startReader()
        while !Task.isCancelled {
            try? await clock.sleep(for: Self.tick)
            await look()
        }
    }

    /// One round of the loop: restarts a stalled reader, refreshes once a burst of events has
    /// settled, and otherwise rescans when the interval is up.
    private func look() async {
        let now = clock.now
        if let reader, reader.lastHeartbeat.duration(to: now) > timing.stallTimeout {
            reader.stop()
            restarts += 1
            startReader()
            firstPendingEvent = firstPendingEvent ?? now  // events may have been lost: rescan
            lastPendingEvent = now.advanced(by: .zero - timing.debounce)
        }
        if let first = firstPendingEvent, let last = lastPendingEvent,
            last.duration(to: now) >= timing.debounce || first.duration(to: now) >= timing.maximumDelay
        {
            firstPendingEvent = nil
            lastPendingEvent = nil
            pendingEvents = 0
            if (try? await coordinator.refresh()) != nil {
                lagSeconds = first.duration(to: clock.now).seconds
            }
        } else if lastRescan.duration(to: now) >= (mode == "polling" ? Self.pollingInterval : timing.rescanInterval) {
            lastRescan = now
            lastRescanAt = wallClock()
            _ = try? await coordinator.refresh()
        }
    }

    /// Events from the reader thread.
    func note(events: Int) {
        let now = clock.now
        firstPendingEvent = firstPendingEvent ?? now
        lastPendingEvent = now
        pendingEvents += events
        lastEventAt = wallClock()
    }

    /// Makes the reader stop beating, as a hung reader would (tests of the stall detection).
    public func simulateStall() {
        reader?.freeze()
    }

    /// What `/healthz` and `/metrics` report about the watcher.
    public func state() -> WatcherState {
        WatcherState(
            mode: mode, running: running && (reader != nil || mode == "polling"), folders: reader?.folderCount ?? 0,
            heartbeatAt: reader.map { IndexCoordinator.timestamp($0.lastHeartbeatDate) },
            lastEventAt: lastEventAt.map(IndexCoordinator.timestamp), lagSeconds: lagSeconds,
            pendingEvents: pendingEvents, restarts: restarts, lastRescanAt: lastRescanAt.map(IndexCoordinator.timestamp)
        )
    }

    private func startReader() {
        let service = coordinator.service
        let rootPath = FileTreeWalker.realPath(service.root.path) ?? service.root.path
        let indexFolder = URL(fileURLWithPath: service.databasePath).deletingLastPathComponent().standardizedFileURL
            .path
        do {
            let reader = try makeReader(rootPath, [indexFolder]) { [weak self] count in
                guard let self else { return }
                Task { await self.note(events: count) }
            }
            self.reader = reader
            mode = "inotify"
        } catch {
            reader = nil
            mode = "polling"  // no inotify (or out of watches): rescan every 2 s instead
        }
    }
}

/// What the watcher needs of the thread that reads file events: ``InotifyReader``, or in tests a
/// stand-in whose heartbeat the test controls.
protocol EventReader<Instant>: AnyObject, Sendable {
    associatedtype Instant: InstantProtocol
    /// When the reader last went round its loop, on the watcher's clock (at least every 250 ms
    /// while it is alive).
    var lastHeartbeat: Instant { get }
    /// The same moment as a timestamp, for `/healthz`.
    var lastHeartbeatDate: Date { get }
    /// Folders watched.
    var folderCount: Int { get }
    /// Ends the reader; its thread exits on its next round.
    func stop()
    /// Stops the heartbeat while the thread lives on, as a hung reader would.
    func freeze()
}

/// One inotify instance watching every folder of the root (except the skipped ones), read by its
/// own thread so a blocking `poll` never holds a Swift concurrency thread. Its heartbeat is read
/// from the watcher's clock.
final class InotifyReader<C: Clock>: EventReader where C.Duration == Duration {
    private struct State {
        var heartbeat: C.Instant
        var heartbeatDate: Date
        var stopped = false
        var frozen = false
        var folders: [Int32: String] = [:]
    }

    private let descriptor: Int32
    private let root: String
    private let ignoring: [String]
    private let clock: C
    private let wallClock: @Sendable () -> Date
    private let onEvents: @Sendable (Int) -> Void
    private let state: Mutex<State>

    struct Unavailable: Error {}

    static var mask: UInt32 {
        UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE)
            | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF)
            | UInt32(IN_ONLYDIR)
    }

    init(
        root: String, ignoring: [String], clock: C, wallClock: @escaping @Sendable () -> Date,
        onEvents: @escaping @Sendable (Int) -> Void
    ) throws {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw Unavailable() }
        self.descriptor = descriptor
        self.root = root
        self.ignoring = ignoring
        self.clock = clock
        self.wallClock = wallClock
        self.onEvents = onEvents
        self.state = Mutex(State(heartbeat: clock.now, heartbeatDate: wallClock()))
        guard watchTree(root) else {
            close(descriptor)
            throw Unavailable()
        }
        let thread = Thread { [self] in self.loop() }
        thread.name = "ctxmem-inotify"
        thread.start()
    }

    var lastHeartbeat: C.Instant { state.withLock { $0.heartbeat } }
    var lastHeartbeatDate: Date { state.withLock { $0.heartbeatDate } }
    var folderCount: Int { state.withLock { $0.folders.count } }

    func stop() { state.withLock { $0.stopped = true } }
    func freeze() { state.withLock { $0.frozen = true } }

    /// Adds a watch on `folder` and every folder below it; false when the kernel refuses (limit).
    private func watchTree(_ folder: String) -> Bool {
        var pending = [folder]
        while let current = pending.popLast() {
            if ignoring.contains(where: { current == $0 || current.hasPrefix($0 + "/") }) { continue }
            let watch = inotify_add_watch(descriptor, current, Self.mask)
            if watch < 0 {
                if errno == ENOSPC || errno == ENOMEM { return false }
                continue  // vanished or unreadable: the rescan covers it
            }
            state.withLock { $0.folders[watch] = current }
            guard let directory = opendir(current) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                guard name != ".", name != "..", !FileTreeWalker.skippedFolders.contains(name) else { continue }
                if entry.pointee.d_type == UInt8(DT_DIR) { pending.append(current + "/" + name) }
            }
        }
        return true
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        defer { close(descriptor) }
        while true {
            let (stopped, frozen) = state.withLock { state -> (Bool, Bool) in
                if !state.frozen {
                    state.heartbeat = clock.now
                    state.heartbeatDate = wallClock()
                }
                return (state.stopped, state.frozen)
            }
            if stopped { return }
            if frozen {
                usleep(100_000)
                continue
            }
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptorSet, 1, 250) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            var events = 0
            var offset = 0
            var newFolders: [String] = []
            buffer.withUnsafeBytes { bytes in
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let name =
                        event.len > 0
                        ? String(cString: Array(bytes[nameStart..<min(count, nameStart + Int(event.len))]) + [0])
                        : ""
                    offset = nameStart + Int(event.len)
                    if event.mask & UInt32(IN_ISDIR) != 0, event.mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0,
                        let parent = state.withLock({ $0.folders[event.wd] }),
                        !FileTreeWalker.skippedFolders.contains(name)
                    {
                        newFolders.append(parent + "/" + name)
                    }
                    if event.mask & UInt32(IN_IGNORED) != 0 {
                        _ = state.withLock { $0.folders.removeValue(forKey: event.wd) }
                    }
                    events += 1
                }
            }
            for folder in newFolders { _ = watchTree(folder) }
            if events > 0 { onEvents(events) }
        }
    }
}
