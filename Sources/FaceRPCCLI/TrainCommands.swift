import ArgumentParser
import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation

/// `facerpc train`: starts a training job on the server.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Start a Levi-Hassner training job on the server.",
        discussion: """
        Options left out take the seed trainer's defaults (docs/TRAINING.md). --data is a \
        path under the server's --data-root: a CSV (path,age,gender), a folder of \
        UTKFace-style files, or class folders. Prints the job id alone on the last line; \
        with --follow it first shows live progress and exits 1 unless the job succeeds. Exit status 2 means the server could not be reached, 1 that it refused the call.
        """
    )

    @OptionGroup var address: AddressOptions

    @Option(help: "age or gender.")
    var task: String

    @Option(help: "Dataset path under the server's --data-root.")
    var data: String

    @Option(help: "Validation CSV under the data root (default: hold out --validation-fraction).")
    var validationData: String?

    @Option(help: "Fraction held out for validation (default 0.2).")
    var validationFraction: Float?

    @Option(help: "momentum, adadelta or adam (default momentum).")
    var optimizer: String = "momentum"

    @Option(help: "Optimizer steps (default 40000 unless --epochs).")
    var steps: UInt32?

    @Option(help: "Epochs over the training set, instead of --steps.")
    var epochs: UInt32?

    @Option(help: "Batch size (default 128).")
    var batch: UInt32?

    @Option(help: "Learning rate (default 0.01).")
    var lr: Float?

    @Option(help: "Staircase decay factor (default 0.1).")
    var lrDecayRate: Float?

    @Option(help: "Steps between decays (default 10000).")
    var lrDecaySteps: UInt32?

    @Option(help: "Momentum (default 0.9).")
    var momentum: Float?

    @Option(help: "L2 weight decay on conv and fc weights (default 0.0005).")
    var weightDecay: Float?

    @Option(help: "Gradient clipping by global norm (default 4).")
    var clipNorm: Float?

    @Option(help: "Dropout probability, pdrop (default 0.5).")
    var dropout: Float?

    @Option(help: "Steps between checkpoints (default 1000).")
    var checkpointEvery: UInt32?

    @Option(help: "Registry name of the trained model (default lh-age / lh-gender).")
    var model: String?

    @Flag(help: "Serve the trained version when the job succeeds.")
    var promote = false

    @Option(help: "Seed for initialisation, shuffling, augmentation and dropout.")
    var seed: UInt64 = 0

    @Option(help: "Kernel threads on the server (default: all its cores).")
    var threads: UInt32?

    @Flag(help: "Show live progress until the job ends.")
    var follow = false

    @Flag(help: "With --follow: one JSON object per update instead of the progress bar.")
    var json = false

    func validate() throws {
        guard ["age", "gender"].contains(task) else { throw ValidationError("--task must be age or gender") }
        guard ["momentum", "adadelta", "adam"].contains(optimizer) else { throw ValidationError("--optimizer must be momentum, adadelta or adam") }
        if steps != nil && epochs != nil { throw ValidationError("give --steps or --epochs, not both") }
    }

    func run() async throws {
        var request = TrainRequest()
        request.task = task == "age" ? .age : .gender
        request.data = data
        request.validationData = validationData ?? ""
        request.validationFraction = validationFraction ?? 0
        request.optimizer = optimizer == "adam" ? .adam : optimizer == "adadelta" ? .adadelta : .momentum
        request.steps = steps ?? 0
        request.epochs = epochs ?? 0
        request.batchSize = batch ?? 0
        request.learningRate = lr ?? 0
        request.lrDecayRate = lrDecayRate ?? 0
        request.lrDecaySteps = lrDecaySteps ?? 0
        request.momentum = momentum ?? 0
        request.weightDecay = weightDecay ?? 0
        request.clipNorm = clipNorm ?? 0
        request.dropout = dropout ?? 0
        request.checkpointEvery = checkpointEvery ?? 0
        request.modelName = model ?? ""
        request.promote = promote
        request.seed = seed
        request.threads = threads ?? 0

        let endpoint = try address.endpoint()
        let status: TrainStatus
        let connection: FaceRPCConnection
        do {
            connection = try await address.connect(timeout: .seconds(10))
            status = try TrainStatus(serializedBytes: try await connection.unary(
                method: Methods.trainStart, request: request.serializedBytes(), timeout: .seconds(60)))
        } catch {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(TrainingWatch.exitCode(for: error))
        }
        var final = status
        if follow {
            final = try await TrainingWatch.follow(connection: connection, jobID: status.jobID, json: json)
        }
        await connection.close()
        print(status.jobID)
        if follow && final.state != .succeeded { throw ExitCode(1) }
    }
}

