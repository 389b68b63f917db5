import CoreMetrics
import NIOConcurrencyHelpers

/// `facerpc_model_info{model, version, state} 1`: which version of each model
/// is loaded and in what state, in the info-metric style (join on it in
/// PromQL). A model whose version or state changes gets a new series and the
/// old one is removed, so a dashboard never shows two live versions of one model.
public final class ModelMetrics: Sendable {
    /// What the registry says about one model.
    public struct Model: Hashable, Sendable {
        public var name: String
        public var version: String
        public var state: String
        public init(name: String, version: String, state: String) {
            self.name = name; self.version = version; self.state = state
        }
    }

    private let factory: any MetricsFactory
    private let live = NIOLockedValueBox<[Model: Gauge]>([:])

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Makes the info series match `models` exactly. Cheap enough to call
    /// before every scrape.
    public func update(_ models: [Model]) {
        let wanted = Set(models.map {
            Model(name: MetricLimits.boundedLabel($0.name), version: MetricLimits.boundedLabel($0.version),
                  state: MetricLimits.boundedLabel($0.state))
        })
        let factory = self.factory
        live.withLockedValue { live in
            for (model, gauge) in live where !wanted.contains(model) {
                gauge.destroy()
                live.removeValue(forKey: model)
            }
            for model in wanted where live[model] == nil {
                let gauge = Gauge(label: MetricCatalog.modelInfo.name,
                                  dimensions: [("model", model.name), ("version", model.version), ("state", model.state)],
                                  factory: factory)
                gauge.record(1)
                live[model] = gauge
            }
        }
    }
}
