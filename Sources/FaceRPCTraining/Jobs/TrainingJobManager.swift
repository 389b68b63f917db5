import FaceRPCCore
import Foundation
import Logging
import Synchronization

/// Starts, tracks, cancels and resumes training jobs; one runs at a time.
///
/// Jobs run on a dedicated thread each (training is minutes of blocking
/// compute: never on the event loops or Swift's cooperative pool). Progress
/// goes to memory on every step, and to `job.json` at every checkpoint and
/// state change, so a server restarted after a crash or kill -9 finds the job
/// `running` and resumes it from its latest valid checkpoint.
public final class TrainingJobManager: Sendable {
    /// Named limits.
    public enum Limits {
        /// Watchers of one job at once; more get RESOURCE_EXHAUSTED upstream.
        public static let maxWatchersPerJob = 64
        /// Updates buffered per watcher; a slow watcher skips to the newest.
        public static let watchBuffer = 8
        /// Jobs listed from disk at start-up (older ones stay on disk, unlisted).
        public static let maxJobsRemembered = 1000
    }

    public let stateDirectory: String
    private let dataRoot: DataRoot?
    private let publisher: (any TrainedModelPublisher)?
    private let logger: Logger
    private let makeTrainer: TrainerFactory
    private let observe: @Sendable (TrainingProgress) -> Void
    private let jobs = Mutex<[String: JobEntry]>([:])
    private let idCounter = Atomic<UInt32>(UInt32.random(in: 0...0xffff))

    /// One job in memory.
    private struct JobEntry: Sendable {
        var record: JobRecord
        var control: RunControl?
        var thread: RunThread?
        var watchers: [UInt64: AsyncStream<TrainingProgress>.Continuation] = [:]
    }

    /// - Parameters:
    ///   - stateDirectory: where jobs, checkpoints and reports live (created if missing).
    ///   - dataRoot: the only place datasets are read from; nil refuses every Start.
    ///   - publisher: registers trained models; nil keeps them as checkpoints only.
    ///   - makeTrainer: builds each job's trainer (the Levi-Hassner one unless a test scripts its own).
    ///   - observe: told of every progress change (metrics); must not block.
    public init(stateDirectory: String, dataRoot: DataRoot?, publisher: (any TrainedModelPublisher)?, logger: Logger,
                makeTrainer: @escaping TrainerFactory = leviHassnerTrainerFactory,
                observe: @escaping @Sendable (TrainingProgress) -> Void = { _ in }) throws {
        self.makeTrainer = makeTrainer
        self.observe = observe
        self.stateDirectory = stateDirectory
        self.dataRoot = dataRoot
        self.publisher = publisher
        self.logger = logger
        try AtomicFile.makeDirectories(JobFiles.jobsDirectory(state: stateDirectory))
        loadRecords()
    }

    // MARK: Calls

    /// Validates `spec`, checks the dataset path, and starts the job in the background.
    /// - Returns: its first progress (state `running`).
    /// - Throws: ``TrainingJobError``, or ``TrainingDataError`` for a path outside the data root or missing.
    public func start(_ spec: TrainingJobSpec) throws -> TrainingProgress {
        guard let dataRoot else {
            throw TrainingJobError.unavailable("training is off: start the server with --data-root DIR")
        }
        try spec.validate()
        // Resolve now so a bad path is the caller's error, not a failed job later.
        _ = try dataRoot.resolve(spec.data)
        if let validation = spec.validationData { _ = try dataRoot.resolve(validation) }
        let id = newJobID()
        var progress = TrainingProgress(jobID: id, model: spec.modelName, state: .queued)
        progress.totalSteps = spec.steps ?? 0
        let record = JobRecord(spec: spec, progress: progress, createdAt: Date().timeIntervalSince1970)
        try jobs.withLock { jobs throws in
            if let running = jobs.values.first(where: { !$0.record.progress.state.isTerminal && $0.thread != nil }) {
                throw TrainingJobError.busy(runningJob: running.record.progress.jobID)
            }
            try AtomicFile.makeDirectories(directory(of: id))
            try JobFiles.writeJSON(record, to: directory(of: id) + "/job.json")
            jobs[id] = JobEntry(record: record)
        }
        logger.info("training job started", metadata: ["job": "\(id)", "task": "\(spec.task.rawValue)", "data": "\(spec.data)"])
        launch(id)
        progress.state = .running
        return progress
    }

