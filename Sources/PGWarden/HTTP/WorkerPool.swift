#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads that run jobs from a bounded queue: the HTTP server hands them the
/// requests that may block (a scrape, a webhook, a bcrypt check), so libmicrohttpd's polling
/// threads never wait. A full queue refuses the job instead of growing.
/// `@unchecked Sendable`: `jobs`, `running` and `stopping` are only touched under `mutex`.
final class WorkerPool: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [Job] = []
    private var head = 0
    private var running = 0
    private var stopping = false
    private var threads: [pthread_t] = []
    let capacity: Int
    let name: String

    /// Starts `threadCount` threads; at most `capacity` jobs wait at once.
    init(name: String, threads threadCount: Int, capacity: Int) {
        self.name = name
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        for _ in 0..<threadCount {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(&thread, nil, workerMain, context)
            if rc == 0 {
                threads.append(thread)
            } else {
                Unmanaged<WorkerPool>.fromOpaque(context).release()
            }
        }
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Queues a job; false when the queue is full, the pool is stopping or has no thread.
    /// `accepted` runs once the job is sure to be queued and before any worker can start it
    /// (the server suspends the connection there, so the job's resume always follows it).
    func submit(_ job: @escaping Job, accepted: () -> Void = {}) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopping, !threads.isEmpty, jobs.count - head < capacity else { return false }
        accepted()
        jobs.append(job)
        pthread_cond_signal(cond)
        return true
    }

    /// Jobs waiting or running.
    var pending: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return jobs.count - head + running
    }

    /// Runs the queued jobs to the end, then ends the threads (joined before returning).
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(cond)
        let started = threads
        threads = []
        pthread_mutex_unlock(mutex)
        for thread in started { pthread_join(thread, nil) }
    }

    /// One thread's loop: take a job, run it, until stopping and the queue is empty.
    fileprivate func work() {
        pthread_mutex_lock(mutex)
        while true {
            while head == jobs.count && !stopping { pthread_cond_wait(cond, mutex) }
            if head == jobs.count { break }
            let job = jobs[head]
            head += 1
            if head > 64 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            running += 1
            pthread_mutex_unlock(mutex)
            job()
            pthread_mutex_lock(mutex)
            running -= 1
        }
        pthread_mutex_unlock(mutex)
    }
}

/// The thread entry point: a non-capturing function that takes the retained pool.
private func workerMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let pool = Unmanaged<WorkerPool>.fromOpaque(context).takeRetainedValue()
    pool.work()
    return nil
}
