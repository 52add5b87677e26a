/// Why the index cannot be used, with what to do about it.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    /// No index at the path yet.
    case missing(path: String)
    /// Another process holds the write lock.
    case locked(path: String)
    /// The file is not a usable SQLite database.
    case corrupt(path: String, detail: String)
    /// The root is not a readable folder.
    case invalidRoot(path: String, detail: String)
    /// Built by another version of ctxmem (or never finished).
    case outdated(path: String)
    /// Any other database failure.
    case database(path: String, detail: String)

    public var description: String {
        switch self {
        case .missing(let path):
            "no index at \(path); run `ctxmem index` first"
        case .locked(let path):
            "the index at \(path) is locked by another process (another `ctxmem index` or `ctxmem serve`?); try again when it is done"
        case .corrupt(let path, let detail):
            "the index at \(path) is damaged (\(detail)); run `ctxmem index --rebuild` to recreate it (the index is derived data: nothing is lost)"
        case .invalidRoot(let path, let detail):
            "cannot use \(path) as the memory root: \(detail)"
        case .outdated(let path):
            "the index at \(path) was made by another version of ctxmem; run `ctxmem index` to bring it up to date"
        case .database(let path, let detail):
            "index \(path): \(detail)"
        }
    }
}
