import ContextMemory
import Foundation
import Synchronization

/// Keeps the index in step with the files: inotify events, debounced, trigger an incremental
/// refresh; a full rescan runs periodically as a safety net (and replaces inotify where it is not
/// available or the kernel's watch limit is reached). A reader that stops beating is restarted.
public actor MemoryWatcher {
    public struct Timing: Sendable {
        /// Quiet time after the last event before refreshing (a save writes several events).
        public var debounce: Duration = .milliseconds(150)
        /// Longest wait under a continuous stream of events.
        public var maximumDelay: Duration = .seconds(1)
        /// Full rescan interval, whatever inotify says.
        public var rescanInterval: Duration = .seconds(60)
        /// A reader silent for this long is considered stalled and restarted.
        public var stallTimeout: Duration = .seconds(5)

        public init() {}
    }

    private let coordinator: IndexCoordinator
    private let timing: Timing
    private var reader: InotifyReader?
    private var mode = "inotify"
    private var firstPendingEvent: ContinuousClock.Instant?
    private var lastPendingEvent: ContinuousClock.Instant?
    private var pendingEvents = 0
    private var lastEventAt: Date?
    private var lagSeconds: Double?
    private var restarts = 0
    private var lastRescan = ContinuousClock.now
    private var lastRescanAt: Date?
    private var running = false

    public init(coordinator: IndexCoordinator, timing: Timing = Timing()) {
        self.coordinator = coordinator
        self.timing = timing
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
            try? await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            if let reader, now - reader.lastHeartbeat > timing.stallTimeout {
                reader.stop()
                restarts += 1
                startReader()
                firstPendingEvent = firstPendingEvent ?? now  // events may have been lost: rescan
                lastPendingEvent = now - timing.debounce
            }
            if let first = firstPendingEvent, let last = lastPendingEvent,
               now - last >= timing.debounce || now - first >= timing.maximumDelay {
                firstPendingEvent = nil
                lastPendingEvent = nil
                pendingEvents = 0
                if (try? await coordinator.refresh()) != nil {
                    lagSeconds = Self.seconds(ContinuousClock.now - first)
                }
            } else if now - lastRescan >= (mode == "polling" ? .seconds(2) : timing.rescanInterval) {
                lastRescan = now
                lastRescanAt = Date()
                _ = try? await coordinator.refresh()
            }
        }
    }

    /// Events from the reader thread.
    func note(events: Int) {
        let now = ContinuousClock.now
        firstPendingEvent = firstPendingEvent ?? now
        lastPendingEvent = now
        pendingEvents += events
        lastEventAt = Date()
    }

    /// Makes the reader stop beating, as a hung reader would (tests of the stall detection).
    public func simulateStall() {
        reader?.freeze()
    }

    public func state() -> WatcherState {
        WatcherState(mode: mode, running: running && (reader != nil || mode == "polling"), folders: reader?.folderCount ?? 0,
                     heartbeatAt: reader.map { IndexCoordinator.timestamp($0.lastHeartbeatDate) },
                     lastEventAt: lastEventAt.map(IndexCoordinator.timestamp), lagSeconds: lagSeconds,
                     pendingEvents: pendingEvents, restarts: restarts, lastRescanAt: lastRescanAt.map(IndexCoordinator.timestamp))
    }

    private func startReader() {
        let service = coordinator.service
        let rootPath = FileTreeWalker.realPath(service.root.path) ?? service.root.path
        let indexFolder = URL(fileURLWithPath: service.databasePath).deletingLastPathComponent().standardizedFileURL.path
        do {
            let reader = try InotifyReader(root: rootPath, ignoring: [indexFolder]) { [weak self] count in
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

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// One inotify instance watching every folder of the root (except the skipped ones), read by its
/// own thread so a blocking `poll` never holds a Swift concurrency thread.
final class InotifyReader: Sendable {
    private struct State {
        var heartbeat = ContinuousClock.now
        var heartbeatDate = Date()
        var stopped = false
        var frozen = false
        var folders: [Int32: String] = [:]
    }

    private let descriptor: Int32
    private let root: String
    private let ignoring: [String]
    private let onEvents: @Sendable (Int) -> Void
    private let state = Mutex(State())

    struct Unavailable: Error {}

    static let mask: UInt32 = UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE)
        | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF) | UInt32(IN_ONLYDIR)

    init(root: String, ignoring: [String], onEvents: @escaping @Sendable (Int) -> Void) throws {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw Unavailable() }
        self.descriptor = descriptor
        self.root = root
        self.ignoring = ignoring
        self.onEvents = onEvents
        guard watchTree(root) else {
            close(descriptor)
            throw Unavailable()
        }
        let thread = Thread { [self] in self.loop() }
        thread.name = "ctxmem-inotify"
        thread.start()
    }

    var lastHeartbeat: ContinuousClock.Instant { state.withLock { $0.heartbeat } }
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
                    state.heartbeat = .now
                    state.heartbeatDate = Date()
                }
                return (state.stopped, state.frozen)
            }
            if stopped { return }
            if frozen { usleep(100_000); continue }
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
                    let name = event.len > 0
                        ? String(cString: Array(bytes[nameStart..<min(count, nameStart + Int(event.len))]) + [0])
                        : ""
                    offset = nameStart + Int(event.len)
                    if event.mask & UInt32(IN_ISDIR) != 0, event.mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0,
                       let parent = state.withLock({ $0.folders[event.wd] }), !FileTreeWalker.skippedFolders.contains(name) {
                        newFolders.append(parent + "/" + name)
                    }
                    if event.mask & UInt32(IN_IGNORED) != 0 { _ = state.withLock { $0.folders.removeValue(forKey: event.wd) } }
                    events += 1
                }
            }
            for folder in newFolders { _ = watchTree(folder) }
            if events > 0 { onEvents(events) }
        }
    }
}
