/// What `/healthz` reports about the file watcher.
public struct WatcherState: Sendable, Codable, Equatable {
    /// "inotify", or "polling" where inotify is unavailable.
    public var mode: String
    public var running: Bool
    /// Folders watched.
    public var folders: Int
    /// When the watcher last showed it was alive (it beats every half second).
    public var heartbeatAt: String?
    /// When the last file event arrived.
    public var lastEventAt: String?
    /// Seconds from the first event of the last burst to the end of the refresh that took it in.
    public var lagSeconds: Double?
    /// Events waiting for the debounce to end.
    public var pendingEvents: Int
    /// Times a stalled watcher was restarted.
    public var restarts: Int
    /// When the last full rescan (the safety net) ran.
    public var lastRescanAt: String?

    public init(
        mode: String, running: Bool, folders: Int, heartbeatAt: String?, lastEventAt: String?, lagSeconds: Double?,
        pendingEvents: Int, restarts: Int, lastRescanAt: String?
    ) {
        self.mode = mode
        self.running = running
        self.folders = folders
        self.heartbeatAt = heartbeatAt
        self.lastEventAt = lastEventAt
        self.lagSeconds = lagSeconds
        self.pendingEvents = pendingEvents
        self.restarts = restarts
        self.lastRescanAt = lastRescanAt
    }
}
