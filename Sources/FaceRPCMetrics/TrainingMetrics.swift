import CoreMetrics
import NIOConcurrencyHelpers

/// The state of a training job, as the `state` label of `facerpc_training_state`.
public enum TrainingJobState: String, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled
}

/// A training job's progress as gauges, labelled by job id and model:
/// step, total steps, progress ratio, loss, examples per second, and a 0/1
/// gauge per state (the kube-state-metrics style, so `== 1` selects the
/// current one).
///
/// The training job calls ``update(job:model:step:totalSteps:loss:examplesPerSecond:state:)``
/// as often as it likes (each call is a dictionary look-up under a lock and a
/// few atomic stores), and ``remove(job:model:)`` when the job is forgotten, so
/// finished jobs do not accumulate series forever.
public final class TrainingMetrics: Sendable {
    private struct JobKey: Hashable {
        var job: String
        var model: String
    }

    private final class JobGauges: Sendable {
        let step, totalSteps, progress, loss, throughput: Gauge
        let states: [(TrainingJobState, Gauge)]

        init(_ key: JobKey, factory: any MetricsFactory) {
            let dimensions = [("job", key.job), ("model", key.model)]
            func gauge(_ family: MetricFamilyDescription) -> Gauge {
                Gauge(label: family.name, dimensions: dimensions, factory: factory)
            }
            step = gauge(MetricCatalog.trainingStep)
            totalSteps = gauge(MetricCatalog.trainingTotalSteps)
            progress = gauge(MetricCatalog.trainingProgress)
            loss = gauge(MetricCatalog.trainingLoss)
            throughput = gauge(MetricCatalog.trainingThroughput)
            states = TrainingJobState.allCases.map {
                ($0, Gauge(label: MetricCatalog.trainingState.name, dimensions: dimensions + [("state", $0.rawValue)], factory: factory))
            }
        }

        var all: [Gauge] { [step, totalSteps, progress, loss, throughput] + states.map(\.1) }
    }

    /// The instance the static methods use, on the factory bootstrapped when it
    /// is first touched (`facerpc serve` bootstraps before anything trains).
    public static let shared = TrainingMetrics()

    private let factory: any MetricsFactory
    private let jobs = NIOLockedValueBox<[JobKey: JobGauges]>([:])

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Sets every gauge of one job.
    /// - Parameters:
    ///   - job: the job id (label; cut to ``MetricLimits/maxLabelValueBytes``).
    ///   - model: the model being trained, e.g. `lh-age`.
    ///   - step: optimizer steps done; `totalSteps`: steps planned (0 if unknown:
    ///     the progress ratio is then 0).
    ///   - loss: the latest training loss (NaN is exported as NaN).
    ///   - examplesPerSecond: recent training throughput.
    ///   - state: the job's state now.
    public func update(job: String, model: String, step: Int, totalSteps: Int, loss: Double,
                       examplesPerSecond: Double, state: TrainingJobState) {
        let gauges = self.gauges(job: job, model: model)
        gauges.step.record(step)
        gauges.totalSteps.record(totalSteps)
        gauges.progress.record(totalSteps > 0 ? min(1, max(0, Double(step) / Double(totalSteps))) : 0)
        gauges.loss.record(loss)
        gauges.throughput.record(examplesPerSecond)
        for (candidate, gauge) in gauges.states {
            gauge.record(candidate == state ? 1 : 0)
        }
    }

    /// Removes every series of one job.
    public func remove(job: String, model: String) {
        let key = JobKey(job: MetricLimits.boundedLabel(job), model: MetricLimits.boundedLabel(model))
        let removed = jobs.withLockedValue { $0.removeValue(forKey: key) }
        removed?.all.forEach { $0.destroy() }
    }

    /// ``update(job:model:step:totalSteps:loss:examplesPerSecond:state:)`` on ``shared``.
    public static func update(job: String, model: String, step: Int, totalSteps: Int, loss: Double,
                              examplesPerSecond: Double, state: TrainingJobState) {
        shared.update(job: job, model: model, step: step, totalSteps: totalSteps, loss: loss,
                      examplesPerSecond: examplesPerSecond, state: state)
    }

    /// ``remove(job:model:)`` on ``shared``.
    public static func remove(job: String, model: String) {
        shared.remove(job: job, model: model)
    }

    private func gauges(job: String, model: String) -> JobGauges {
        let key = JobKey(job: MetricLimits.boundedLabel(job), model: MetricLimits.boundedLabel(model))
        let factory = self.factory
        return jobs.withLockedValue { jobs in
            if let existing = jobs[key] { return existing }
            let made = JobGauges(key, factory: factory)
            jobs[key] = made
            return made
        }
    }
}
