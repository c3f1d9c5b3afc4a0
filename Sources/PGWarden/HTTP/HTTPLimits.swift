/// The HTTP server's bounds: how long a request may take to arrive, how many connections it
/// holds (in all and per client address), the memory of each, and its threads.
public struct HTTPLimits: Sendable, Equatable {
    /// Whole-request deadline: headers and body must be in within this time of the connection's
    /// start (or of the previous response on a kept-alive connection); trickling cannot extend it.
    public var requestTimeout: Duration = .seconds(10)
    /// Connections held at once; each costs a socket and at most `connectionMemoryBytes`, no thread.
    public var maxConnections = 4096
    /// Connections one client address may hold at once.
    public var maxConnectionsPerIP = 64
    /// libmicrohttpd's idle timeout: a connection with no traffic for this long is closed
    /// (covers a client that stops reading its response).
    public var idleTimeoutSeconds = 30
    /// Per-connection memory for the request line, headers and read buffer (libmicrohttpd's
    /// pool); a request whose headers do not fit is refused with 431.
    public var connectionMemoryBytes = 32 * 1024
    /// libmicrohttpd's epoll threads, which never block.
    public var pollingThreads = 2
    /// Threads for scrapes and other handlers that may wait on the database.
    public var workerThreads = 4
    /// Threads for the webhook and /actions.
    public var actionThreads = 2
    /// Requests that may wait for a worker; past it the answer is 503.
    public var queueCapacity = 256

    public init() {}
}
