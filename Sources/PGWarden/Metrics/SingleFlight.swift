#if canImport(Glibc)
import Glibc
#endif

/// Lets callers that arrive while a computation is in flight wait for it and share its result,
/// instead of starting their own (concurrent scrapes share one database round trip).
/// `@unchecked Sendable`: every mutable field is read and written only with `mutex` held.
public final class SingleFlight<Value: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var running = false
    private var generation = 0
    private var last: Value?

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Runs `body`, or joins the run already in progress and returns its result.
    /// The second element is true when this caller shared another caller's run.
    public func run(_ body: () -> Value) -> (Value, shared: Bool) {
        pthread_mutex_lock(mutex)
        if running {
            let awaited = generation
            while generation == awaited { pthread_cond_wait(cond, mutex) }
            let value = last!
            pthread_mutex_unlock(mutex)
            return (value, true)
        }
        running = true
        pthread_mutex_unlock(mutex)
        let value = body()
        pthread_mutex_lock(mutex)
        last = value
        generation &+= 1
        running = false
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        return (value, false)
    }
}