/// `facerpc train-status`: a job's progress, once or live.
struct TrainStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-status",
        abstract: "Show a training job's progress (default: the newest job).",
        discussion: """
        --json prints one object per line with the keys job, model, state, step, total_steps, \
        epoch, loss, loss_avg, train_accuracy, val_accuracy, learning_rate, \
        examples_per_second, eta_seconds, checkpoint, error and version.
        """
    )

    @OptionGroup var address: AddressOptions

    @Argument(help: "Job id (default: the newest job).")
    var job: String = ""

    @Flag(help: "Keep printing updates until the job ends.")
    var follow = false

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() async throws {
        let endpoint = try address.endpoint()
        do {
            let connection = try await address.connect(timeout: .seconds(10))
            let status = try TrainStatus(serializedBytes: try await connection.unary(
                method: Methods.trainStatus, request: TrainJobRequest(jobID: job).serializedBytes(), timeout: .seconds(10)))
            if follow {
                _ = try await TrainingWatch.follow(connection: connection, jobID: status.jobID, json: json)
            } else {
                print(json ? TrainingWatch.jsonLine(status) : TrainingWatch.summary(status))
            }
            await connection.close()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(TrainingWatch.exitCode(for: error))
        }
    }
}

/// `facerpc train-report`: the evaluation of a finished job.
struct TrainReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-report",
        abstract: "Print a finished job's evaluation: accuracy, per-class precision/recall/F1, confusion matrix.",
        discussion: "--plot FILE.svg also writes the loss and accuracy curves."
    )

    @OptionGroup var address: AddressOptions

    @Argument(help: "Job id.")
    var job: String

    @Option(help: "Write the training curves to this SVG file.")
    var plot: String?

    @Flag(help: "The report as one JSON object.")
    var json = false

    func run() async throws {
        let endpoint = try address.endpoint()
        let report: TrainReport
        do {
            let connection = try await address.connect(timeout: .seconds(10))
            report = try TrainReport(serializedBytes: try await connection.unary(
                method: Methods.trainReport, request: TrainJobRequest(jobID: job).serializedBytes(), timeout: .seconds(30)))
            await connection.close()
        } catch {
            FileHandle.standardError.write(Data("error: \(endpoint): \(error)\n".utf8))
            throw ExitCode(TrainingWatch.exitCode(for: error))
        }
        if json {
            print(TrainingReportFormat.json(report))
        } else {
            print(TrainingReportFormat.text(report), terminator: "")
        }
        if let plot {
            do {
                try Data(TrainingCurvesSVG.render(report).utf8).write(to: URL(fileURLWithPath: plot))
            } catch {
                FileHandle.standardError.write(Data("error: cannot write \(plot): \(error.localizedDescription)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

/// Following a job: the Watch stream, shown as a progress bar or JSON lines.
enum TrainingWatch {
    /// Prints updates until the job ends; returns the last status.
    static func follow(connection: FaceRPCConnection, jobID: String, json: Bool) async throws -> TrainStatus {
        let interactive = isatty(STDERR_FILENO) == 1 && !json
        var last = TrainStatus()
        var lastPrinted = ContinuousClock.now - .seconds(10)
        do {
            for try await payload in connection.serverStreaming(method: Methods.trainWatch,
                                                                request: TrainJobRequest(jobID: jobID).serializedBytes(),
                                                                timeout: .seconds(86_400)) {
                let status = try TrainStatus(serializedBytes: payload)
                last = status
                let final = status.state != .running && status.state != .queued
                if json {
                    print(jsonLine(status))
                    fflush(nil)
                } else if interactive {
                    FileHandle.standardError.write(Data(("\r\u{1B}[2K" + bar(status)).utf8))
                } else if final || ContinuousClock.now - lastPrinted >= .seconds(5) {
                    // Logs and pipes get a line every few seconds, not a redraw per step.
                    FileHandle.standardError.write(Data((bar(status) + "\n").utf8))
                    lastPrinted = ContinuousClock.now
                }
            }
        } catch {
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            throw error
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        if !json { FileHandle.standardError.write(Data((summary(last) + "\n").utf8)) }
        return last
    }

    /// As `facerpc predict`: 2 when the server cannot be reached, 1 when it answered with an error.
    static func exitCode(for error: any Error) -> Int32 {
        guard let rpc = error as? RPCError else { return 1 }
        return rpc.code == .unavailable ? 2 : 1
    }

    static func stateName(_ state: TrainState) -> String {
        switch state {
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .unspecified: "unspecified"
        case .unrecognized(let n): "state-\(n)"
        }
    }

    /// `[#####.....] 1200/40000 loss 1.93 (avg 2.01) acc 0.31 val 0.29 52.1 img/s ETA 2h03m`
    static func bar(_ s: TrainStatus) -> String {
        let width = 24
        let fraction = s.totalSteps == 0 ? 0 : min(1, Double(s.step) / Double(s.totalSteps))
        let filled = Int(fraction * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(s.step)/\(s.totalSteps) ep \(s.epoch) loss \(fmt(s.loss)) (avg \(fmt(s.lossAvg))) "
            + "acc \(fmt(s.trainAccuracy)) val \(fmt(s.valAccuracy)) \(fmt(s.examplesPerSecond, 1)) img/s "
            + "ETA \(duration(s.etaSeconds))"
    }

    static func summary(_ s: TrainStatus) -> String {
        var line = "job \(s.jobID) model \(s.model) \(stateName(s.state)) step \(s.step)/\(s.totalSteps) epoch \(s.epoch) "
            + "loss \(fmt(s.loss)) avg \(fmt(s.lossAvg)) train_acc \(fmt(s.trainAccuracy)) val_acc \(fmt(s.valAccuracy))"
        if !s.checkpoint.isEmpty { line += " checkpoint \(s.checkpoint)" }
        if !s.version.isEmpty { line += " version \(s.version)" }
        if !s.error.isEmpty { line += " error: \(s.error)" }
        return line
    }

    static func jsonLine(_ s: TrainStatus) -> String {
        let object: [String: Any] = [
            "job": s.jobID, "model": s.model, "state": stateName(s.state), "step": s.step, "total_steps": s.totalSteps,
            "epoch": s.epoch, "loss": Double(s.loss), "loss_avg": Double(s.lossAvg), "train_accuracy": Double(s.trainAccuracy),
            "val_accuracy": Double(s.valAccuracy), "learning_rate": Double(s.learningRate),
            "examples_per_second": Double(s.examplesPerSecond), "eta_seconds": Double(s.etaSeconds),
            "checkpoint": s.checkpoint, "error": s.error, "version": s.version,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func fmt(_ x: Float, _ digits: Int = 3) -> String {
        guard x.isFinite else { return "\(x)" }
        return String(format: "%.\(digits)f", Double(x))
    }

    static func duration(_ seconds: Float) -> String {
        guard seconds.isFinite, seconds > 0 else { return "-" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}

/// The report as text (classification_report layout) or JSON.
enum TrainingReportFormat {
    static func text(_ r: TrainReport) -> String {
        let s = r.status ?? TrainStatus()
        var out = "job \(s.jobID)  model \(s.model)  version \(s.version.isEmpty ? "-" : s.version)  "
            + "task \(r.task == .age ? "age" : "gender")  steps \(s.step)  validation examples \(r.examples)\n\n"
        let width = max(12, (r.labels.map(\.count).max() ?? 0) + 2)
        func pad(_ x: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - x.count)) + x }
        func f(_ x: Float) -> String { String(format: "%.2f", Double(x)) }
        out += pad("", width) + pad("precision", 11) + pad("recall", 9) + pad("f1-score", 10) + pad("support", 9) + "\n\n"
        for c in r.classes {
            out += pad(c.label, width) + pad(f(c.precision), 11) + pad(f(c.recall), 9) + pad(f(c.f1), 10) + pad("\(c.support)", 9) + "\n"
        }
        out += "\n" + pad("accuracy", width) + pad("", 20) + pad(f(r.accuracy), 10) + pad("\(r.examples)", 9) + "\n"
        out += pad("macro f1", width) + pad("", 20) + pad(f(r.macroF1), 10) + pad("\(r.examples)", 9) + "\n"
        if r.task == .age { out += pad("one-off", width) + pad("", 20) + pad(f(r.oneOffAccuracy), 10) + pad("\(r.examples)", 9) + "\n" }
        out += pad("baseline", width) + pad("", 20) + pad(f(r.baselineAccuracy), 10) + pad("\(r.examples)", 9)
            + "   (always the most frequent class)\n"
        let k = r.labels.count
        if k > 0, r.confusion.count == k * k {
            out += "\nconfusion matrix (rows: true, columns: predicted)\n"
            let cell = max(7, (r.confusion.max().map { String($0).count } ?? 1) + 2)
            out += pad("", width) + r.labels.map { pad($0, max(cell, $0.count + 1)) }.joined() + "\n"
            for t in 0..<k {
                out += pad(r.labels[t], width)
                    + (0..<k).map { pad("\(r.confusion[t * k + $0])", max(cell, r.labels[$0].count + 1)) }.joined() + "\n"
            }
        }
        return out
    }

    static func json(_ r: TrainReport) -> String {
        let s = r.status ?? TrainStatus()
        let object: [String: Any] = [
            "job": s.jobID, "model": s.model, "version": s.version, "task": r.task == .age ? "age" : "gender",
            "examples": r.examples, "accuracy": Double(r.accuracy), "one_off_accuracy": Double(r.oneOffAccuracy),
            "macro_f1": Double(r.macroF1), "baseline_accuracy": Double(r.baselineAccuracy), "labels": r.labels,
            "confusion": r.confusion.map { Int($0) },
            "classes": r.classes.map { ["label": $0.label, "precision": Double($0.precision), "recall": Double($0.recall),
                                        "f1": Double($0.f1), "support": Int($0.support)] as [String: Any] },
            "curve": r.curve.map { ["step": Int($0.step), "loss": Double($0.loss), "loss_avg": Double($0.lossAvg),
                                    "train_accuracy": Double($0.trainAccuracy), "val_accuracy": Double($0.valAccuracy),
                                    "learning_rate": Double($0.learningRate), "epoch": Int($0.epoch)] as [String: Any] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The seed's two plots (loss, accuracy against step) as one self-contained SVG.
enum TrainingCurvesSVG {
    static func render(_ r: TrainReport) -> String {
        let width = 900.0, panelHeight = 300.0, margin = 60.0
        let points = r.curve
        let maxStep = Double(points.map(\.step).max() ?? 1).clamped(min: 1)
        let losses = points.flatMap { [Double($0.loss), Double($0.lossAvg)] }.filter(\.isFinite)
        let maxLoss = (losses.max() ?? 1).clamped(min: 1e-6) * 1.05
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(2 * panelHeight + 40))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
        func panel(_ index: Int, title: String, yMax: Double, series: [(name: String, color: String, values: [(Double, Double)])]) {
            let top = Double(index) * (panelHeight + 20) + 20
            let plotW = width - 2 * margin, plotH = panelHeight - 60
            func x(_ step: Double) -> Double { margin + step / maxStep * plotW }
            func y(_ v: Double) -> Double { top + 20 + plotH - min(max(v / yMax, 0), 1) * plotH }
            svg += "<text x=\"\(margin)\" y=\"\(top + 10)\" font-weight=\"bold\">\(title)</text>\n"
            svg += "<rect x=\"\(margin)\" y=\"\(top + 20)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#999\"/>\n"
            for tick in 0...4 {
                let v = yMax * Double(tick) / 4
                svg += "<text x=\"\(margin - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
                let s = maxStep * Double(tick) / 4
                svg += "<text x=\"\(x(s))\" y=\"\(top + 20 + plotH + 16)\" text-anchor=\"middle\">\(Int(s))</text>\n"
            }
            svg += "<text x=\"\(margin + plotW / 2)\" y=\"\(top + 20 + plotH + 32)\" text-anchor=\"middle\">step</text>\n"
            for (n, s) in series.enumerated() where !s.values.isEmpty {
                let path = s.values.map { "\(String(format: "%.1f", x($0.0))),\(String(format: "%.1f", y($0.1)))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
                if s.values.count == 1 || s.name.hasPrefix("validation") {
                    for (sx, sy) in s.values { svg += "<circle cx=\"\(x(sx))\" cy=\"\(y(sy))\" r=\"3\" fill=\"\(s.color)\"/>\n" }
                }
                svg += "<text x=\"\(margin + plotW - 150)\" y=\"\(top + 36 + Double(n) * 16)\" fill=\"\(s.color)\">\(s.name)</text>\n"
            }
        }
        panel(0, title: "loss", yMax: maxLoss, series: [
            ("loss", "#9ecae1", points.map { (Double($0.step), Double($0.loss)) }),
            ("loss (moving average)", "#08519c", points.map { (Double($0.step), Double($0.lossAvg)) }),
        ])
        panel(1, title: "accuracy", yMax: 1, series: [
            ("training (moving average)", "#31a354", points.map { (Double($0.step), Double($0.trainAccuracy)) }),
            ("validation", "#e6550d", points.filter { $0.valAccuracy > 0 }.map { (Double($0.step), Double($0.valAccuracy)) }),
        ])
        svg += "</svg>\n"
        return svg
    }
}

private extension Double {
    func clamped(min lower: Double) -> Double { Swift.max(self, lower) }
}
