import FaceRPCProtos

/// What the server needs to know about models to answer ListModels and
/// per-model health. The registry provides it; tests provide fakes.
public protocol ModelCatalog: Sendable {
    /// Every model the server knows, in a stable order.
    func listModels() -> [ModelInfo]
    /// The serving status of one model, or nil when no model has that name.
    func servingStatus(ofModel name: String) -> HealthCheckResponse.ServingStatus?
}
