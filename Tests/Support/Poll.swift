/// Waiting for what a real thread or process brings about (an inotify event, a task that starts):
/// polled, never timed.
public enum Poll {
    /// Checks `condition` every 10 ms until it holds, for at most `limit`; whether it came true.
    /// The limit only guards against a hang: what is waited for takes milliseconds, but the whole
    /// suite runs at once on two cores, so a long limit costs nothing when all is well.
    public static func until(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows
        -> Bool
    {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }
}