    /// The job's current progress; `jobID` empty means the newest job.
    public func status(jobID: String) throws(TrainingJobError) -> TrainingProgress {
        try jobs.withLock { jobs throws(TrainingJobError) in try Self.entry(jobID, in: jobs).record.progress }
    }

    /// Every known job, newest first.
    public func list() -> [TrainingProgress] {
        jobs.withLock { jobs in jobs.values.sorted { $0.record.createdAt > $1.record.createdAt }.map(\.record.progress) }
    }

    /// The current progress at once, then every change; finishes after the
    /// job reaches a final state (or at once if it already has).
    public func watch(jobID: String) throws(TrainingJobError) -> AsyncStream<TrainingProgress> {
        let (stream, continuation) = AsyncStream.makeStream(of: TrainingProgress.self, bufferingPolicy: .bufferingNewest(Limits.watchBuffer))
        let key = UInt64.random(in: 0...UInt64.max)
        let id: String = try jobs.withLock { jobs throws(TrainingJobError) in
            let entry = try Self.entry(jobID, in: jobs)
            let id = entry.record.progress.jobID
            continuation.yield(entry.record.progress)
            if entry.record.progress.state.isTerminal {
                continuation.finish()
            } else {
                guard entry.watchers.count < Limits.maxWatchersPerJob else {
                    throw .unavailable("job '\(id)' already has \(Limits.maxWatchersPerJob) watchers")
                }
                jobs[id]!.watchers[key] = continuation
            }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.jobs.withLock { $0[id]?.watchers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Asks the job to stop at its next step; it writes a checkpoint and ends `cancelled`.
    /// Cancelling a finished job is a no-op that returns its final progress.
    public func cancel(jobID: String) throws(TrainingJobError) -> TrainingProgress {
        try jobs.withLock { jobs throws(TrainingJobError) in
            let entry = try Self.entry(jobID, in: jobs)
            entry.control?.request(.cancel)
            return entry.record.progress
        }
    }

    /// The evaluation report of a succeeded job.
    public func report(jobID: String) throws -> TrainingReport {
        let progress = try status(jobID: jobID)
        guard progress.state == .succeeded else { throw TrainingJobError.notFinished(progress.jobID) }
        return try JobFiles.readJSON(TrainingReport.self, from: directory(of: progress.jobID) + "/report.json")
    }

    /// Resumes every job a previous server left `queued` or `running` (killed,
    /// crashed or stopped mid-run): the newest runs; older ones fail, as only one may run.
    public func resumeInterrupted() {
        let interrupted = jobs.withLock { jobs in
            jobs.values.filter { !$0.record.progress.state.isTerminal && $0.thread == nil }
                .sorted { $0.record.createdAt > $1.record.createdAt }.map(\.record.progress.jobID)
        }
        for (index, id) in interrupted.enumerated() {
            if index == 0 {
                logger.info("resuming training job", metadata: ["job": "\(id)"])
                launch(id)
            } else {
                update(id, persist: true) { progress in
                    progress.state = .failed
                    progress.error = "interrupted by a server restart while job \(interrupted[0]) was resumed instead"
                }
            }
        }
    }

    /// Stops the running job at its next step with a checkpoint, leaving it
    /// `running` on disk so the next server resumes it; waits up to `timeout`.
    public func shutdown(timeout: Duration = .seconds(60)) {
        let threads = jobs.withLock { jobs in
            jobs.values.compactMap { entry -> RunThread? in
                entry.control?.request(.shutdown)
                return entry.thread
            }
        }
        for thread in threads { thread.wait(timeout: timeout) }
    }

    // MARK: Internals

    private func directory(of id: String) -> String { JobFiles.jobsDirectory(state: stateDirectory) + "/" + id }

    private static func entry(_ jobID: String, in jobs: [String: JobEntry]) throws(TrainingJobError) -> JobEntry {
        if jobID.isEmpty {
            guard let newest = jobs.values.max(by: { $0.record.createdAt < $1.record.createdAt }) else { throw .notFound("") }
            return newest
        }
        guard JobFiles.isValidJobID(jobID), let entry = jobs[jobID] else { throw .notFound(jobID) }
        return entry
    }

    private func newJobID() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        let n = idCounter.wrappingAdd(1, ordering: .relaxed).newValue & 0xffff
        let hex = String(n, radix: 16)
        return "job-\(stamp)-" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    private func loadRecords() {
        let root = JobFiles.jobsDirectory(state: stateDirectory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var loaded: [String: JobEntry] = [:]
        for name in names.sorted().suffix(Limits.maxJobsRemembered) where JobFiles.isValidJobID(name) {
            do {
                let record = try JobFiles.readJSON(JobRecord.self, from: root + "/" + name + "/job.json")
                guard record.progress.jobID == name else { continue }
                loaded[name] = JobEntry(record: record)
            } catch {
                logger.warning("unreadable training job skipped", metadata: ["job": "\(name)", "error": "\(error)"])
            }
        }
        jobs.withLock { $0 = loaded }
    }

    private func launch(_ id: String) {
        let control = RunControl()
        let thread = RunThread()
        let (record, ok) = jobs.withLock { jobs -> (JobRecord?, Bool) in
            guard jobs[id] != nil else { return (nil, false) }
            jobs[id]!.control = control
            jobs[id]!.thread = thread
            return (jobs[id]!.record, true)
        }
        guard ok, let record, let dataRoot else {
            if ok { update(id, persist: true) { $0.state = .failed; $0.error = "training is off: no --data-root" } }
            return
        }
        let run = TrainingRun(jobID: id, spec: record.spec, directory: directory(of: id), dataRoot: dataRoot,
                              publisher: publisher, control: control, makeTrainer: makeTrainer, logger: logger) { [weak self] progress in
            self?.update(id, persist: progress.state != record.progress.state || progress.state.isTerminal) { $0 = progress }
        }
        thread.start { [weak self] in
            let final = run.run(initial: record.progress)
            // A shutdown leaves the job running on disk (resumed by the next
            // server); everything else is final and persisted.
            self?.update(id, persist: true, finished: true) { $0 = final }
        }
    }

    /// Applies `change`, tells the watchers, and persists `job.json` when asked
    /// or when a checkpoint was written.
    private func update(_ id: String, persist: Bool, finished: Bool = false, _ change: (inout TrainingProgress) -> Void) {
        let (record, watchers, checkpointMoved) = jobs.withLock { jobs -> (JobRecord?, [AsyncStream<TrainingProgress>.Continuation], Bool) in
            guard var entry = jobs[id] else { return (nil, [], false) }
            let before = entry.record.progress.checkpoint
            change(&entry.record.progress)
            let progress = entry.record.progress
            let watchers = Array(entry.watchers.values)
            if finished {
                entry.thread = nil
                entry.control = nil
                entry.watchers = [:]
            } else if progress.state.isTerminal {
                entry.watchers = [:]
            }
            jobs[id] = entry
            return (entry.record, watchers, before != progress.checkpoint)
        }
        guard let record else { return }
        observe(record.progress)
        for watcher in watchers {
            watcher.yield(record.progress)
            if record.progress.state.isTerminal || finished { watcher.finish() }
        }
        if persist || checkpointMoved {
            do {
                try JobFiles.writeJSON(record, to: directory(of: id) + "/job.json")
            } catch {
                logger.error("cannot persist training job", metadata: ["job": "\(id)", "error": "\(error)"])
            }
        }
    }
}

/// A joinable thread with a big stack for one run.
final class RunThread: Sendable {
    private let done = Mutex<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            done.withLock { $0 = true }
            finished.signal()
        }
        thread.name = "facerpc-training"
        thread.stackSize = 16 << 20
        thread.start()
    }

    func wait(timeout: Duration) {
        if done.withLock({ $0 }) { return }
        if finished.wait(timeout: .now() + .milliseconds(Int(timeout.inSeconds * 1000))) == .success {
            finished.signal()  // let other waiters through
        }
    }
}
